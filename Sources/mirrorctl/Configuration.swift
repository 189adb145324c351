import Foundation
import Fetch
import Store

/// Where a setting's effective value came from, for `config show` and messages.
enum SettingOrigin: Equatable, CustomStringConvertible {
    case flag(String)
    case environment(String)
    case file(String)
    case defaulted

    var description: String {
        switch self {
        case .flag(let name): return "flag \(name)"
        case .environment(let name): return "env \(name)"
        case .file(let place): return "file \(place)"
        case .defaulted: return "default"
        }
    }
}

/// Looks one setting up in the three places it may be given. Precedence lives in
/// `Configuration.load` (flags, then environment, then the config file, then defaults).
struct SettingSources {
    let arguments: ParsedArguments
    let environment: [String: String]
    var file: ConfigFile? { arguments.configFile }

    /// The first of `--flag`, `$env` (non-empty), `fileKey` in the config file.
    func text(flag: String?, env: String?, file key: String?) -> (value: String, origin: SettingOrigin)? {
        if let flag, let value = arguments.value(flag) { return (value, .flag("--\(flag)")) }
        if let env, let value = environment[env], !value.isEmpty { return (value, .environment(env)) }
        if let key, let value = file?.string(key) { return (value.value, .file(value.origin)) }
        return nil
    }

    /// A whole number in `range`; a bad value is a usage error naming where it was given.
    func int(flag: String?, env: String?, file key: String?, range: ClosedRange<Int>) throws(UsageError) -> (value: Int, origin: SettingOrigin)? {
        guard let (text, origin) = text(flag: flag, env: env, file: key) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("\(origin) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return (number, origin)
    }

    /// A duration (`30s`, `5m`, `1h`; a bare number is seconds) of at least `minimum` seconds.
    func duration(flag: String?, env: String?, file key: String?, minimum: Double = 0) throws(UsageError) -> (value: Double, origin: SettingOrigin)? {
        guard let (text, origin) = text(flag: flag, env: env, file: key) else { return nil }
        guard let seconds = DurationText.seconds(text), seconds >= minimum else {
            throw UsageError("\(origin) must be a duration such as 30s, 5m or 1h\(minimum > 0 ? " (at least \(DurationText.describe(minimum)))" : ""), got '\(text)'")
        }
        return (seconds, origin)
    }

    /// A secret from `NAME`, the file named by `NAME_FILE`, or the config file's `key` /
    /// `fileKey` (a path). Never returns where the value itself could be printed.
    func secret(_ name: String, file key: String, fileKey: String) throws(UsageError) -> (value: String, origin: SettingOrigin)? {
        if let value = try Configuration.secret(name, environment: environment) {
            let direct = !(environment[name] ?? "").isEmpty
            return (value, .environment(direct ? name : "\(name)_FILE"))
        }
        if let value = file?.string(key), !value.value.isEmpty { return (value.value, .file(value.origin)) }
        if let path = file?.string(fileKey) {
            guard let data = FileManager.default.contents(atPath: path.value) else {
                throw UsageError("\(path.origin): \(fileKey): cannot read \(path.value)")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return value.isEmpty ? nil : (value, .file(path.origin))
        }
        return nil
    }
}

/// Settings from flags, the environment, the config file (`--config`/`MIRROR_CONFIG`) and
/// defaults, in that order. Secrets may come from `NAME_FILE` paths.
struct Configuration {
    var backstageURL: String?
    var backstageToken: String?
    var databasePath: String
    var mappingPath: String?
    var pageSize: Int
    var kinds: [String]
    var transport = TransportOptions()
    var portBaseURL = "https://api.getport.io"
    var portCredentials: PortCredentials?
    /// The Port integration runs report to (`--integration-id`); it also names the User-Agent.
    var portIntegrationId: String?
    var portConcurrency = 4
    /// `--max-entity-size`: larger entities are refused one by one.
    var maxEntityBytes = SnapshotEntity.defaultMaxBytes
    /// `watch`: seconds between runs, the longest wait after failures, and how long a run in
    /// progress may go on after SIGTERM/SIGINT.
    var watchInterval = 60.0
    var watchMaxBackoff = 900.0
    var watchGrace = 20.0
    /// `watch --prune-keep-days`: history older than this many days is pruned every
    /// `watchPruneEvery` seconds; nil: `watch` does not prune.
    var watchPruneKeepDays: Int?
    var watchPruneEvery = 86_400.0
    /// `status`: a last run older than this (seconds) is unhealthy; nil: age is not checked.
    var statusMaxAge: Double?
    /// Where each setting came from, by its name in `config show`.
    var origins: [String: SettingOrigin] = [:]

    static let defaultKinds = ["component", "API", "group", "user", "resource", "system", "domain"]
    static let databaseOption = OptionSpec(name: "db", value: "PATH", help: "SQLite mirror database (env MIRROR_DB, default ./mirror.db).")

    /// Reads flags, env and the config file: every setting of every command, with its origin.
    static func load(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> Configuration {
        let sources = SettingSources(arguments: arguments, environment: environment)
        var origins: [String: SettingOrigin] = [:]
        let url = sources.text(flag: "backstage-url", env: "BACKSTAGE_URL", file: "backstage.url")
        origins["backstage.url"] = url?.origin ?? .defaulted
        let token = try sources.secret("BACKSTAGE_TOKEN", file: "backstage.token", fileKey: "backstage.tokenFile")
        origins["backstage.token"] = token?.origin ?? .defaulted
        let pageSize = try sources.int(flag: "page-size", env: nil, file: "backstage.pageSize", range: 1...10_000)
        origins["backstage.pageSize"] = pageSize?.origin ?? .defaulted
        var kinds = arguments.all("kind")
        origins["kinds"] = kinds.isEmpty ? .defaulted : .flag("--kind")
        if kinds.isEmpty, let listed = arguments.configFile?.strings("kinds") {
            kinds = listed.value
            origins["kinds"] = .file(listed.origin)
        }
        for kind in kinds where !isValidKind(kind) {
            throw UsageError("invalid kind '\(kind)': a Backstage kind is letters and digits, starting with a letter")
        }
        var seen = Set<String>()
        kinds = kinds.filter { seen.insert($0.lowercased()).inserted }
        let mapping = sources.text(flag: "mapping", env: "MIRROR_MAPPING", file: "mapping")
        origins["mapping"] = mapping?.origin ?? .defaulted
        var configuration = Configuration(backstageURL: url?.value, backstageToken: token?.value,
                                          databasePath: databasePath(arguments, environment: environment),
                                          mappingPath: mapping?.value.isEmpty == false ? mapping?.value : nil,
                                          pageSize: pageSize?.value ?? 500, kinds: kinds)
        origins["db"] = sources.text(flag: "db", env: "MIRROR_DB", file: "db")?.origin ?? .defaulted
        let caBundle = sources.text(flag: "ca-bundle", env: "MIRROR_CA_BUNDLE", file: "caBundle")
        configuration.transport.caBundle = caBundle?.value
        origins["caBundle"] = caBundle?.origin ?? .defaulted
        configuration.origins = origins
        try TransportLimits.load(sources, into: &configuration)
        origins = configuration.origins

        if let interval = try sources.duration(flag: "interval", env: "MIRROR_WATCH_INTERVAL", file: "watch.interval", minimum: 0.05) {
            configuration.watchInterval = interval.value
            origins["watch.interval"] = interval.origin
        }
        if let backoff = try sources.duration(flag: "max-backoff", env: nil, file: "watch.maxBackoff") {
            configuration.watchMaxBackoff = backoff.value
            origins["watch.maxBackoff"] = backoff.origin
        }
        if let grace = try sources.duration(flag: "grace", env: nil, file: "watch.grace") {
            configuration.watchGrace = grace.value
            origins["watch.grace"] = grace.origin
        }
        if let keep = try sources.int(flag: "prune-keep-days", env: nil, file: "watch.pruneKeepDays", range: 0...1_000_000) {
            configuration.watchPruneKeepDays = keep.value
            origins["watch.pruneKeepDays"] = keep.origin
        }
        if let every = try sources.duration(flag: "prune-every", env: nil, file: "watch.pruneEvery", minimum: 0.05) {
            configuration.watchPruneEvery = every.value
            origins["watch.pruneEvery"] = every.origin
        }
        if let maxAge = try sources.duration(flag: "max-age", env: "MIRROR_MAX_AGE", file: "status.maxAge", minimum: 0.001) {
            configuration.statusMaxAge = maxAge.value
            origins["status.maxAge"] = maxAge.origin
        }
        configuration.origins = origins
        try configuration.loadPort(arguments, environment: environment)
        return configuration
    }

    /// Port settings: PORT_BASE_URL, PORT_CLIENT_ID, PORT_CLIENT_SECRET (or *_FILE), and the
    /// config file's `port.*` keys.
    mutating func loadPort(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        let sources = SettingSources(arguments: arguments, environment: environment)
        let url = sources.text(flag: "port-url", env: "PORT_BASE_URL", file: "port.url")
        portBaseURL = url?.value ?? portBaseURL
        origins["port.url"] = url?.origin ?? .defaulted
        guard portBaseURL.hasPrefix("http://") || portBaseURL.hasPrefix("https://") else {
            throw UsageError("\(url?.origin.description ?? "PORT_BASE_URL") must start with http:// or https://, got '\(portBaseURL)'")
        }
        let integration = sources.text(flag: "integration-id", env: "PORT_INTEGRATION_ID", file: "port.integrationId")
        portIntegrationId = integration.flatMap { $0.value.isEmpty ? nil : $0.value }
        origins["port.integrationId"] = integration?.origin ?? .defaulted
        let concurrency = try sources.int(flag: "concurrency", env: nil, file: "concurrency", range: 1...64)
        portConcurrency = concurrency?.value ?? portConcurrency
        origins["concurrency"] = concurrency?.origin ?? .defaulted
        let id = try sources.secret("PORT_CLIENT_ID", file: "port.clientId", fileKey: "port.clientIdFile")
        let secret = try sources.secret("PORT_CLIENT_SECRET", file: "port.clientSecret", fileKey: "port.clientSecretFile")
        origins["port.clientId"] = id?.origin ?? .defaulted
        origins["port.clientSecret"] = secret?.origin ?? .defaulted
        switch (id?.value, secret?.value) {
        case (let id?, let secret?): portCredentials = PortCredentials(clientId: id, clientSecret: secret)
        case (nil, nil): portCredentials = nil
        case (nil, _): throw UsageError("PORT_CLIENT_SECRET is set but PORT_CLIENT_ID is not")
        case (_, nil): throw UsageError("PORT_CLIENT_ID is set but PORT_CLIENT_SECRET is not")
        }
    }

    /// The transport for requests to Port: the shared options with Port's User-Agent, which names
    /// the integration when there is one.
    var portTransport: TransportOptions {
        var options = transport
        options.userAgent = PortUserAgent.value(integrationId: portIntegrationId)
        return options
    }

    static func databasePath(_ arguments: ParsedArguments, environment: [String: String]) -> String {
        SettingSources(arguments: arguments, environment: environment).text(flag: "db", env: "MIRROR_DB", file: "db")?.value
            ?? "./mirror.db"
    }

    /// A secret from `NAME`, or read from the file named by `NAME_FILE` (trailing newline dropped).
    static func secret(_ name: String, environment: [String: String]) throws(UsageError) -> String? {
        if let value = environment[name], !value.isEmpty { return value }
        guard let path = environment["\(name)_FILE"], !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("\(name)_FILE: cannot read \(path)")
        }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    /// Backstage's kind rule: `^[a-zA-Z][a-z0-9A-Z]*$`, 1–63 characters.
    static func isValidKind(_ kind: String) -> Bool {
        guard let first = kind.unicodeScalars.first, kind.count <= 63, first.isASCII, first.properties.isAlphabetic
        else { return false }
        return kind.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }

    /// The Backstage URL, required for walking commands.
    func requireBackstageURL() throws(UsageError) -> String {
        guard let backstageURL, !backstageURL.isEmpty else {
            throw UsageError("no Backstage URL: set BACKSTAGE_URL or pass --backstage-url (http(s)://… or file:PATH)")
        }
        guard backstageURL.hasPrefix("http://") || backstageURL.hasPrefix("https://") || backstageURL.hasPrefix("file:") else {
            throw UsageError("--backstage-url must start with http://, https:// or file:, got '\(backstageURL)'")
        }
        return backstageURL
    }
}
