/// A fault to inject into the next `count` requests that match `method` and `pathContains`
/// (and `matches`, when given). Rules are tried in the order they were added; one rule applies
/// per request.
public struct FakePortFault: Sendable {
    /// What happens to a matching request.
    public enum Action: Sendable {
        /// Answer `status` at once, without processing (nothing is written). `retryAfter` adds a
        /// `Retry-After` header; `rateLimitHeaders` false leaves out the `x-ratelimit-*` headers.
        case status(Int, retryAfter: Int? = nil, rateLimitHeaders: Bool = true)
        /// Process the request normally, then wait before answering.
        case delay(seconds: Double)
        /// Close the connection without answering, before or after processing the request.
        /// (The loopback server cannot send a TCP reset; this stands in for both.)
        case closeConnection(afterProcessing: Bool)
        /// Process the request, then send the headers and only `bytes` of the body.
        case truncateBody(bytes: Int)
        /// Expire every access token server-side before handling, so this request gets a 401.
        case expireTokens
    }

    public var method: String?
    public var pathContains: String?
    public var matches: (@Sendable (HTTPRequest) -> Bool)?
    public var count: Int
    public var action: Action

    public init(
        method: String? = nil, pathContains: String? = nil, count: Int = 1, action: Action,
        matches: (@Sendable (HTTPRequest) -> Bool)? = nil
    ) {
        self.method = method
        self.pathContains = pathContains
        self.count = count
        self.action = action
        self.matches = matches
    }

    /// 413 on the next `count` bulk upserts.
    public static func payloadTooLargeOnBulk(count: Int = 1) -> FakePortFault {
        FakePortFault(method: "POST", pathContains: "/entities/bulk", count: count, action: .status(413))
    }

    func applies(to request: HTTPRequest) -> Bool {
        if let method, method.uppercased() != request.method.uppercased() { return false }
        if let pathContains, !request.path.contains(pathContains) { return false }
        if let matches, !matches(request) { return false }
        return true
    }
}

/// The pending fault rules; takes one use from the first rule that matches a request.
struct FakePortFaultBook {
    private var rules: [FakePortFault] = []

    mutating func add(_ fault: FakePortFault) {
        if fault.count > 0 { rules.append(fault) }
    }

    mutating func clear() { rules.removeAll() }

    var pending: Int { rules.reduce(0) { $0 + $1.count } }

    /// The action for this request, if a rule matches (its count goes down by one).
    mutating func take(for request: HTTPRequest) -> FakePortFault.Action? {
        guard let index = rules.firstIndex(where: { $0.applies(to: request) }) else { return nil }
        let action = rules[index].action
        rules[index].count -= 1
        if rules[index].count <= 0 { rules.remove(at: index) }
        return action
    }
}
