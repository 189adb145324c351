import Fetch
import Foundation
import Store

/// The bounds every request to Backstage or Port lives within, so a hostile or broken server
/// (or whatever sits in between) can hold neither the memory nor the time of a run: the largest
/// response body and entity, and how long a connection, a quiet spell and a whole request may take.
enum TransportLimits {
    static let options: [OptionSpec] = [
        OptionSpec(name: "max-response-size", value: "SIZE", help: "Largest response body, after decompression: 64MiB, 512KiB (env MIRROR_MAX_RESPONSE_SIZE, default 32MiB)."),
        OptionSpec(name: "max-entity-size", value: "SIZE", help: "Largest entity (canonical JSON); a larger one is refused (env MIRROR_MAX_ENTITY_SIZE, default 4MiB)."),
        OptionSpec(name: "connect-timeout", value: "DURATION", help: "Time to connect to a server (env MIRROR_CONNECT_TIMEOUT, default 10s)."),
        OptionSpec(name: "idle-timeout", value: "DURATION", help: "A request that receives nothing this long is given up (env MIRROR_IDLE_TIMEOUT, default 60s)."),
        OptionSpec(name: "request-timeout", value: "DURATION", help: "Longest time for one request (env MIRROR_REQUEST_TIMEOUT, default 2m)."),
    ]

    /// The config-file keys of these settings.
    static let fileKeys: [String: ConfigFile.KeyType] = [
        "http.maxResponseSize": .string, "http.maxEntitySize": .string,
        "http.connectTimeout": .duration, "http.idleTimeout": .duration, "http.requestTimeout": .duration,
    ]

    /// Reads the limits into `configuration` (flags, then environment, then the config file).
    static func load(_ sources: SettingSources, into configuration: inout Configuration) throws(UsageError) {
        if let size = try self.size(sources, flag: "max-response-size", env: "MIRROR_MAX_RESPONSE_SIZE", file: "http.maxResponseSize", minimum: 1 << 10) {
            configuration.transport.maxResponseBytes = size.value
            configuration.origins["http.maxResponseSize"] = size.origin
        }
        if let size = try self.size(sources, flag: "max-entity-size", env: "MIRROR_MAX_ENTITY_SIZE", file: "http.maxEntitySize", minimum: 1 << 10) {
            configuration.maxEntityBytes = size.value
            configuration.origins["http.maxEntitySize"] = size.origin
        }
        let durations: [(flag: String, env: String, key: String, path: WritableKeyPath<TransportOptions, Double>)] = [
            ("connect-timeout", "MIRROR_CONNECT_TIMEOUT", "http.connectTimeout", \.connectTimeout),
            ("idle-timeout", "MIRROR_IDLE_TIMEOUT", "http.idleTimeout", \.idleTimeout),
            ("request-timeout", "MIRROR_REQUEST_TIMEOUT", "http.requestTimeout", \.requestTimeout),
        ]
        for item in durations {
            if let duration = try sources.duration(flag: item.flag, env: item.env, file: item.key, minimum: 0.001) {
                configuration.transport[keyPath: item.path] = duration.value
                configuration.origins[item.key] = duration.origin
            }
        }
    }

    /// A size setting of at least `minimum` bytes.
    private static func size(_ sources: SettingSources, flag: String, env: String, file key: String,
                             minimum: Int) throws(UsageError) -> (value: Int, origin: SettingOrigin)? {
        guard let (text, origin) = sources.text(flag: flag, env: env, file: key) else { return nil }
        guard let bytes = ByteCount.parse(text), bytes >= minimum else {
            throw UsageError("\(origin) must be a size such as 64MiB, 512KiB or 4M (at least \(ByteCount.describe(minimum))), got '\(text)'")
        }
        return (bytes, origin)
    }

    /// The settings as `config show` lists them.
    static func settings(_ configuration: Configuration) -> [(name: String, value: JSONValue)] {
        let transport = configuration.transport
        return [
            ("http.maxResponseSize", .string(ByteCount.describe(transport.maxResponseBytes))),
            ("http.maxEntitySize", .string(ByteCount.describe(configuration.maxEntityBytes))),
            ("http.connectTimeout", .string(DurationText.describe(transport.connectTimeout))),
            ("http.idleTimeout", .string(DurationText.describe(transport.idleTimeout))),
            ("http.requestTimeout", .string(DurationText.describe(transport.requestTimeout))),
        ]
    }
}
