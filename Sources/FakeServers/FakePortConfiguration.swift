import Foundation

/// How a fake Port behaves. Everything has a default that suits unit tests.
public struct FakePortConfiguration: Sendable {
    /// Known machine credentials: clientId → clientSecret.
    public var clients: [String: String] = [:]
    /// Seconds an access token lives (Port: 3 hours).
    public var tokenLifetime: TimeInterval = 10800
    /// The fixed-window rate limit applied to every request.
    public var rateLimit: FakePortRateLimit = .generous
    /// Request bodies larger than this get 413 (Port: 1 MiB).
    public var maxBodyBytes: Int = 1 << 20
    /// Entity writes to an unknown blueprint create it, permissively, instead of answering 404.
    public var autoBlueprints: Bool = false
    /// Serve `GET /admin/stats` and `POST /admin/reset-stats` (for scripts; never logged or limited).
    public var adminEndpoints: Bool = false

    public init() {}
}

/// A fixed-window rate limit and how it is advertised (port-api.md §7).
public struct FakePortRateLimit: Sendable, Equatable {
    /// What `x-ratelimit-reset` carries.
    public enum ResetFormat: Sendable, Equatable {
        /// UTC epoch seconds of the window's end (Port's docs).
        case epochSeconds
        /// Seconds until the window ends (what Port's Terraform provider assumes).
        case secondsUntilReset
    }

    /// Requests allowed per window.
    public var limit: Int
    /// Window length in seconds.
    public var period: Int
    public var resetFormat: ResetFormat
    /// Send `Retry-After` (seconds until reset) on 429s. Port documents none.
    public var sendsRetryAfter: Bool

    public init(limit: Int, period: Int, resetFormat: ResetFormat = .epochSeconds, sendsRetryAfter: Bool = false) {
        self.limit = max(0, limit)
        self.period = max(1, period)
        self.resetFormat = resetFormat
        self.sendsRetryAfter = sendsRetryAfter
    }

    /// Effectively unlimited: a million requests per 5 minutes.
    public static let generous = FakePortRateLimit(limit: 1_000_000, period: 300)
}
