import FakeServers
import Foundation
import Store
import XCTest

/// What the CLI says about itself matches what it accepts: every option any `--help` shows is
/// accepted by its command, every `mirrorctl …` line in README parses, the completion scripts and
/// the man page list exactly the commands and options of the command table, and `version` works.
final class CLIReferenceTests: EndToEndCase {
    /// Options of one command as its `--help` lists them: name → takes a value.
    struct HelpOptions {
        var options: [String: Bool] = [:]
        var text = ""
    }

    /// Command names from `mirrorctl --help`.
    func commandNames() throws -> [String] {
        let help = try mirrorctl(["--help"])
        assertStatus(help, 0)
        let section = try XCTUnwrap(help.stdout.components(separatedBy: "Commands:\n").last?.components(separatedBy: "\n\n").first)
        return section.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// `--name VALUE` / `--name` labels of an options section.
    static func optionLabels(_ text: String, section: String) -> [String: Bool] {
        guard let body = text.components(separatedBy: "\(section)\n").dropFirst().first?.components(separatedBy: "\n\n").first else { return [:] }
        var options: [String: Bool] = [:]
        for line in body.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let name = words.first, name.hasPrefix("--") else { continue }
            let value = words.count > 1 && words[1].uppercased() == words[1] && !words[1].hasPrefix("--") && words[1].first?.isLetter == true
            options[String(name.dropFirst(2))] = value
        }
        return options
    }

    func globalOptions() throws -> [String: Bool] {
        let help = try mirrorctl(["--help"])
        return CLIReferenceTests.optionLabels(help.stdout, section: "Options for every command:")
    }

    func helpOptions(_ command: String) throws -> HelpOptions {
        let help = try mirrorctl([command, "--help"])
        assertStatus(help, 0)
        return HelpOptions(options: CLIReferenceTests.optionLabels(help.stdout, section: "Options:"), text: help.stdout)
    }

    /// The arguments that give `option` to `command`, with a value where it takes one.
    func arguments(_ command: String, _ option: String, takesValue: Bool) -> [String] {
        [command, "--\(option)"] + (takesValue ? ["1"] : []) + ["--help"]
    }

    func testEveryOptionInEveryHelpIsAcceptedByItsCommand() throws {
        let commands = try commandNames()
        XCTAssertTrue(commands.contains("version") && commands.contains("completion") && commands.contains("sync"), "\(commands)")
        let globals = try globalOptions()
        XCTAssertEqual(Set(globals.keys), ["config", "log-level", "log-format", "no-color"])
        for command in commands {
            let help = try helpOptions(command)
            for (option, takesValue) in help.options {
                let result = try mirrorctl(arguments(command, option, takesValue: takesValue))
                XCTAssertEqual(result.status, 0, "\(command) --help lists --\(option), but \(command) refuses it: \(result.stderr)")
            }
            // Every option the text mentions (usage, option help, discussion) is one the command
            // accepts, a global one, or named with the command it belongs to ('sync --json').
            let mentioned = Set(help.text.matches(of: /--[a-z][a-z-]*/).map { String($0.output.dropFirst(2)) })
            let quoted = help.text.matches(of: /'([^']*)'/).map { String($0.output.1) }
            for option in mentioned where help.options[option] == nil && globals[option] == nil && option != "help" {
                // In a quoted command line of another command: 'show REF --at RUN', 'sync --json'.
                let quotedElsewhere = quoted.contains { line in
                    let words = line.split(separator: " ").map(String.init).drop { $0 == "mirrorctl" }
                    return words.first.map { $0 != command && commands.contains($0) } == true && line.contains("--\(option)")
                } || commands.contains { other in other != command && help.text.contains("\(other) --\(option)") }
                XCTAssertTrue(quotedElsewhere, "\(command) --help mentions --\(option), which \(command) does not accept")
            }
        }
        // Global options work with every command.
        for command in commands {
            let result = try mirrorctl(["--log-level", "warn", command, "--no-color", "--help"])
            XCTAssertEqual(result.status, 0, "\(command): \(result.stderr)")
        }
    }

    /// Every `mirrorctl …` command line in README's code: its command exists and the binary
    /// accepts each of its options (run with `--help`, which parses everything first).
    func testEveryReadmeCommandLineParses() throws {
        let readme = try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        // Inline code, and lines of code blocks that start with a command (not program output).
        var code: [String] = readme.matches(of: /`([^`\n]+)`/).map { String($0.output.1) }
        var inBlock = false
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inBlock.toggle(); continue }
            if inBlock, line.firstMatch(of: #/^\s*(?:\$\s+)?(?:\S*/)?mirrorctl /#) != nil { code.append(String(line)) }
        }
        let commands = Set(try commandNames())
        let globals = try globalOptions()
        var helps: [String: HelpOptions] = [:]
        var checked = 0
        for text in code {
            // mirrorctl as the program run: at the start, after a path, a prompt, `--`, a pipe or `;`
            // (not `kubectl -n mirrorctl …`).
            for match in text.matches(of: /(?:^|\/|\$ |-- |\| |&& |; |\()mirrorctl ((?:[^|;#>&]|&(?!&))+)/) {
                var words = match.output.1.split(separator: " ").map(String.init)
                // Global options before the command, with their values.
                while let first = words.first, first.hasPrefix("--"), let option = globals[String(first.dropFirst(2))] {
                    words.removeFirst(option && words.count > 1 ? 2 : 1)
                }
                guard let command = words.first else { continue }
                // `deploy/mirrorctl -- mirrorctl status`: a kubectl target, the command follows `--`.
                if command == "--version" || command == "--help" || command == "--" { continue }
                XCTAssertTrue(commands.contains(command), "README: 'mirrorctl \(match.output.1)': no command '\(command)'")
                guard commands.contains(command) else { continue }
                let help = try helps[command] ?? helpOptions(command)
                helps[command] = help
                for option in words.joined(separator: " ").matches(of: /--([a-z][a-z-]*)/).map({ String($0.output.1) }) {
                    let takesValue = help.options[option] ?? globals[option]
                    XCTAssertNotNil(takesValue, "README: 'mirrorctl \(match.output.1)': \(command) has no --\(option)")
                    guard let takesValue, option != "help" else { continue }
                    let result = try mirrorctl(arguments(command, option, takesValue: takesValue))
                    XCTAssertEqual(result.status, 0, "README: 'mirrorctl \(match.output.1)': \(result.stderr)")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 30, "README command lines found")
    }

    func testCompletionScriptsOfferExactlyTheCommandTable() throws {
        let commands = try commandNames()
        let globals = try globalOptions()
        let bash = try mirrorctl(["completion", "bash"])
        assertStatus(bash, 0)
        let script = try writeFile("mirrorctl.bash", bash.stdout)
        XCTAssertEqual(try shell("/bin/bash", ["-n", script]).status, 0)
        // What bash offers after `mirrorctl`, and after each command, is what --help lists.
        func complete(_ words: [String]) throws -> Set<String> {
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let result = try shell("/bin/bash", ["-c", "source '\(script)'; COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); _mirrorctl; printf '%s\\n' \"${COMPREPLY[@]}\""])
            XCTAssertEqual(result.status, 0, result.stderr)
            return Set(result.stdout.split(separator: "\n").map(String.init))
        }
        XCTAssertTrue(try complete(["mirrorctl", ""]).isSuperset(of: commands))
        XCTAssertEqual(try complete(["mirrorctl", "pru"]), ["prune"])
        XCTAssertEqual(try complete(["mirrorctl", "--log-level", "debug", "prune", "--keep"]), ["--keep-runs", "--keep-days"])
        XCTAssertEqual(try complete(["mirrorctl", "sync", "--log-format", ""]), ["human", "json"])
        XCTAssertEqual(try complete(["mirrorctl", "completion", "z"]), ["zsh"])
        for command in commands {
            let offered = try complete(["mirrorctl", command, "--"])
            let expected = Set(try helpOptions(command).options.keys.map { "--\($0)" } + globals.keys.map { "--\($0)" } + ["--help"])
            XCTAssertEqual(offered, expected, "bash completion of '\(command)'")
        }

        let zsh = try mirrorctl(["completion", "zsh"])
        assertStatus(zsh, 0)
        XCTAssertTrue(zsh.stdout.hasPrefix("#compdef mirrorctl"))
        let fish = try mirrorctl(["completion", "fish"])
        assertStatus(fish, 0)
        for command in commands {
            XCTAssertTrue(zsh.stdout.contains("        (\(command))\n"), "zsh: \(command)")
            XCTAssertTrue(fish.stdout.contains("-n __fish_use_subcommand -a \(command) "), "fish: \(command)")
            for option in try helpOptions(command).options.keys where option != "help" {
                XCTAssertTrue(zsh.stdout.contains("--\(option)[") || zsh.stdout.contains("--\(option)=["), "zsh: \(command) --\(option)")
                XCTAssertTrue(fish.stdout.contains("'__fish_seen_subcommand_from \(command)' -l \(option) "), "fish: \(command) --\(option)")
            }
        }
        for (name, result) in [("zsh", zsh), ("fish", fish)] {
            guard let path = ["/usr/bin/\(name)", "/bin/\(name)"].first(where: FileManager.default.isExecutableFile(atPath:)) else { continue }
            let file = try writeFile("completion.\(name)", result.stdout)
            XCTAssertEqual(try shell(path, ["-n", file]).status, 0, "\(name) -n")
        }
        assertStatus(try mirrorctl(["completion", "tcsh"]), 2)
    }

    /// `docs/mirrorctl.1` is what `help --man` generates from the command table, and lists it all.
    func testManPageIsGeneratedFromTheCommandTable() throws {
        let man = try mirrorctl(["help", "--man"])
        assertStatus(man, 0)
        let checkedIn = try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("docs/mirrorctl.1"), encoding: .utf8)
        XCTAssertEqual(checkedIn, man.stdout, "docs/mirrorctl.1 is stale: regenerate it with 'mirrorctl help --man > docs/mirrorctl.1'")
        for command in try commandNames() {
            XCTAssertTrue(man.stdout.contains(".SS \(command)\n"), command)
            for option in try helpOptions(command).options.keys where option != "help" {
                XCTAssertTrue(man.stdout.contains(".B \\-\\-\(option.replacingOccurrences(of: "-", with: "\\-"))"), "\(command) --\(option)")
            }
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/groff") {
            let page = try writeFile("mirrorctl.1", man.stdout)
            let rendered = try shell("/usr/bin/groff", ["-man", "-Tutf8", "-ww", page])
            XCTAssertEqual(rendered.status, 0)
            XCTAssertEqual(rendered.stderr, "", "groff warnings")
            XCTAssertTrue(rendered.stdout.contains("prune"))
        }
        let one = try mirrorctl(["help", "prune"])
        assertStatus(one, 0)
        XCTAssertTrue(one.stdout.contains("Usage: mirrorctl prune"))
        assertStatus(try mirrorctl(["help", "nope"]), 2)
    }

    func testVersionPrintsTheVersion() throws {
        for arguments in [["version"], ["--version"]] {
            let result = try mirrorctl(arguments)
            assertStatus(result, 0)
            XCTAssertTrue(result.stdout.wholeMatch(of: /mirrorctl \d+\.\d+\.\d+\n/) != nil, result.stdout)
            XCTAssertEqual(result.stderr, "")
        }
        let verbose = try mirrorctl(["--version", "--verbose"])
        assertStatus(verbose, 0)
        for library in ["libjq", "sqlite", "libcurl", "libyaml"] {
            XCTAssertTrue(verbose.stdout.contains("\n\(library) "), "\(library): \(verbose.stdout)")
        }
        let json = try XCTUnwrap(try mirrorctl(["version", "--verbose", "--json"]).json)
        let sqlite = try XCTUnwrap(json[path: ["libraries", "sqlite"]]?.stringValue)
        XCTAssertTrue(sqlite.wholeMatch(of: /3\.\d+\.\d+/) != nil, sqlite)
        XCTAssertTrue(json[path: ["libraries", "libcurl"]]?.stringValue?.hasPrefix("libcurl/") == true)
        XCTAssertTrue(json[path: ["libraries", "libjq"]]?.stringValue?.hasPrefix("libjq") == true)
    }

    /// Runs a program (a shell, groff) and collects its output.
    func shell(_ program: String, _ arguments: [String]) throws -> CommandResult {
        try run(program, arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path])
    }
}
