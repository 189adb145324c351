import Fetch
import Foundation
import Reconcile
import Store

/// `mirrorctl version` (and `--version`): the version, and with `--verbose` the C libraries this
/// process actually runs with, which decide mapping results (libjq) and TLS behaviour (libcurl).
enum VersionCommand {
    static let spec = CommandSpec(
        name: "version", abstract: "Print mirrorctl's version (--verbose: also the libjq, SQLite, libcurl and libyaml it runs with).",
        usage: "version [--verbose] [--json]",
        options: [OptionSpec(name: "verbose", value: nil, help: "Also print the versions of the C libraries in use."),
                  OptionSpec(name: "json", value: nil, help: "Print {version, libraries} as JSON.")])

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let libraries: [(String, String)] = [
            ("libjq", JQLibrary.identity), ("sqlite", SQLiteLibrary.version),
            ("libcurl", LinkedLibraries.curl), ("libyaml", LinkedLibraries.yaml),
        ]
        let verbose = arguments.flag("verbose")
        if arguments.flag("json") {
            var object: [String: JSONValue] = ["version": .string(MirrorctlVersion.current)]
            if verbose { object["libraries"] = .object(Dictionary(uniqueKeysWithValues: libraries.map { ($0.0, .string($0.1)) })) }
            context.console.json(.object(object))
            return .success
        }
        context.console.print("mirrorctl \(MirrorctlVersion.current)")
        if verbose {
            context.console.print(table(["LIBRARY", "VERSION"], libraries.map { [$0.0, $0.1] }))
        }
        return .success
    }
}

/// `mirrorctl completion bash|zsh|fish`: a completion script generated from the command table.
enum CompletionCommand {
    static let spec = CommandSpec(
        name: "completion", abstract: "Print a shell completion script for bash, zsh or fish.",
        usage: "completion bash|zsh|fish",
        options: [], positionals: 1...1,
        discussion: """
            Generated from the same command table as --help, so it offers exactly the commands and
            options the parser accepts. Install, for example:
              bash: mirrorctl completion bash > /etc/bash_completion.d/mirrorctl
              zsh:  mirrorctl completion zsh > "${fpath[1]}/_mirrorctl"
              fish: mirrorctl completion fish > ~/.config/fish/completions/mirrorctl.fish
            """,
        actions: ["bash", "zsh", "fish"])

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let reference = CommandReference(commands: context.commandTable, globals: GlobalOptions.specs)
        switch arguments.positionals[0] {
        case "bash": context.console.out(reference.bashCompletion())
        case "zsh": context.console.out(reference.zshCompletion())
        case "fish": context.console.out(reference.fishCompletion())
        case let other: throw UsageError("unknown shell '\(other)' (expected: bash, zsh or fish)", spec: spec)
        }
        return .success
    }
}

/// `mirrorctl help [COMMAND]` and `mirrorctl help --man` (the manual page, roff).
enum HelpCommand {
    static let tagline = "a persistent, auditable mirror of a Backstage catalog, pushed to Port"

    static let spec = CommandSpec(
        name: "help", abstract: "Show the help of mirrorctl or of one command; --man prints the manual page.",
        usage: "help [COMMAND] [--man]",
        options: [OptionSpec(name: "man", value: nil, help: "Print the manual page (roff), generated from the command table: 'mirrorctl help --man | man -l -'.")],
        positionals: 0...1)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        if arguments.flag("man") {
            context.console.out(CommandReference(commands: context.commandTable, globals: GlobalOptions.specs).manPage())
            return .success
        }
        guard let name = arguments.positionals.first else {
            context.console.print(context.topLevelHelp)
            return .success
        }
        guard let command = context.commandTable.first(where: { $0.name == name }) else {
            throw UsageError("unknown command '\(name)'", spec: spec)
        }
        context.console.out(command.help)
        return .success
    }
}
