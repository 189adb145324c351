import Fetch
import Foundation
import Reconcile
import Store

enum BlueprintsCommand {
    static let spec = CommandSpec(
        name: "blueprints", abstract: "Create or update blueprints in Port (bare, then relations, then full).",
        usage: "blueprints apply [--file FILE] [--port-url URL] [--json]",
        options: [OptionSpec(name: "file", value: "FILE", help: "A JSON array of blueprints (default: the built-in seven)."),
                  OptionSpec(name: "port-url", value: "URL", help: "Port API base URL (env PORT_BASE_URL)."),
                  InsecureOption.spec,
                  OptionSpec(name: "json", value: nil, help: "Print {created, updated} as JSON.")],
        positionals: 1...1,
        discussion: "Needs PORT_CLIENT_ID and PORT_CLIENT_SECRET (or *_FILE). Safe to run again.")

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        guard arguments.positionals.first == "apply" else {
            throw UsageError("unknown blueprints action '\(arguments.positionals[0])' (expected: apply)", spec: spec)
        }
        let blueprints: [JSONValue]
        do {
            blueprints = try arguments.value("file").map(BlueprintInstaller.load(path:)) ?? BuiltinBlueprints.all
        } catch {
            throw UsageError("\(error)")
        }
        let report = try BlueprintsCommand.apply(blueprints, arguments: arguments, context: context)
        if arguments.flag("json") {
            context.console.json(["created": .array(report.created.map(JSONValue.string)),
                                  "updated": .array(report.updated.map(JSONValue.string))])
        } else {
            context.console.print("blueprints: \(report.created.count) created (\(report.created.joined(separator: ", "))), \(report.updated.count) updated")
        }
        return .success
    }

    static func apply(_ blueprints: [JSONValue], arguments: ParsedArguments, context: CommandContext) throws -> BlueprintInstaller.Report {
        var configuration = Configuration(backstageURL: nil, backstageToken: nil, databasePath: "", mappingPath: nil,
                                          pageSize: 500, kinds: [])
        try configuration.loadPort(arguments, environment: context.environment)
        try URLCredentials.reject([("the Port URL", configuration.portBaseURL)])
        InsecureOption.apply(arguments, to: &configuration.transport, console: context.console)
        guard let credentials = configuration.portCredentials else {
            throw UsageError("Port credentials missing: set PORT_CLIENT_ID and PORT_CLIENT_SECRET")
        }
        let installer = try BlueprintInstaller(settings: PortSettings(baseURL: configuration.portBaseURL, credentials: credentials,
                                                                      transport: configuration.transport))
        return try installer.apply(blueprints)
    }
}

enum InitCommand {
    static let spec = CommandSpec(
        name: "init", abstract: "Write a starter mapping (and env file), then apply the default blueprints to Port.",
        usage: "init [--dir DIR] [--skip-blueprints] [--port-url URL]",
        options: [OptionSpec(name: "dir", value: "DIR", help: "Where to write mapping.yaml and mirrorctl.env (default .)."),
                  OptionSpec(name: "skip-blueprints", value: nil, help: "Only write the files."),
                  OptionSpec(name: "port-url", value: "URL", help: "Port API base URL (env PORT_BASE_URL).")])

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let directory = URL(fileURLWithPath: arguments.value("dir") ?? ".")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let mapping = directory.appendingPathComponent("mapping.yaml")
        let env = directory.appendingPathComponent("mirrorctl.env")
        for (file, text) in [(mapping, BuiltinMapping.yaml), (env, starterEnvironment)] {
            if FileManager.default.fileExists(atPath: file.path) {
                context.console.print("kept existing \(file.path)")
            } else {
                try Data(text.utf8).write(to: file)
                context.console.print("wrote \(file.path)")
            }
        }
        if !arguments.flag("skip-blueprints") {
            let report = try BlueprintsCommand.apply(BuiltinBlueprints.all, arguments: arguments, context: context)
            context.console.print("blueprints: \(report.created.count) created, \(report.updated.count) updated")
        }
        return .success
    }

    static let starterEnvironment = """
        # mirrorctl settings: `set -a; . ./mirrorctl.env; set +a` then `mirrorctl sync`.
        BACKSTAGE_URL=http://localhost:7007
        # BACKSTAGE_TOKEN_FILE=/run/secrets/backstage-token
        MIRROR_DB=./mirror.db
        MIRROR_MAPPING=./mapping.yaml
        PORT_BASE_URL=https://api.getport.io
        # PORT_CLIENT_ID_FILE=/run/secrets/port-client-id
        # PORT_CLIENT_SECRET_FILE=/run/secrets/port-client-secret

        """
}
