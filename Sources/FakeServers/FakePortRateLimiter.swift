import Foundation

/// Counts requests in fixed windows (a window starts with the first request after the last one
/// ended) and renders the `x-ratelimit-*` headers.
struct FakePortRateLimiter {
    var rule: FakePortRateLimit {
        didSet { windowEnd = nil }
    }
    private var windowEnd: Date?
    private var used = 0

    init(rule: FakePortRateLimit) {
        self.rule = rule
    }

    /// Takes one request from the window; false when the window is exhausted.
    mutating func consume(now: Date) -> Bool {
        roll(now: now)
        guard used < rule.limit else { return false }
        used += 1
        return true
    }

    /// The four `x-ratelimit-*` headers; `exhausted` forces `remaining` to 0.
    mutating func headers(now: Date, exhausted: Bool = false) -> [(String, String)] {
        roll(now: now)
        let end = windowEnd ?? now.addingTimeInterval(TimeInterval(rule.period))
        let remaining = exhausted ? 0 : max(0, rule.limit - used)
        let reset: Int
        switch rule.resetFormat {
        case .epochSeconds: reset = Int(end.timeIntervalSince1970.rounded(.up))
        case .secondsUntilReset: reset = secondsUntilReset(now: now)
        }
        return [
            ("x-ratelimit-period", String(rule.period)),
            ("x-ratelimit-limit", String(rule.limit)),
            ("x-ratelimit-remaining", String(remaining)),
            ("x-ratelimit-reset", String(reset)),
        ]
    }

    /// Whole seconds (at least 1) until the current window ends.
    func secondsUntilReset(now: Date) -> Int {
        guard let end = windowEnd else { return rule.period }
        return max(1, Int(end.timeIntervalSince(now).rounded(.up)))
    }

    private mutating func roll(now: Date) {
        if let end = windowEnd, now < end { return }
        windowEnd = now.addingTimeInterval(TimeInterval(rule.period))
        used = 0
    }
}
