/// One option a command accepts. `value` names its argument; nil makes it a flag.
struct OptionSpec {
    let name: String
    let value: String?
    let help: String
    var repeatable = false
}

/// A command's name, purpose and accepted arguments; the source of its `--help`.
struct CommandSpec {
    let name: String
    let abstract: String
    let usage: String
    let options: [OptionSpec]
    var positionals: ClosedRange<Int> = 0...0
    var discussion: String? = nil
    /// The words the first positional may be (`apply`, `test`, …), for shell completion.
    var actions: [String] = []

    var help: String {
        var text = "\(abstract)\n\nUsage: mirrorctl \(usage)\n"
        if !options.isEmpty {
            text += "\nOptions:\n"
            let width = options.map { label($0).count }.max() ?? 0
            for option in options + [OptionSpec(name: "help", value: nil, help: "Show this help.")] {
                let name = label(option)
                text += "  \(name)\(String(repeating: " ", count: max(2, width - name.count + 2)))\(option.help)\n"
            }
        }
        if let discussion { text += "\n\(discussion)\n" }
        return text
    }

    private func label(_ option: OptionSpec) -> String {
        "--\(option.name)" + (option.value.map { " \($0)" } ?? "")
    }
}

/// The user's arguments, checked against a `CommandSpec`.
struct ParsedArguments {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    var wantsHelp = false
    /// The config file named by `--config`/`MIRROR_CONFIG`, read once by `main`.
    var configFile: ConfigFile?

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// An integer option; a non-number is a usage error naming the option.
    func int(_ name: String, range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return number
    }

    /// A decimal option; a non-number is a usage error naming the option.
    func double(_ name: String, range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), range.contains(number) else {
            throw UsageError("--\(name) must be a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return number
    }

    init() {}

    /// Parses `arguments` (after the command name). Accepts `--name value` and `--name=value`.
    init(_ arguments: [String], spec: CommandSpec) throws(UsageError) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" {
                wantsHelp = true
                continue
            }
            if argument == "--" {
                positionals.append(contentsOf: arguments[index...])
                break
            }
            guard argument.hasPrefix("--") else {
                if argument.hasPrefix("-") && argument.count > 1 {
                    throw UsageError("unknown option '\(argument)' for '\(spec.name)'", spec: spec)
                }
                positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inline: String?
            if let equals = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = spec.options.first(where: { $0.name == name }) else {
                throw UsageError("unknown option '--\(name)' for '\(spec.name)'", spec: spec)
            }
            if option.value == nil {
                guard inline == nil else { throw UsageError("--\(name) takes no value", spec: spec) }
                flags.insert(name)
                continue
            }
            let value: String
            if let inline {
                value = inline
            } else {
                guard index < arguments.count else { throw UsageError("--\(name) needs a value", spec: spec) }
                value = arguments[index]
                index += 1
            }
            if values[name] != nil && !option.repeatable {
                throw UsageError("--\(name) given more than once", spec: spec)
            }
            values[name, default: []].append(value)
        }
        if !wantsHelp && !spec.positionals.contains(positionals.count) {
            let expected = spec.positionals.lowerBound == spec.positionals.upperBound
                ? "\(spec.positionals.lowerBound)" : "\(spec.positionals.lowerBound) to \(spec.positionals.upperBound)"
            throw UsageError("'\(spec.name)' takes \(expected) argument\(spec.positionals.upperBound == 1 ? "" : "s"), got \(positionals.count)", spec: spec)
        }
    }
}

/// Bad command-line use or configuration: printed with the usage line, exit 2.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    let spec: CommandSpec?

    init(_ message: String, spec: CommandSpec? = nil) {
        self.message = message
        self.spec = spec
    }

    var description: String { message }
}
