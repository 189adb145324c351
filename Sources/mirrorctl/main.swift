import Foundation
import Fetch
import Reconcile
import Store

/// What every command gets: output streams and the environment.
struct CommandContext {
    var console = Console()
    var environment = ProcessInfo.processInfo.environment
    /// Every command's spec, in `--help` order: what completion scripts and the man page are
    /// generated from, so they can't drift from `--help` and the parser.
    var commandTable: [CommandSpec] = []
    /// `mirrorctl --help`, for `mirrorctl help`.
    var topLevelHelp = ""
}

/// The commands, in `--help` order.
let commands: [(spec: CommandSpec, run: (ParsedArguments, CommandContext) throws -> ExitStatus)] = [
    (SyncCommand.spec, SyncCommand.run),
    (VerifyCommand.spec, VerifyCommand.run),
    (DiffCommand.spec, DiffCommand.run),
    (RunsCommand.spec, RunsCommand.run),
    (HistoryCommand.spec, HistoryCommand.run),
    (ShowCommand.spec, ShowCommand.run),
    (ExportCommand.spec, ExportCommand.run),
    (PruneCommand.spec, PruneCommand.run),
    (BlueprintsCommand.spec, BlueprintsCommand.run),
    (InitCommand.spec, InitCommand.run),
    (WatchCommand.spec, WatchCommand.run),
    (StatusCommand.spec, StatusCommand.run),
    (MappingCommand.spec, MappingCommand.run),
    (ConfigCommand.spec, ConfigCommand.run),
    (VersionCommand.spec, VersionCommand.run),
    (CompletionCommand.spec, CompletionCommand.run),
    (HelpCommand.spec, HelpCommand.run),
]

@MainActor
func topLevelHelp() -> String {
    var text = "mirrorctl \(MirrorctlVersion.current): \(HelpCommand.tagline).\n\n"
    text += "Usage: mirrorctl COMMAND [OPTIONS]\n\nCommands:\n"
    let width = commands.map(\.spec.name.count).max() ?? 0
    for command in commands {
        text += "  \(command.spec.name)\(String(repeating: " ", count: width - command.spec.name.count + 2))\(command.spec.abstract)\n"
    }
    text += "\nOptions for every command:\n"
    let optionWidth = GlobalOptions.specs.map { "--\($0.name)\($0.value.map { " \($0)" } ?? "")".count }.max() ?? 0
    for option in GlobalOptions.specs {
        let label = "--\(option.name)\(option.value.map { " \($0)" } ?? "")"
        text += "  \(label)\(String(repeating: " ", count: optionWidth - label.count + 2))\(option.help)\n"
    }
    text += "\nRun 'mirrorctl COMMAND --help' for a command's options."
    return text
}

@MainActor
func main() -> ExitStatus {
    var context = CommandContext()
    context.commandTable = commands.map(\.spec)
    context.topLevelHelp = topLevelHelp()
    var arguments = Array(CommandLine.arguments.dropFirst())
    // Logging options and the config file apply to every command, wherever they are given.
    let globals: GlobalOptions
    let configFile: ConfigFile?
    do {
        globals = try GlobalOptions.extract(&arguments)
        configFile = try globals.loadConfigFile(environment: context.environment)
        context.console.logger.settings = try globals.logSettings(environment: context.environment, file: configFile,
                                                                  stderrIsTerminal: context.console.stderrIsTerminal)
    } catch {
        context.console.error(error.message)
        return .usage
    }
    context.console.logger.write = context.console.err
    let console = context.console
    guard let name = arguments.first else {
        console.err(topLevelHelp() + "\n")
        return .usage
    }
    arguments.removeFirst()
    if name == "--help" || name == "-h" {
        console.print(topLevelHelp())
        return .success
    }
    // `--version [--verbose]` is `version [--verbose]`.
    let commandName = name == "--version" ? VersionCommand.spec.name : name
    guard let command = commands.first(where: { $0.spec.name == commandName }) else {
        console.error("unknown command '\(name)'")
        console.err(topLevelHelp() + "\n")
        return .usage
    }
    do {
        var parsed = try ParsedArguments(arguments, spec: command.spec)
        parsed.configFile = configFile
        if parsed.wantsHelp {
            console.out(command.spec.help)
            return .success
        }
        return try command.run(parsed, context)
    } catch let error as UsageError {
        console.error(error.message)
        if let spec = error.spec { console.err("Usage: mirrorctl \(spec.usage)\n") }
        return .usage
    } catch let error as StoreError {
        console.error(error.description)
        return .database
    } catch let error as WriterLockError {
        console.error(error.description)
        return error.isContention ? .locked : .database
    } catch let error as DatabaseError {
        console.error("database: \(error)")
        return .database
    } catch let error as MappingConfigError {
        console.error("\(error)")
        return .usage
    } catch let error as MappingError {
        console.error("\(error)")
        return .usage
    } catch {
        console.error("\(error)")
        return .failed
    }
}

/// glibc gives every thread that allocates its own arena and keeps what it frees; with walking,
/// mapping and pushing threads that multiplies peak memory. Two arenas are plenty here.
/// `mallopt` lives in <malloc.h>, which Swift's Glibc module doesn't import: look it up.
func limitMallocArenas() {
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mArenaMax: Int32 = -8  // M_ARENA_MAX in <malloc.h>
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    _ = unsafeBitCast(symbol, to: Mallopt.self)(mArenaMax, 2)
}

limitMallocArenas()
exit(main().rawValue)
