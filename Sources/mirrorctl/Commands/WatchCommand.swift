import Foundation
import Store
import Synchronization

/// `mirrorctl watch`: sync on an interval until stopped. Each run is a `mirrorctl sync` child
/// process, so it takes the same writer lock, and a run cut short is abandoned exactly as a killed
/// `sync` is (its walk transaction never commits; an interrupted push is re-sent next run).
enum WatchCommand {
    static let spec = CommandSpec(
        name: "watch", abstract: "Sync on an interval until SIGTERM/SIGINT; one log line per run.",
        usage: "watch [--interval DURATION] [--once] [--max-backoff DURATION] [--grace DURATION] [--metrics-addr HOST:PORT] [--prune-keep-days D] [sync options] [--json]",
        options: walkOptions.filter { $0.name != "json" } + scheduleOptions + WatchPruner.options + [
            OptionSpec(name: "once", value: nil, help: "Run one sync and exit with its status (the same as 'mirrorctl sync')."),
            OptionSpec(name: "json", value: nil, help: "Print each run's 'sync --json' object on stdout, one per line."),
            metricsAddressOption,
        ],
        discussion: """
            A tick that comes while a run is still going is skipped, never queued. After a failed run,
            or one partial because a server was down or refused the credentials, the next one waits
            twice as long as the last wait (up to --max-backoff); a run partial for mapping errors or
            rejected entities keeps the interval.
            On SIGTERM or SIGINT no new run starts; a run in progress finishes within --grace or is
            abandoned (nothing half-written), then watch exits 0. A run finds the database locked by
            another writer: that tick is skipped. Exit status: 0 stopped by a signal, 2 configuration
            error (checked before the first run, the metrics address included), 4 database unusable.
            With --metrics-addr, GET /metrics is Prometheus text (the last run's metrics, request
            counters since start) and GET /healthz is 200 while the watcher is alive and not stuck,
            503 otherwise: a liveness check. Alert on mirrorctl_last_run_success or 'mirrorctl status'.
            """)

    static let metricsAddressOption = OptionSpec(
        name: "metrics-addr", value: "HOST:PORT",
        help: "Serve /metrics and /healthz over HTTP here (a bare PORT binds 127.0.0.1; port 0 picks a free one).")

    /// The schedule's settings (also accepted by `config show`).
    static let scheduleOptions = [
        OptionSpec(name: "interval", value: "DURATION", help: "Time between run starts, e.g. 60s, 5m (env MIRROR_WATCH_INTERVAL, default 60s)."),
        OptionSpec(name: "max-backoff", value: "DURATION", help: "Longest wait after consecutive failures (default 15m)."),
        OptionSpec(name: "grace", value: "DURATION", help: "How long a run in progress may go on after SIGTERM/SIGINT before it is abandoned (default 20s)."),
    ]

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        if arguments.flag("once") { return try WatchPruner.syncOnce(arguments, context: context) }
        // From the start: a stop asked while the configuration loads ends the watch before its
        // first run, with status 0, instead of killing it.
        StopSignal.install()
        // Check the configuration once, up front: a mistake is reported now, not every interval.
        let configuration = try Configuration.load(arguments, environment: context.environment)
        _ = try configuration.requireBackstageURL()
        _ = try loadMapping(configuration.mappingPath, configuration: configuration, database: configuration.databasePath)
        let schedule = WatchSchedule(interval: configuration.watchInterval,
                                     maxBackoff: max(configuration.watchMaxBackoff, configuration.watchInterval))
        let runner = try SyncChild(arguments: arguments, context: context)
        _ = try RunLimits.load(arguments)
        let timeout = arguments.value(RunLimits.timeoutOption.name).flatMap(DurationText.seconds)
        let monitor = WatchMonitor(runBound: WatchMonitor.runBound(timeout: timeout, grace: configuration.watchGrace))
        let server = try arguments.value(metricsAddressOption.name).map { text in
            try MetricsServer(address: ListenAddress(parsing: text)) { path in monitor.reply(path: path) }
        }
        if let server {
            server.start()
            context.console.logger.info("metrics.listening", "serving /metrics and /healthz on http://\(server.address)",
                                        fields: ["address": .string(server.address.description), "port": .number(Double(server.address.port))])
        }
        defer { server?.stop() }
        var loop = WatchLoop(schedule: schedule, grace: configuration.watchGrace, runner: runner, context: context,
                             json: arguments.flag("json"), monitor: monitor)
        loop.pruner = WatchPruner(configuration, database: arguments.value("db"), environment: runner.environment)
        return loop.run()
    }
}

/// When the next run starts: on the interval's grid after a success (ticks that fell inside a
/// long run are skipped), after a growing back-off after failures.
struct WatchSchedule {
    let interval: Double
    let maxBackoff: Double

    /// The wait after `failures` consecutive failures: interval × 2^failures, capped.
    func backoff(failures: Int) -> Double {
        min(maxBackoff, interval * pow(2, Double(min(failures, 30))))
    }

    /// The next grid tick after a run that started at `started` and ended at `now`, and how many
    /// ticks the run overlapped (skipped).
    func nextTick(started: Date, now: Date) -> (at: Date, skipped: Int) {
        let elapsed = max(0, now.timeIntervalSince(started))
        let skipped = Int((elapsed / interval).rounded(.down))
        return (started.addingTimeInterval(Double(skipped + 1) * interval), skipped)
    }
}

/// SIGTERM and SIGINT, noted by a handler and read by the loop. The handler only stores an
/// atomic, so it is async-signal-safe; caught signals revert to the default in the child.
enum StopSignal {
    static let received = Atomic<Int32>(0)

    static func install() {
        for number in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in StopSignal.received.store(signal, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(number, &action, nil)
        }
    }

    static var name: String? {
        switch received.load(ordering: .relaxed) {
        case 0: return nil
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case let other: return "signal \(other)"
        }
    }
}

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

/// The loop: wait for the tick (or a stop signal), run, log one line, schedule the next.
struct WatchLoop {
    let schedule: WatchSchedule
    let grace: Double
    let runner: SyncChild
    let context: CommandContext
    let json: Bool
    /// Health and metrics for `--metrics-addr`.
    let monitor: WatchMonitor
    /// Retention between runs (`--prune-keep-days`), when asked for.
    var pruner: WatchPruner?
    private var failures = 0
    private var ticks = 0

    init(schedule: WatchSchedule, grace: Double, runner: SyncChild, context: CommandContext, json: Bool, monitor: WatchMonitor) {
        self.schedule = schedule
        self.grace = grace
        self.runner = runner
        self.context = context
        self.json = json
        self.monitor = monitor
    }

    private var log: Logger { context.console.logger }

    /// Runs until a stop signal (`StopSignal.install()` must have been called).
    mutating func run() -> ExitStatus {
        log.info("watch.started", "watching: a sync every \(DurationText.describe(schedule.interval))",
                 fields: ["intervalSeconds": .number(schedule.interval), "graceSeconds": .number(grace)])
        var next = Date()
        defer { monitor.stopping() }
        while true {
            monitor.waiting(until: next)
            guard waitUntil(next) else { break }
            let started = Date()
            monitor.runStarted(at: started)
            ticks += 1
            let outcome: TickOutcome
            do {
                outcome = try runner.run(grace: grace, shouldStop: { StopSignal.name != nil }, onStopRequested: { [log, grace, monitor] in
                    monitor.stopping()
                    log.info("watch.stopping", "\(StopSignal.name ?? "signal"): letting the current run finish (up to \(DurationText.describe(grace)))")
                })
            } catch {
                log.error("watch.spawn.failed", "cannot start a sync: \(error)")
                return .failed
            }
            let failed = report(outcome)
            if StopSignal.name != nil { break }
            pruner?.pruneIfDue(log: log)
            let now = Date()
            if failed {
                failures += 1
                let wait = schedule.backoff(failures: failures)
                next = now.addingTimeInterval(wait)
                log.warn("watch.backoff", "\(failures) failed run\(failures == 1 ? "" : "s") in a row: next run in \(DurationText.describe(wait))",
                         fields: ["failures": .number(Double(failures)), "waitSeconds": .number(wait)])
            } else {
                failures = 0
                let tick = schedule.nextTick(started: started, now: now)
                next = tick.at
                if tick.skipped > 0 {
                    log.info("watch.tick.skipped", "skipped \(tick.skipped) tick\(tick.skipped == 1 ? "" : "s"): the run took \(String(format: "%.2f", now.timeIntervalSince(started)))s, longer than the interval",
                             fields: ["skipped": .number(Double(tick.skipped))])
                }
            }
        }
        log.info("watch.stopped", "stopped by \(StopSignal.name ?? "signal") after \(ticks) run\(ticks == 1 ? "" : "s")",
                 fields: ["runs": .number(Double(ticks))])
        return .success
    }

    /// Sleeps until `date`; false when a stop signal came first.
    private func waitUntil(_ date: Date) -> Bool {
        while Date() < date {
            if StopSignal.name != nil { return false }
            Thread.sleep(forTimeInterval: min(0.05, max(0.001, date.timeIntervalSinceNow)))
        }
        return StopSignal.name == nil
    }

    /// Logs the run's one line (and prints its JSON with `--json`); true when it counts as failed.
    private func report(_ outcome: TickOutcome) -> Bool {
        switch outcome {
        case .abandoned(let signal, let seconds):
            log.warn("run.abandoned", "run abandoned after \(String(format: "%.2f", seconds))s (signal \(signal)): its walk was not committed; a push it cut short is re-sent by the next run",
                     fields: ["seconds": .number(seconds.rounded(toPlaces: 3))])
            monitor.runEnded(RunSummary(unreportedAt: Date()))
            return true
        case .exited(let status, let report, let seconds):
            if let report, json { context.console.json(report) }
            guard let report, report["status"]?.stringValue != nil else {
                if status == ExitStatus.lockHeldCode {
                    log.info("watch.tick.skipped", "tick skipped: another process holds the database's writer lock")
                    monitor.runEnded(nil)
                    return false
                }
                log.error("run.failed", "sync exited with status \(status) after \(String(format: "%.2f", seconds))s (see its message above)",
                          fields: ["exitStatus": .number(Double(status)), "seconds": .number(seconds.rounded(toPlaces: 3))])
                monitor.runEnded(RunSummary(unreportedAt: Date()))
                return true
            }
            let summary = RunSummary(report: report, finishedAt: Date())
            monitor.runEnded(summary)
            RunFinishedEvent.log(summary, exitStatus: status, seconds: seconds, to: log)
            // Back off after an outage; a run partial for its mapping or content keeps the schedule.
            let reasons = summary.reasons.compactMap(RunReason.init(rawValue:))
            return status != 0 && (summary.status == RunStatus.failed.rawValue || reasons.isEmpty || reasons.contains(where: \.isOutage))
        }
    }
}

extension ExitStatus {
    /// `sync`'s exit status when another process holds the writer lock (README "Exit status").
    static let lockHeldCode: Int32 = 5
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
