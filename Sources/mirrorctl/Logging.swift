import Foundation
import Store

/// How important a log line is; lines below the configured level are not written.
enum LogLevel: Int, Comparable, CaseIterable, Sendable {
    case debug, info, warn, error

    /// Accepts `debug`, `info`, `warn`/`warning`, `error`.
    init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warn
        case "error": self = .error
        default: return nil
        }
    }

    var name: String {
        switch self {
        case .debug: return "debug"
        case .info: return "info"
        case .warn: return "warn"
        case .error: return "error"
        }
    }

    static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// `human`: `mirrorctl: message` lines for people; `json`: one object per line for log shippers.
enum LogFormat: String, CaseIterable, Sendable {
    case human, json
}

/// Where, how and how much to log. Decided once in `main` from flags, environment and config file.
struct LogSettings: Sendable {
    var level = LogLevel.info
    var format = LogFormat.human
    /// ANSI colours on level labels (only when stderr is a terminal, without `--no-color`/`NO_COLOR`).
    var color = false
    /// Where level and format came from, for `config show`.
    var levelSource = "default"
    var formatSource = "default"
}

/// Writes log lines to stderr. Human lines keep the long-standing `mirrorctl: …` shape (errors
/// unprefixed, `warning:` for warnings) so scripts that grep stderr keep working; JSON lines are
/// `{"time", "level", "run", "event", "message", "fields"}`. Callers must never pass secrets.
struct Logger {
    var settings = LogSettings()
    /// The mirror run the lines belong to, when one is known.
    var run: Int?
    var write: (String) -> Void = { text in FileHandle.standardError.write(Data(text.utf8)) }
    var clock: () -> Date = Date.init

    func enabled(_ level: LogLevel) -> Bool { level >= settings.level }

    /// Logs one line. `event` is a stable dotted name (`run.finished`, `watch.tick.skipped`).
    func log(_ level: LogLevel, _ event: String, _ message: String, fields: [String: JSONValue] = [:], run: Int? = nil) {
        guard enabled(level) else { return }
        write(line(level, event, message, fields: fields, run: run ?? self.run) + "\n")
    }

    func debug(_ event: String, _ message: String, fields: [String: JSONValue] = [:]) { log(.debug, event, message, fields: fields) }
    func info(_ event: String, _ message: String, fields: [String: JSONValue] = [:]) { log(.info, event, message, fields: fields) }
    func warn(_ event: String, _ message: String, fields: [String: JSONValue] = [:]) { log(.warn, event, message, fields: fields) }
    func error(_ event: String, _ message: String, fields: [String: JSONValue] = [:]) { log(.error, event, message, fields: fields) }

    /// The text of one line, without the newline.
    func line(_ level: LogLevel, _ event: String, _ message: String, fields: [String: JSONValue], run: Int?) -> String {
        // Server text was redacted where it came in; this is the last line of defence.
        let message = SecretRedaction.redact(message)
        switch settings.format {
        case .json:
            let object: [String: JSONValue] = [
                "time": .string(Timestamp.string(clock())), "level": .string(level.name),
                "run": run.map { .number(Double($0)) } ?? .null, "event": .string(event),
                "message": .string(message), "fields": .object(fields),
            ]
            return CanonicalJSON.string(.object(object))
        case .human:
            // One line per message, whatever a server put in it (JSON escapes on its own).
            return "mirrorctl: " + label(level) + TerminalText.escape(message)
        }
    }

    private func label(_ level: LogLevel) -> String {
        let text: String
        let colour: String
        switch level {
        case .debug: (text, colour) = ("debug: ", "2")
        case .info: return ""
        case .warn: (text, colour) = ("warning: ", "33")
        case .error:
            guard settings.color else { return "" }
            (text, colour) = ("error: ", "31")
        }
        return settings.color ? "\u{1B}[\(colour)m\(text)\u{1B}[0m" : text
    }
}

/// The options every command accepts, wherever they appear: logging and the config file.
struct GlobalOptions {
    var logLevel: String?
    var logFormat: String?
    var noColor = false
    var configPath: String?

    static let specs: [OptionSpec] = [
        OptionSpec(name: "config", value: "FILE", help: "Config file (env MIRROR_CONFIG, default ./mirrorctl.yaml when present)."),
        OptionSpec(name: "log-level", value: "LEVEL", help: "debug, info, warn or error (env MIRROR_LOG_LEVEL, default info)."),
        OptionSpec(name: "log-format", value: "FORMAT", help: "human or json: one JSON object per line (env MIRROR_LOG_FORMAT)."),
        OptionSpec(name: "no-color", value: nil, help: "No colours on stderr (also when NO_COLOR is set)."),
    ]

    /// Removes the global options from `arguments` (before `--`), returning them.
    static func extract(_ arguments: inout [String]) throws(UsageError) -> GlobalOptions {
        var options = GlobalOptions()
        var kept: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                kept.append(contentsOf: arguments[(index - 1)...])
                break
            }
            var name = argument
            var inline: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            switch name {
            case "--no-color":
                guard inline == nil else { throw UsageError("--no-color takes no value") }
                options.noColor = true
            case "--log-level", "--log-format", "--config":
                let value: String
                if let inline {
                    value = inline
                } else {
                    guard index < arguments.count else { throw UsageError("\(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                switch name {
                case "--log-level": options.logLevel = value
                case "--log-format": options.logFormat = value
                default: options.configPath = value
                }
            default:
                kept.append(argument)
            }
        }
        arguments = kept
        return options
    }

    /// Log settings: flags, then environment, then the config file, then defaults.
    func logSettings(environment: [String: String], file: ConfigFile?, stderrIsTerminal: Bool) throws(UsageError) -> LogSettings {
        var settings = LogSettings()
        if let (text, origin) = pick(logLevel, "--log-level", environment["MIRROR_LOG_LEVEL"], "MIRROR_LOG_LEVEL", file?.string("log.level")) {
            guard let level = LogLevel(name: text) else {
                throw UsageError("\(origin): log level must be debug, info, warn or error, got '\(text)'")
            }
            settings.level = level
            settings.levelSource = origin
        }
        if let (text, origin) = pick(logFormat, "--log-format", environment["MIRROR_LOG_FORMAT"], "MIRROR_LOG_FORMAT", file?.string("log.format")) {
            guard let format = LogFormat(rawValue: text.lowercased()) else {
                throw UsageError("\(origin): log format must be human or json, got '\(text)'")
            }
            settings.format = format
            settings.formatSource = origin
        }
        let noColorEnv = !(environment["NO_COLOR"] ?? "").isEmpty
        let fileColor = file?.bool("log.color")
        settings.color = stderrIsTerminal && !noColor && !noColorEnv && fileColor != false && settings.format == .human
        return settings
    }

    private func pick(_ flag: String?, _ flagName: String, _ env: String?, _ envName: String,
                      _ file: ConfigFile.Value<String>?) -> (String, String)? {
        if let flag { return (flag, "flag \(flagName)") }
        if let env, !env.isEmpty { return (env, "env \(envName)") }
        if let file { return (file.value, "file \(file.origin)") }
        return nil
    }
}

extension GlobalOptions {
    /// The file read when neither `--config` nor `MIRROR_CONFIG` names one (and it exists).
    static let defaultConfigPath = "./mirrorctl.yaml"

    /// The config file named by `--config` or `MIRROR_CONFIG`, else `./mirrorctl.yaml` when it
    /// exists (what `init` writes); none otherwise. A named file that is missing is an error.
    func loadConfigFile(environment: [String: String]) throws(UsageError) -> ConfigFile? {
        let named = configPath ?? environment["MIRROR_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        guard let path = named else {
            guard FileManager.default.fileExists(atPath: GlobalOptions.defaultConfigPath) else { return nil }
            var file = try ConfigFile.load(path: GlobalOptions.defaultConfigPath)
            file.source = "default (\(GlobalOptions.defaultConfigPath) is present)"
            return file
        }
        let origin = configPath != nil ? "flag --config" : "env MIRROR_CONFIG"
        guard FileManager.default.fileExists(atPath: path) else {
            throw UsageError("config \(path): no such file (from \(origin.split(separator: " ").last ?? ""))")
        }
        var file = try ConfigFile.load(path: path)
        file.source = origin
        return file
    }
}
