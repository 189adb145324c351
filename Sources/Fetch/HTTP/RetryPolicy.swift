import Foundation

/// The one retry rule for every remote call (Backstage and Port): which failures are worth
/// another try, how long to wait, and when to give up.
///
/// Retryable: connection-level failures, 408, 429, 502, 503 and 504. Never 400/401/403/404/422:
/// those are answers, not accidents. The wait honours `Retry-After` (seconds or an HTTP date) and
/// then `x-ratelimit-reset` (seconds, or a Unix epoch when above 10,000, as Port sends), else
/// exponential backoff with ±10% jitter; every wait is capped, as are the attempts and total time.
/// With a `budget`, every call to one server during a run also draws on one shared allowance of
/// failure waits, and a server that proved unreachable or refused the credentials is not called
/// again that run (see `RetryBudget`).
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// Total seconds spent waiting across retries of one call before giving up.
    public var maxTotalWait: Double
    /// Absolute end of the whole run (`--timeout`), if any: no wait extends past it.
    public var deadline: Date?
    public var sleep: @Sendable (Double) -> Void
    /// The run's allowance for this server, shared by every connection to it (nil: per call only).
    public var budget: RetryBudget?

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 60, maxTotalWait: Double = 300,
                deadline: Date? = nil, budget: RetryBudget? = nil,
                sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotalWait = maxTotalWait
        self.deadline = deadline
        self.budget = budget
        self.sleep = sleep
    }

    /// This policy drawing on `budget`.
    public func sharing(_ budget: RetryBudget) -> RetryPolicy {
        var policy = self
        policy.budget = budget
        return policy
    }

    public static let retryableStatuses: Set<Int> = [408, 429, 502, 503, 504]

    /// Port rate-limits per organisation and asks clients to wait out its window: more attempts,
    /// as Ocean makes (10 retries), still bounded by `maxTotalWait`.
    public static let port = RetryPolicy(maxAttempts: 11, baseDelay: 0.3)

    public static func isRetryable(status: Int) -> Bool { retryableStatuses.contains(status) }

    /// What an HTTP answer other than 2xx means for the policy: 429 is throttling (the server is
    /// well and asks for patience), other retryable statuses are failures worth another try, the
    /// rest are final.
    public static func attempt<Value>(status: Int, error: Error, headers: [String: String]) -> Attempt<Value> {
        if status == 429 { return .throttled(error, headers: headers) }
        return isRetryable(status: status) ? .retry(error, headers: headers) : .failure(error)
    }

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
        /// The server failed (408, 5xx): worth another try; `headers` may carry a wait hint.
        case retry(Error, headers: [String: String])
        /// No answer at all (refused, reset, timed out): worth another try; a call that gives up
        /// on it finds the server unreachable, and the run's budget stops calling it.
        case unreachable(Error)
        /// The server asks for patience (429): waited out within this call's limits, without
        /// drawing on the run's failure budget.
        case throttled(Error, headers: [String: String])
        case failure(Error)
    }

    /// Runs `body` until it succeeds, fails for good, or the policy's limits are reached; then
    /// throws the last error. `onRetry` hears about each wait (for logs and counters). Throws the
    /// budget's `CircuitTrip` at once when the server was already given up on this run.
    public func run<Value>(_ body: (Int) -> Attempt<Value>,
                           onRetry: (Int, Double, Error) -> Void = { _, _, _ in }) throws -> Value {
        if let trip = budget?.trip { throw trip }
        var waited = 0.0
        var attempt = 1
        while true {
            let error: Error, headers: [String: String]
            var failing = true, unreachable = false
            switch body(attempt) {
            case .success(let value):
                return value
            case .failure(let final):
                throw final
            case .retry(let failure, let hints):
                (error, headers) = (failure, hints)
            case .unreachable(let failure):
                (error, headers, unreachable) = (failure, [:], true)
            case .throttled(let failure, let hints):
                (error, headers, failing) = (failure, hints, false)
            }
            guard attempt < maxAttempts else { throw giveUp(error, attempts: attempt, unreachable: unreachable) }
            var wait = delay(afterAttempt: attempt, headers: headers)
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { throw RetryExhausted(attempts: attempt, last: error, deadlineReached: true) }
                wait = min(wait, left)
            }
            guard waited + wait <= maxTotalWait else { throw giveUp(error, attempts: attempt, unreachable: unreachable) }
            if failing, let budget, !budget.spend(wait) {
                throw giveUp(error, attempts: attempt, unreachable: unreachable, budgetSpent: true)
            }
            onRetry(attempt, wait, error)
            if let budget {
                // Another connection may give up on the server meanwhile: stop waiting then.
                if let trip = budget.pause(wait) { throw trip }
            } else if wait > 0 {
                sleep(wait)
            }
            waited += wait
            attempt += 1
        }
    }

    /// The error that ends a call: with a budget, a server that never answered (or kept failing
    /// past the run's allowance) is given up on for the rest of the run, and the trip says why.
    private func giveUp(_ error: Error, attempts: Int, unreachable: Bool, budgetSpent: Bool = false) -> Error {
        let exhausted = RetryExhausted(attempts: attempts, last: error)
        guard let budget else { return exhausted }
        if unreachable {
            budget.open(.unreachable, detail: "\(exhausted)")
        } else if budgetSpent {
            budget.open(.failing, detail: "\(exhausted)")
        }
        return budget.trip ?? exhausted
    }
}

/// One server's retry allowance for one whole run, shared by all its connections: the circuit
/// breaker. Waits after failures (5xx, 408, no answer) draw on `maxWait`; once a call gives up
/// because the server never answered, the allowance is spent, or the server refused the
/// credentials, the budget trips and every further call to that server fails at once with the
/// trip, so a dead server costs one bounded wait per run instead of one per entity or page.
public final class RetryBudget: @unchecked Sendable {
    /// The server, as messages name it (`Port`, `Backstage`).
    public let server: String
    /// Seconds of failure waits the whole run may spend on this server.
    public let maxWait: Double
    private let condition = NSCondition()
    private var spent = 0.0
    private var tripped: CircuitTrip?

    /// The default allowance per run and server: long enough for a restart or a failover,
    /// short enough that a dead server fails a cron run in well under a minute.
    public static let defaultMaxWait = 30.0

    public init(server: String, maxWait: Double = RetryBudget.defaultMaxWait) {
        self.server = server
        self.maxWait = maxWait
    }

    /// Why calls to the server stopped, once they have.
    public var trip: CircuitTrip? {
        condition.lock()
        defer { condition.unlock() }
        return tripped
    }

    /// Takes `seconds` from the allowance; false when it would overdraw it.
    func spend(_ seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard tripped == nil, spent + seconds <= maxWait else { return false }
        spent += seconds
        return true
    }

    /// Stops every further call to the server this run (the first cause wins) and wakes waiters.
    public func open(_ cause: CircuitTrip.Cause, detail: String) {
        condition.lock()
        if tripped == nil { tripped = CircuitTrip(server: server, cause: cause, detail: detail, maxWait: maxWait) }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits `seconds`, or less when the budget trips meanwhile; returns the trip then.
    func pause(_ seconds: Double) -> CircuitTrip? {
        guard seconds > 0 else { return trip }
        let until = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while tripped == nil && condition.wait(until: until) {}
        return tripped
    }
}

/// Why a server was given up on for the rest of a run. Never holds a credential.
public struct CircuitTrip: Error, Sendable, CustomStringConvertible {
    public enum Cause: String, Sendable {
        /// No answer: connection refused, reset or timed out, retries and all.
        case unreachable
        /// It kept failing (5xx, 408) until the run's retry allowance was spent.
        case failing
        /// It refused the configured credentials (a 401/403 that renewing the token cannot fix).
        case credentialsRefused
    }

    public let server: String
    public let cause: Cause
    /// The last failure, with its URL.
    public let detail: String
    let maxWait: Double

    public var description: String {
        switch cause {
        case .unreachable: return "\(server) is unreachable: \(detail)"
        case .failing: return "\(server) kept failing, the run's retry budget (\(Int(maxWait))s of waits) is spent: \(detail)"
        case .credentialsRefused: return "\(server) refused the credentials: \(detail)"
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
