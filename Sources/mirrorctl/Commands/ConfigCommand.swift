import Foundation
import Store

/// `mirrorctl config show`: the effective configuration, where each value came from, secrets masked.
enum ConfigCommand {
    static let spec = CommandSpec(
        name: "config", abstract: "Show the effective configuration and where each value came from (secrets masked).",
        usage: "config show [--config FILE] [any sync/watch/status option] [--json]",
        options: walkOptions.filter { $0.name != "json" } + WatchCommand.scheduleOptions + WatchPruner.options + [
            OptionSpec(name: "max-age", value: "DURATION", help: "As for 'status'."),
            OptionSpec(name: "json", value: nil, help: "Print {settings: [{name, value, source}]}."),
        ],
        positionals: 1...1,
        discussion: "Precedence: flags, then environment, then the config file (--config, MIRROR_CONFIG or ./mirrorctl.yaml), then defaults.",
        actions: ["show"])

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        guard arguments.positionals.first == "show" else {
            throw UsageError("unknown config action '\(arguments.positionals[0])' (expected: show)", spec: spec)
        }
        let configuration = try Configuration.load(arguments, environment: context.environment)
        let settings = EffectiveSettings.list(configuration, log: context.console.logger.settings,
                                              configFile: arguments.configFile)
        if arguments.flag("json") {
            context.console.json(["settings": .array(settings.map { setting in
                ["name": .string(setting.name), "value": setting.value, "source": .string(setting.source)]
            })])
        } else {
            context.console.print(table(["SETTING", "VALUE", "SOURCE"], settings.map { setting in
                [setting.name, EffectiveSettings.text(setting.value), setting.source]
            }))
        }
        return .success
    }
}

/// The settings `config show` lists, in a fixed order.
enum EffectiveSettings {
    struct Setting {
        let name: String
        let value: JSONValue
        let source: String
    }

    /// What is shown for a secret that is set. The value itself never leaves `Configuration`.
    static let mask = "***"

    static func list(_ configuration: Configuration, log: LogSettings, configFile: ConfigFile?) -> [Setting] {
        let origin = { (name: String) in (configuration.origins[name] ?? .defaulted).description }
        let secret = { (present: Bool) -> JSONValue in present ? .string(mask) : .null }
        var settings: [Setting] = [
            Setting(name: "config", value: configFile.map { .string($0.path) } ?? .null,
                    source: configFile?.source ?? "none (--config, MIRROR_CONFIG, ./mirrorctl.yaml)"),
            Setting(name: "backstage.url", value: configuration.backstageURL.map(JSONValue.string) ?? .null, source: origin("backstage.url")),
            Setting(name: "backstage.token", value: secret(configuration.backstageToken != nil), source: origin("backstage.token")),
            Setting(name: "backstage.pageSize", value: .number(Double(configuration.pageSize)), source: origin("backstage.pageSize")),
            Setting(name: "db", value: .string(configuration.databasePath), source: origin("db")),
            Setting(name: "mapping", value: .string(configuration.mappingPath ?? "built-in"), source: origin("mapping")),
            Setting(name: "kinds", value: configuration.kinds.isEmpty ? .string("the mapping's kinds") : .array(configuration.kinds.map(JSONValue.string)),
                    source: origin("kinds")),
            Setting(name: "caBundle", value: configuration.transport.caBundle.map(JSONValue.string) ?? .null, source: origin("caBundle")),
            Setting(name: "concurrency", value: .number(Double(configuration.portConcurrency)), source: origin("concurrency")),
            Setting(name: "port.url", value: .string(configuration.portBaseURL), source: origin("port.url")),
            Setting(name: "port.clientId", value: secret(configuration.portCredentials != nil), source: origin("port.clientId")),
            Setting(name: "port.clientSecret", value: secret(configuration.portCredentials != nil), source: origin("port.clientSecret")),
            Setting(name: "port.integrationId", value: configuration.portIntegrationId.map(JSONValue.string) ?? .null,
                    source: origin("port.integrationId")),
            Setting(name: "watch.interval", value: .string(DurationText.describe(configuration.watchInterval)), source: origin("watch.interval")),
            Setting(name: "watch.maxBackoff", value: .string(DurationText.describe(configuration.watchMaxBackoff)), source: origin("watch.maxBackoff")),
            Setting(name: "watch.grace", value: .string(DurationText.describe(configuration.watchGrace)), source: origin("watch.grace")),
            Setting(name: "watch.pruneKeepDays", value: configuration.watchPruneKeepDays.map { .number(Double($0)) } ?? .null,
                    source: origin("watch.pruneKeepDays")),
            Setting(name: "watch.pruneEvery", value: .string(DurationText.describe(configuration.watchPruneEvery)), source: origin("watch.pruneEvery")),
            Setting(name: "status.maxAge", value: configuration.statusMaxAge.map { .string(DurationText.describe($0)) } ?? .null,
                    source: origin("status.maxAge")),
        ]
        for (name, value) in TransportLimits.settings(configuration) {
            settings.append(Setting(name: name, value: value, source: origin(name)))
        }
        settings.append(Setting(name: "log.level", value: .string(log.level.name), source: log.levelSource))
        settings.append(Setting(name: "log.format", value: .string(log.format.rawValue), source: log.formatSource))
        return settings
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "(not set)"
        case .string(let text): return text
        default: return CanonicalJSON.string(value)
        }
    }
}
