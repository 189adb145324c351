/// Counters of what a fake served, for tests and the benchmark.
public struct RequestStats: Sendable, Equatable {
    /// Requests answered (including errors and faults).
    public var requests = 0
    /// Response body bytes produced (before any truncation fault).
    public var bytesServed = 0
    /// Requests per path (without query), e.g. `/api/catalog/entities/by-query`.
    public var requestsByPath: [String: Int] = [:]
    /// Requests per response status (0: the connection was closed without an answer).
    public var requestsByStatus: [Int: Int] = [:]

    public init() {}

    mutating func record(path: String, status: Int, bytes: Int) {
        requests += 1
        bytesServed += bytes
        requestsByPath[path, default: 0] += 1
        requestsByStatus[status, default: 0] += 1
    }
}

/// One request as the fake saw it.
public struct LoggedRequest: Sendable {
    public let method: String
    public let path: String
    public let query: [(name: String, value: String)]
    public let status: Int
    public let bytes: Int
}
