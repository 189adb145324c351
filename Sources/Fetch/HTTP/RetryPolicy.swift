import Foundation

/// The one retry rule for every remote call (Backstage and Port): which failures are worth
/// another try, how long to wait, and when to give up.
///
/// Retryable: connection-level failures, 408, 429, 502, 503 and 504. Never 400/401/403/404/422:
/// those are answers, not accidents. The wait honours `Retry-After` (seconds or an HTTP date) and
/// then `x-ratelimit-reset` (seconds, or a Unix epoch when above 10,000, as Port sends), else
/// exponential backoff with ±10% jitter; every wait is capped, as are the attempts and total time.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// Total seconds spent waiting across retries of one call before giving up.
    public var maxTotalWait: Double
    /// Absolute end of the whole run (`--timeout`), if any: no wait extends past it.
    public var deadline: Date?
    public var sleep: @Sendable (Double) -> Void

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 60, maxTotalWait: Double = 300,
                deadline: Date? = nil, sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotalWait = maxTotalWait
        self.deadline = deadline
        self.sleep = sleep
    }

    public static let retryableStatuses: Set<Int> = [408, 429, 502, 503, 504]

    /// Port rate-limits per organisation and asks clients to wait out its window: more attempts,
    /// as Ocean makes (10 retries), still bounded by `maxTotalWait`.
    public static let port = RetryPolicy(maxAttempts: 11, baseDelay: 0.3)

    public static func isRetryable(status: Int) -> Bool { retryableStatuses.contains(status) }

    /// Seconds to wait before attempt `attempt + 1` (attempt counts from 1).
    public func delay(afterAttempt attempt: Int, headers: [String: String], now: Date = Date()) -> Double {
        if let hinted = RetryPolicy.hintedDelay(headers: headers, now: now) {
            // A window that "resets now" is honoured with a short jittered pause, so clients
            // sharing a limit don't all retry in the same instant and burn their attempts.
            return min(max(hinted, 0) + Double.random(in: 0.05...0.25), maxDelay)
        }
        let exponential = baseDelay * pow(2, Double(attempt - 1))
        let jitter = exponential * Double.random(in: -0.1...0.1)
        return min(exponential + jitter, maxDelay)
    }

    /// The server's own hint: `Retry-After`, then `x-ratelimit-reset` — the latter only when the
    /// window is spent (`x-ratelimit-remaining` absent or 0). Port sends the rate-limit headers on
    /// every answer, so a 502/503 with requests left must not wait for the window to reset.
    static func hintedDelay(headers: [String: String], now: Date) -> Double? {
        if let retryAfter = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Double(retryAfter) { return seconds }
            let format = DateFormatter()
            format.locale = Locale(identifier: "en_US_POSIX")
            format.timeZone = TimeZone(identifier: "GMT")
            format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = format.date(from: retryAfter) { return date.timeIntervalSince(now) }
        }
        let remaining = headers["x-ratelimit-remaining"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        if (remaining ?? 0) <= 0, let reset = headers["x-ratelimit-reset"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
            return reset > 10_000 ? reset - now.timeIntervalSince1970 : reset
        }
        return nil
    }

    /// What one attempt produced, as the policy sees it.
    public enum Attempt<Value> {
        case success(Value)
        /// Worth another try; `headers` may carry a wait hint.
        case retry(Error, headers: [String: String])
        case failure(Error)
    }

    /// Runs `body` until it succeeds, fails for good, or the policy's limits are reached; then
    /// throws the last error. `onRetry` hears about each wait (for logs and counters).
    public func run<Value>(_ body: (Int) -> Attempt<Value>,
                           onRetry: (Int, Double, Error) -> Void = { _, _, _ in }) throws -> Value {
        var waited = 0.0
        var attempt = 1
        while true {
            switch body(attempt) {
            case .success(let value):
                return value
            case .failure(let error):
                throw error
            case .retry(let error, let headers):
                guard attempt < maxAttempts else { throw RetryExhausted(attempts: attempt, last: error) }
                var wait = delay(afterAttempt: attempt, headers: headers)
                if let deadline {
                    let left = deadline.timeIntervalSinceNow
                    guard left > 0 else { throw RetryExhausted(attempts: attempt, last: error, deadlineReached: true) }
                    wait = min(wait, left)
                }
                guard waited + wait <= maxTotalWait else { throw RetryExhausted(attempts: attempt, last: error) }
                onRetry(attempt, wait, error)
                if wait > 0 { sleep(wait) }
                waited += wait
                attempt += 1
            }
        }
    }
}

/// Retries ran out; `last` is the final failure.
public struct RetryExhausted: Error, CustomStringConvertible {
    public let attempts: Int
    public let last: Error
    public var deadlineReached = false

    public var description: String {
        deadlineReached
            ? "\(last) (run timeout reached after \(attempts) attempt\(attempts == 1 ? "" : "s"))"
            : "\(last) (gave up after \(attempts) attempt\(attempts == 1 ? "" : "s"))"
    }
}
