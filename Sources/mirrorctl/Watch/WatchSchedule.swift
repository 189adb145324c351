import Foundation

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
