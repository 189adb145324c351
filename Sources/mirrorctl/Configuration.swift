import Foundation
import Fetch

/// Settings from the environment, overridden by flags. Secrets may come from `NAME_FILE` paths.
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
    var portConcurrency = 4

    static let defaultKinds = ["component", "API", "group", "user", "resource", "system", "domain"]
    static let databaseOption = OptionSpec(name: "db", value: "PATH", help: "SQLite mirror database (env MIRROR_DB, default ./mirror.db).")

    /// Reads env and the common flags of commands that walk the catalog.
    static func load(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> Configuration {
        let url = arguments.value("backstage-url") ?? environment["BACKSTAGE_URL"]
        let token = try secret("BACKSTAGE_TOKEN", environment: environment)
        let pageSize = try arguments.int("page-size", range: 1...10_000) ?? 500
        var kinds = arguments.all("kind")
        for kind in kinds where !isValidKind(kind) {
            throw UsageError("invalid kind '\(kind)': a Backstage kind is letters and digits, starting with a letter")
        }
        var seen = Set<String>()
        kinds = kinds.filter { seen.insert($0.lowercased()).inserted }
        var configuration = Configuration(backstageURL: url, backstageToken: token,
                                          databasePath: databasePath(arguments, environment: environment),
                                          mappingPath: arguments.value("mapping") ?? environment["MIRROR_MAPPING"],
                                          pageSize: pageSize, kinds: kinds)
        configuration.transport.caBundle = arguments.value("ca-bundle") ?? environment["MIRROR_CA_BUNDLE"]
        try configuration.loadPort(arguments, environment: environment)
        return configuration
    }

    /// Port settings: PORT_BASE_URL, PORT_CLIENT_ID, PORT_CLIENT_SECRET (or *_FILE).
    mutating func loadPort(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        portBaseURL = arguments.value("port-url") ?? environment["PORT_BASE_URL"] ?? portBaseURL
        guard portBaseURL.hasPrefix("http://") || portBaseURL.hasPrefix("https://") else {
            throw UsageError("PORT_BASE_URL must start with http:// or https://, got '\(portBaseURL)'")
        }
        portConcurrency = try arguments.int("concurrency", range: 1...64) ?? portConcurrency
        let id = try Configuration.secret("PORT_CLIENT_ID", environment: environment)
        let secret = try Configuration.secret("PORT_CLIENT_SECRET", environment: environment)
        switch (id, secret) {
        case (let id?, let secret?): portCredentials = PortCredentials(clientId: id, clientSecret: secret)
        case (nil, nil): portCredentials = nil
        case (nil, _): throw UsageError("PORT_CLIENT_SECRET is set but PORT_CLIENT_ID is not")
        case (_, nil): throw UsageError("PORT_CLIENT_ID is set but PORT_CLIENT_SECRET is not")
        }
    }

    static func databasePath(_ arguments: ParsedArguments, environment: [String: String]) -> String {
        arguments.value("db") ?? environment["MIRROR_DB"] ?? "./mirror.db"
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
