
/// One request as the fake saw it.
public struct FakePortRequestRecord: Sendable {
    public let method: String
    /// Raw (still percent-encoded) path.
    public let path: String
    public let query: [(name: String, value: String)]
    public let status: Int
    public let userAgent: String?
    /// The route template, e.g. `POST /v1/blueprints/{blueprint}/entities/bulk`.
    public let route: String
    /// True for POST/PUT/PATCH/DELETE other than the token and search routes.
    public let isWrite: Bool
    public let traceId: String
}

/// Request counters since the last reset.
public struct FakePortStats: Sendable, Equatable {
    public var totalRequests = 0
    public var writeRequests = 0
    /// Requests per route template (see `FakePortRequestRecord.route`).
    public var perRoute: [String: Int] = [:]

    public init() {}

    /// `{requests, writes, routes: {template: count}}`, for the admin endpoint.
    public var json: FakeJSON {
        .object([
            "requests": .number(Double(totalRequests)),
            "writes": .number(Double(writeRequests)),
            "routes": .object(perRoute.mapValues { .number(Double($0)) }),
        ])
    }
}

/// The request log and its counters.
struct FakePortRequestLog {
    private(set) var records: [FakePortRequestRecord] = []
    private(set) var stats = FakePortStats()
    /// Keeps memory flat in long benchmarks; the counters still see every request.
    var maxRecords = 100_000

    mutating func append(_ record: FakePortRequestRecord) {
        stats.totalRequests += 1
        if record.isWrite { stats.writeRequests += 1 }
        stats.perRoute[record.route, default: 0] += 1
        if records.count >= maxRecords { records.removeFirst(records.count / 2) }
        records.append(record)
    }

    mutating func reset() {
        records.removeAll()
        stats = FakePortStats()
    }
}
