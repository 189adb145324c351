import Foundation
import Store

/// What one run of the child `sync` ended as.
enum TickOutcome {
    /// The child exited; `report` is its `--json` object when it printed one.
    case exited(status: Int32, report: JSONValue?, seconds: Double)
    /// Stopped by us after a stop signal and the grace period (or killed by someone else).
    case abandoned(signal: Int32, seconds: Double)
}

/// Runs `mirrorctl sync --json …` as a child process with the watch's own options.
struct SyncChild {
    let executable: URL
    let arguments: [String]
    let environment: [String: String]

    init(arguments parsed: ParsedArguments, context: CommandContext) throws {
        executable = SyncChild.selfExecutable()
        var forwarded = ["sync", "--json"]
        for option in walkOptions where option.name != "json" {
            if option.value == nil {
                if parsed.flag(option.name) { forwarded.append("--\(option.name)") }
            } else {
                for value in parsed.all(option.name) { forwarded.append("--\(option.name)=\(value)") }
            }
        }
        // Every tick ends: a run given no --timeout gets the default, so one server that hangs
        // or loops can't stop the watch for good.
        if parsed.all("timeout").isEmpty { forwarded.append("--timeout=\(SyncChild.defaultTimeout)") }
        arguments = forwarded
        var environment = context.environment
        let settings = context.console.logger.settings
        environment["MIRROR_LOG_LEVEL"] = settings.level.name
        environment["MIRROR_LOG_FORMAT"] = settings.format.rawValue
        environment[RunFinishedEvent.loggedByParent] = "1"
        if !settings.color { environment["NO_COLOR"] = "1" }
        if let file = parsed.configFile {
            environment["MIRROR_CONFIG"] = URL(fileURLWithPath: file.path).standardizedFileURL.path
        }
        self.environment = environment
    }

    /// A tick's whole-run limit when `--timeout` is not given.
    static let defaultTimeout = "1h"

    /// This very binary (so the child is the same version).
    static func selfExecutable() -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0])
    }

    /// Runs one sync. `shouldStop` is polled while it runs; once it is true, the child gets
    /// `grace` seconds to finish, then SIGTERM (and SIGKILL 5 s later).
    func run(grace: Double, shouldStop: () -> Bool, onStopRequested: () -> Void) throws -> TickOutcome {
        let (process, output) = Process.mirrorctlChild(executable, arguments, environment: environment)
        let started = Date()
        try process.run()
        // A thread of our own reads the child's stdout to its end (the pipe can't fill up and stall
        // the child). Not `readabilityHandler`: tearing that down while the pipe has events pending
        // crashed the watcher now and then inside libdispatch (1 run in ~40 when stopped by SIGTERM).
        let collected = OutputCollector()
        let reader = output.fileHandleForReading
        let drained = DispatchSemaphore(value: 0)
        let drain = Thread {
            collected.append(reader.readDataToEndOfFile())
            drained.signal()
        }
        drain.start()
        var stopAsked: Date?
        var terminated: Date?
        while process.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
            if stopAsked == nil, shouldStop() {
                stopAsked = Date()
                onStopRequested()
            }
            if let asked = stopAsked, terminated == nil, Date().timeIntervalSince(asked) >= grace {
                process.terminate()
                terminated = Date()
            }
            if let terminated, Date().timeIntervalSince(terminated) > 5 {
                kill(process.processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
        drained.wait()
        let seconds = Date().timeIntervalSince(started)
        if process.terminationReason == .uncaughtSignal {
            return .abandoned(signal: process.terminationStatus, seconds: seconds)
        }
        let text = String(decoding: collected.data, as: UTF8.self)
        let report = text.split(separator: "\n").last.flatMap { try? CanonicalJSON.parse(String($0)) }
        return .exited(status: process.terminationStatus, report: report, seconds: seconds)
    }
}

/// Bytes from a pipe, appended by the thread that reads it.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = Data()

    func append(_ data: Data) {
        lock.lock()
        bytes.append(data)
        lock.unlock()
    }

    var data: Data {
        lock.lock()
        defer { lock.unlock() }
        return bytes
    }
}
