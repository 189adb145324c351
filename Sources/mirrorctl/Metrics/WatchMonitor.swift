import Foundation
import Synchronization

/// What `watch --metrics-addr` serves, kept up to date by the watch loop and read by the metrics
/// server's threads: the metrics of the runs so far and whether the loop is alive.
///
/// `/healthz` is liveness, not alerting: it says the watcher is serving, not stopping, and not
/// stuck (the run it started last has finished, or is still inside `runBound`; between runs, the
/// next one is not overdue). A partial or failed run does not make it unhealthy, since restarting
/// the pod would not fix Port or a mapping; alert on `mirrorctl_last_run_success` and
/// `mirrorctl status` for that.
final class WatchMonitor: Sendable {
    private struct State {
        var metrics = RunMetrics()
        var runStarted: Date?
        var nextRun: Date?
        var stopping = false
    }

    /// How long a run may go on before the watcher counts as stuck.
    let runBound: Double
    /// How late the next run may start before the loop counts as stuck.
    static let startSlack = 60.0
    private let state = Mutex(State())

    init(runBound: Double) {
        self.runBound = runBound
    }

    /// The bound for a run: its `--timeout` (or an hour without one), plus the stop grace and a minute.
    static func runBound(timeout: Double?, grace: Double) -> Double {
        (timeout ?? 3600) + grace + 60
    }

    func waiting(until next: Date) { state.withLock { $0.nextRun = next; $0.runStarted = nil } }

    func runStarted(at date: Date = Date()) { state.withLock { $0.runStarted = date; $0.nextRun = nil } }

    /// A run ended; `summary` is nil when it did not count (another writer held the lock).
    func runEnded(_ summary: RunSummary?) {
        state.withLock { state in
            state.runStarted = nil
            if let summary { state.metrics.record(summary) }
        }
    }

    func stopping() { state.withLock { $0.stopping = true } }

    var metricsText: String { state.withLock { $0.metrics.text } }

    /// Healthy, or why not.
    func health(now: Date = Date()) -> (healthy: Bool, detail: String) {
        state.withLock { state in
            if state.stopping { return (false, "stopping") }
            if let started = state.runStarted, now.timeIntervalSince(started) > runBound {
                return (false, "a run has been going for \(DurationText.describe(now.timeIntervalSince(started).rounded())), longer than \(DurationText.describe(runBound))")
            }
            if let next = state.nextRun, now.timeIntervalSince(next) > WatchMonitor.startSlack {
                return (false, "the next run is \(DurationText.describe(now.timeIntervalSince(next).rounded())) overdue")
            }
            return (true, "ok")
        }
    }

    /// The server's routes: `/metrics` and `/healthz`.
    func reply(path: String) -> HTTPReply {
        switch path {
        case "/metrics":
            var reply = HTTPReply.text(200, metricsText)
            reply.contentType = MetricsText.contentType
            return reply
        case "/healthz":
            let health = health()
            return .text(health.healthy ? 200 : 503, health.detail + "\n")
        default:
            return .text(404, "not found: /metrics and /healthz are served\n")
        }
    }
}
