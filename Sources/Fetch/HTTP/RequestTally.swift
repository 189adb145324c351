import Synchronization

/// Requests sent to one server, counted by HTTP status code, for `mirrorctl_requests_total`.
/// Every attempt counts (retries included); a request that got no HTTP answer at all (refused,
/// timed out, TLS failure) counts under the code `none`. Shared by every
/// connection to that server, so it is thread-safe.
public final class RequestTally: Sendable {
    /// The code a request without an HTTP answer is counted under.
    public static let unanswered = "none"

    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    /// Counts one request: its status code, or nil when no HTTP answer came.
    public func record(status: Int?) {
        let code = status.map(String.init) ?? RequestTally.unanswered
        counts.withLock { $0[code, default: 0] += 1 }
    }

    /// Requests so far by code (`"200"`, `"503"`, `"none"`).
    public var byCode: [String: Int] { counts.withLock { $0 } }
}
