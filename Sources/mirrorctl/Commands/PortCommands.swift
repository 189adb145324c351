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
        discussion: "Needs PORT_CLIENT_ID and PORT_CLIENT_SECRET (or *_FILE). Safe to run again.",
        actions: ["apply"])

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
            context.console.print("blueprints: \(BlueprintsCommand.summary(report))")
        }
        return .success
    }

    /// `7 created (user, group, …), 0 updated`: names only where there are some.
    static func summary(_ report: BlueprintInstaller.Report) -> String {
        func part(_ names: [String], _ verb: String) -> String {
            names.isEmpty ? "0 \(verb)" : "\(names.count) \(verb) (\(names.joined(separator: ", ")))"
        }
        return "\(part(report.created, "created")), \(part(report.updated, "updated"))"
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
                                                                      transport: configuration.portTransport))
        return try installer.apply(blueprints)
    }
}
