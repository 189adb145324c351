import Foundation
import Store

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
