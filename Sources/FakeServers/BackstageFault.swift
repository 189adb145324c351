/// Something the fake Backstage does wrong on purpose, for tests of retries and partial walks.
/// Inject with `FakeBackstage.injectFault(_:)`; faults are checked in the order injected and the
/// first one that applies to a request wins.
public struct BackstageFault: Sendable {
    /// What goes wrong.
    public enum Effect: Sendable {
        /// Answers with this status and a Backstage-shaped error body; 429 and 503 may carry
        /// `Retry-After` (seconds).
        case status(Int, retryAfterSeconds: Int?)
        /// Answers with an HTML page and this status, as a proxy in front of Backstage would.
        case nonJSON(status: Int)
        /// Serves the real answer but sends only `bytes` of its body (half when nil), then closes.
        case truncatedBody(bytes: Int?)
        /// Serves the real answer after a delay.
        case delay(seconds: Double)
        /// Closes the connection without answering.
        case closeConnection
    }

    /// When it goes wrong.
    public enum Trigger: Sendable {
        /// The next `count` requests that match.
        case nextRequests(Int)
        /// Every `/entities/by-query` page after page `n` of a walk (pages 1…n succeed), until cleared.
        case afterPage(Int)
    }

    public var effect: Effect
    public var trigger: Trigger
    public var matcher: RequestMatcher

    public init(effect: Effect, trigger: Trigger = .nextRequests(1), matcher: RequestMatcher = .any) {
        self.effect = effect
        self.trigger = trigger
        self.matcher = matcher
    }

    /// The next `times` matching requests answer `status` (e.g. 429 with `retryAfter` seconds).
    public static func status(_ status: Int, retryAfter: Int? = nil, times: Int = 1,
                              matching matcher: RequestMatcher = .any) -> BackstageFault {
        BackstageFault(effect: .status(status, retryAfterSeconds: retryAfter), trigger: .nextRequests(times), matcher: matcher)
    }

    /// Pages 1…`page` of every by-query walk (of `kind`, when given) succeed; every later page
    /// answers `status`.
    public static func failAfterPage(_ page: Int, status: Int, kind: String? = nil) -> BackstageFault {
        BackstageFault(effect: .status(status, retryAfterSeconds: nil), trigger: .afterPage(page),
                       matcher: RequestMatcher(kind: kind))
    }

    public static func delay(_ seconds: Double, times: Int = 1, matching matcher: RequestMatcher = .any) -> BackstageFault {
        BackstageFault(effect: .delay(seconds: seconds), trigger: .nextRequests(times), matcher: matcher)
    }

    public static func truncatedBody(bytes: Int? = nil, times: Int = 1,
                                     matching matcher: RequestMatcher = .any) -> BackstageFault {
        BackstageFault(effect: .truncatedBody(bytes: bytes), trigger: .nextRequests(times), matcher: matcher)
    }

    public static func nonJSON(status: Int = 502, times: Int = 1, matching matcher: RequestMatcher = .any) -> BackstageFault {
        BackstageFault(effect: .nonJSON(status: status), trigger: .nextRequests(times), matcher: matcher)
    }

    public static func closeConnection(times: Int = 1, matching matcher: RequestMatcher = .any) -> BackstageFault {
        BackstageFault(effect: .closeConnection, trigger: .nextRequests(times), matcher: matcher)
    }
}

/// Which requests a fault or hook applies to. Every field that is set must match.
public struct RequestMatcher: Sendable {
    /// HTTP method, e.g. `GET`.
    public var method: String?
    /// A fragment of the path, e.g. `by-query` or `/entities/by-refs`.
    public var pathContains: String?
    /// A kind the request is about (case-insensitive): a `kind=` value of a by-query filter (or of
    /// the filter inside its cursor), the kind of a by-name path, or of a ref sent to by-refs.
    public var kind: String?
    /// A query parameter the request carries, e.g. `fields` (to play a server without projection).
    public var queryParameter: String?

    public init(method: String? = nil, pathContains: String? = nil, kind: String? = nil, queryParameter: String? = nil) {
        self.method = method
        self.pathContains = pathContains
        self.kind = kind
        self.queryParameter = queryParameter
    }

    /// Every request.
    public static let any = RequestMatcher()

    public static func path(_ fragment: String) -> RequestMatcher { RequestMatcher(pathContains: fragment) }

    public static func kind(_ kind: String) -> RequestMatcher { RequestMatcher(kind: kind) }

    func matches(_ context: RequestContext) -> Bool {
        if let method, method.uppercased() != context.method { return false }
        if let pathContains, !context.path.contains(pathContains) { return false }
        if let kind, !context.kinds.contains(kind.lowercased()) { return false }
        if let queryParameter, !context.queryNames.contains(queryParameter) { return false }
        return true
    }
}

/// What faults and hooks look at: method, path, the kinds involved and, for by-query, the page.
struct RequestContext {
    let method: String
    let path: String
    let kinds: Set<String>
    /// 1 for a by-query request without cursor, the cursor's page otherwise; nil for other routes.
    let page: Int?
    var queryNames: Set<String> = []
}

/// The injected faults and page hooks, with their remaining counts. Guarded by the fake's lock.
struct FaultBook {
    private var faults: [(fault: BackstageFault, remaining: Int?)] = []
    private var hooks: [PageHook] = []

    struct PageHook {
        let page: Int
        let matcher: RequestMatcher
        let repeats: Bool
        let action: @Sendable (FakeBackstage) -> Void
    }

    mutating func add(_ fault: BackstageFault) {
        switch fault.trigger {
        case .nextRequests(let count): faults.append((fault, max(0, count)))
        case .afterPage: faults.append((fault, nil))
        }
    }

    mutating func add(_ hook: PageHook) { hooks.append(hook) }

    mutating func clear() {
        faults = []
        hooks = []
    }

    /// The fault for this request, if any, counting it against its budget.
    mutating func take(for context: RequestContext) -> BackstageFault.Effect? {
        for index in faults.indices {
            let (fault, remaining) = faults[index]
            guard fault.matcher.matches(context) else { continue }
            switch fault.trigger {
            case .afterPage(let last):
                guard let page = context.page, page > last else { continue }
                return fault.effect
            case .nextRequests:
                guard let remaining, remaining > 0 else { continue }
                faults[index].remaining = remaining - 1
                if remaining == 1 { faults.remove(at: index) }
                return fault.effect
            }
        }
        return nil
    }

    /// The hooks to run before serving this by-query page (one-shot hooks are removed).
    mutating func takeHooks(for context: RequestContext) -> [@Sendable (FakeBackstage) -> Void] {
        guard let page = context.page else { return [] }
        var due: [@Sendable (FakeBackstage) -> Void] = []
        hooks.removeAll { hook in
            guard hook.page == page, hook.matcher.matches(context) else { return false }
            due.append(hook.action)
            return !hook.repeats
        }
        return due
    }
}
