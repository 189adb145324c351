import Fetch
import Foundation
import Reconcile
import Store

/// `mirrorctl init`: writes `mirrorctl.yaml` (the config file every command reads) and a starter
/// `mapping.yaml` from the settings it is given, then applies the default blueprints to Port.
/// It writes only what it knows: a setting that is neither in the environment nor a flag is left
/// as a commented line to fill in, never a made-up value, and secrets are referred to by file,
/// never copied.
enum InitCommand {
    static let spec = CommandSpec(
        name: "init", abstract: "Write mirrorctl.yaml and a starter mapping.yaml from your settings, then apply the default blueprints to Port.",
        usage: "init [--dir DIR] [--backstage-url URL] [--port-url URL] [--db PATH] [--mapping FILE] [--integration-id ID] [--force] [--skip-blueprints]",
        options: [OptionSpec(name: "dir", value: "DIR", help: "Where to write mirrorctl.yaml and mapping.yaml (default .)."),
                  OptionSpec(name: "backstage-url", value: "URL", help: "Backstage base URL or file:PATH (env BACKSTAGE_URL)."),
                  OptionSpec(name: "port-url", value: "URL", help: "Port API base URL (env PORT_BASE_URL; default https://api.getport.io)."),
                  OptionSpec(name: "db", value: "PATH", help: "Mirror database (env MIRROR_DB; default mirror.db next to the config)."),
                  OptionSpec(name: "mapping", value: "FILE", help: "Use this mapping (or port:INTEGRATION_ID) instead of writing mapping.yaml (env MIRROR_MAPPING)."),
                  IntegrationReporting.option,
                  OptionSpec(name: "force", value: nil, help: "Overwrite mirrorctl.yaml and mapping.yaml when they exist."),
                  OptionSpec(name: "skip-blueprints", value: nil, help: "Only write the files; apply blueprints later with 'mirrorctl blueprints apply'.")],
        discussion: """
            Settings come from the flags, then the environment (BACKSTAGE_URL, PORT_BASE_URL, MIRROR_DB,
            MIRROR_MAPPING, PORT_INTEGRATION_ID, and BACKSTAGE_TOKEN_FILE, PORT_CLIENT_ID_FILE,
            PORT_CLIENT_SECRET_FILE as file references). What is not given stays a commented line.
            Without Port credentials the files are written and the blueprints are left for
            'mirrorctl blueprints apply' (exit 0). Exit status: 0 done, 1 a file could not be written
            or Port refused, 2 a file exists (use --force) or a bad flag.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let console = context.console
        let folder = arguments.value("dir") ?? "."
        let settings = StarterSettings(arguments, environment: context.environment)
        var files: [(path: String, text: String)] = [("\(folder)/mirrorctl.yaml", settings.configText)]
        if settings.mapping == nil { files.append(("\(folder)/mapping.yaml", BuiltinMapping.yaml)) }
        let force = arguments.flag("force")
        if !force, let existing = files.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            throw UsageError("\(existing.path) already exists: nothing written (use --force to overwrite)", spec: spec)
        }
        try StarterFile.makeDirectory(folder)
        for file in files {
            try StarterFile.write(file.text, to: file.path)
            console.print("wrote \(file.path)")
        }
        for missing in settings.missing { console.logger.warn("init.unset", "\(missing) is not set: fill it in in \(files[0].path)") }
        if arguments.flag("skip-blueprints") { return .success }
        var port = Configuration(backstageURL: nil, backstageToken: nil, databasePath: "", mappingPath: nil, pageSize: 500, kinds: [])
        try port.loadPort(arguments, environment: context.environment)
        guard port.portCredentials != nil else {
            console.logger.warn("init.blueprints.skipped", "no Port credentials (PORT_CLIENT_ID and PORT_CLIENT_SECRET, or *_FILE): blueprints not applied; set them and run 'mirrorctl blueprints apply' (or pass --skip-blueprints to only write the files)")
            return .success
        }
        let report = try BlueprintsCommand.apply(BuiltinBlueprints.all, arguments: arguments, context: context)
        console.print("blueprints: \(BlueprintsCommand.summary(report))")
        return .success
    }
}

/// The settings `init` was given, and the `mirrorctl.yaml` they make.
struct StarterSettings {
    var backstageURL: String?
    var portURL: String?
    var database: String?
    var mapping: String?
    var integrationId: String?
    /// Config keys pointing at secret files, from `*_FILE` variables.
    var secretFiles: [(key: String, path: String)] = []
    /// Secrets set directly in the environment: named in a comment, never written.
    var secretVariables: [String] = []

    init(_ arguments: ParsedArguments, environment: [String: String]) {
        func given(_ flag: String, _ variable: String) -> String? {
            arguments.value(flag) ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        }
        backstageURL = given("backstage-url", "BACKSTAGE_URL")
        portURL = given("port-url", "PORT_BASE_URL")
        database = given("db", "MIRROR_DB").map(StarterSettings.absolute)
        mapping = given("mapping", "MIRROR_MAPPING").map { $0.hasPrefix(PortMappingSource.prefix) ? $0 : StarterSettings.absolute($0) }
        integrationId = given("integration-id", "PORT_INTEGRATION_ID")
        for (variable, section, key) in [("BACKSTAGE_TOKEN", "backstage", "tokenFile"), ("PORT_CLIENT_ID", "port", "clientIdFile"),
                                         ("PORT_CLIENT_SECRET", "port", "clientSecretFile")] {
            if !(environment[variable] ?? "").isEmpty {
                secretVariables.append(variable)
            } else if let path = environment["\(variable)_FILE"], !path.isEmpty {
                secretFiles.append(("\(section).\(key)", StarterSettings.absolute(path)))
            }
        }
    }

    /// Paths given relative to the working directory, made absolute: in the file they would be
    /// read relative to the file's folder.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") || path.hasPrefix("file:") ? path
            : URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// What the user still has to fill in.
    var missing: [String] { backstageURL == nil ? ["backstage.url (BACKSTAGE_URL)"] : [] }

    var configText: String {
        func quoted(_ text: String) -> String { CanonicalJSON.string(.string(text)) }
        func secretLines(_ section: String) -> String {
            secretFiles.filter { $0.key.hasPrefix(section + ".") }
                .map { "  \($0.key.dropFirst(section.count + 1)): \(quoted($0.path))\n" }.joined()
        }
        var text = """
            # mirrorctl configuration, written by 'mirrorctl init'. Every command reads ./mirrorctl.yaml
            # when present (or --config FILE, MIRROR_CONFIG=FILE). Precedence: flags > environment >
            # this file > defaults; 'mirrorctl config show' prints the effective values. Relative paths
            # are relative to this file's folder. Keep secrets out of it: point at files (*File keys).

            """
        if !secretVariables.isEmpty {
            text += "# Credentials come from the environment (\(secretVariables.joined(separator: ", "))); not written here.\n"
        }
        text += "backstage:\n"
        text += backstageURL.map { "  url: \(quoted($0))\n" } ?? "  # url: https://backstage.example.com   # required: your Backstage base URL (or file:PATH)\n"
        text += secretLines("backstage")
        if !secretFiles.contains(where: { $0.key.hasPrefix("backstage.") }) {
            text += "  # tokenFile: /run/secrets/mirrorctl/backstage-token   # when Backstage needs a static token\n"
        }
        text += "port:\n"
        text += portURL.map { "  url: \(quoted($0))\n" } ?? "  # url: https://api.getport.io   # the default; https://api.us.getport.io for Port's US region\n"
        text += secretLines("port")
        if !secretFiles.contains(where: { $0.key.hasPrefix("port.") }) {
            text += "  # clientIdFile: /run/secrets/mirrorctl/port-client-id\n  # clientSecretFile: /run/secrets/mirrorctl/port-client-secret\n"
        }
        text += integrationId.map { "  integrationId: \(quoted($0))\n" } ?? "  # integrationId: mirrorctl   # report each run's state to this Port integration\n"
        text += "db: \(quoted(database ?? "mirror.db"))\n"
        text += "mapping: \(quoted(mapping ?? "mapping.yaml"))\n"
        return text
    }
}

/// `init`'s file writes, with file-system errors as one line naming the path and the reason.
enum StarterFile {
    struct WriteError: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "init: cannot write \(path): \(reason)" }
    }

    /// Creates `path` and its missing parents (mode 0755).
    static func makeDirectory(_ path: String) throws(WriteError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw WriteError(path: prefix, reason: String(cString: strerror(errno))) }
            var status = stat()
            guard stat(prefix, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                throw WriteError(path: prefix, reason: "not a directory")
            }
            prefix += "/"
        }
    }

    /// Writes `text` (mode 0644, replacing the file).
    static func write(_ text: String, to path: String) throws(WriteError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw WriteError(path: path, reason: String(cString: strerror(errno)))
            }
            bytes = bytes.dropFirst(written)
        }
    }
}
