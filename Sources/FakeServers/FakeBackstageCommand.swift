import Foundation

/// `mirrorctl-fakes backstage …`: serves a generated catalog for benchmark scripts until SIGTERM or
/// SIGINT, or until stdin reaches EOF when stdin is a pipe (so a dying parent takes the fake with
/// it; a background job's `/dev/null` stdin is ignored). Prints `READY http://127.0.0.1:PORT` once
/// serving; admin routes are on (see `BackstageAdmin`). Returns the exit status: 0, 64 for usage
/// errors, 1 when the server cannot start.
public func runFakeBackstageCommand(arguments: [String]) -> Int32 {
    let options: FakeBackstageCommandOptions
    do {
        options = try FakeBackstageCommandOptions(arguments: arguments)
    } catch {
        StandardStreams.write("Error: \(error.message)\n\n\(FakeBackstageCommandOptions.usage)", to: .standardError)
        return 64
    }
    if options.help {
        StandardStreams.write(FakeBackstageCommandOptions.usage, to: .standardOutput)
        return 0
    }
    var configuration = FakeBackstage.Configuration(port: options.port, tokens: options.tokens.isEmpty ? nil : options.tokens,
                                                    defaultLimit: options.defaultLimit)
    configuration.adminRoutes = true
    configuration.uidSeed = options.seed &+ 1
    let started = Date()
    let fake: FakeBackstage
    do {
        fake = try FakeBackstage(configuration: configuration,
                                 entities: FakeBackstage.generateCatalog(count: options.entities, seed: options.seed))
    } catch {
        StandardStreams.write("Error: cannot start the fake Backstage: \(error)\n", to: .standardError)
        return 1
    }
    let seconds = String(format: "%.2f", Date().timeIntervalSince(started))
    StandardStreams.write("fake Backstage: \(fake.entityCount) entities ready in \(seconds) s\n", to: .standardError)
    StandardStreams.write("READY \(fake.baseURL)\n", to: .standardOutput)
    ProcessTermination.wait()
    fake.stop()
    return 0
}

/// The command line of `runFakeBackstageCommand`.
struct FakeBackstageCommandOptions {
    struct UsageError: Error {
        let message: String
    }

    static let usage = """
        Usage: mirrorctl-fakes backstage --entities N [options]

        Options:
          --entities N        how many entities to generate (required)
          --seed S            generator seed (default: 1)
          --token T           require this static token (repeatable; default: no auth)
          --port P            listen on 127.0.0.1:P (default: a free port)
          --default-limit L   by-query page size when the request has no limit (default: 20)
          --help              show this help

        Admin: POST /admin/mutate?percent=P&seed=S, GET /admin/stats, POST /admin/reset-stats

        """

    var entities = 0
    var seed: UInt64 = 1
    var tokens: [String] = []
    var port: UInt16 = 0
    var defaultLimit = 20
    var help = false

    init(arguments: [String]) throws(UsageError) {
        var remaining = arguments[...]
        var sawEntities = false
        while let argument = remaining.popFirst() {
            switch argument {
            case "--help", "-h":
                help = true
                return
            case "--entities":
                entities = try Self.number(remaining.popFirst(), argument, Int.self)
                sawEntities = true
            case "--seed": seed = try Self.number(remaining.popFirst(), argument, UInt64.self)
            case "--port": port = try Self.number(remaining.popFirst(), argument, UInt16.self)
            case "--default-limit": defaultLimit = try Self.number(remaining.popFirst(), argument, Int.self)
            case "--token":
                guard let token = remaining.popFirst(), !token.isEmpty else { throw UsageError(message: "--token needs a value") }
                tokens.append(token)
            default:
                throw UsageError(message: "unknown argument '\(argument)'")
            }
        }
        guard sawEntities else { throw UsageError(message: "--entities is required") }
    }

    private static func number<T: FixedWidthInteger>(_ text: String?, _ option: String, _ type: T.Type) throws(UsageError) -> T {
        guard let text, let value = T(text), value >= 0 else {
            throw UsageError(message: "\(option) needs a non-negative integer")
        }
        return value
    }
}

/// Blocks until the process is asked to end: SIGTERM, SIGINT, or EOF on a piped stdin.
enum ProcessTermination {
    static func wait() {
        let done = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        if stdinIsPipe() {
            Thread.detachNewThread {
                while !FileHandle.standardInput.availableData.isEmpty {}
                done.signal()
            }
        }
        done.wait()
        for source in sources { source.cancel() }
    }

    private static func stdinIsPipe() -> Bool {
        var info = stat()
        guard fstat(STDIN_FILENO, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFSOCK
    }
}

/// Unbuffered writes to stdout/stderr (a `READY` line must reach the script at once).
enum StandardStreams {
    enum Stream {
        case standardOutput
        case standardError
    }

    static func write(_ text: String, to stream: Stream) {
        let handle = stream == .standardOutput ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data(text.utf8))
    }
}
