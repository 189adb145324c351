import Foundation

/// A fake of Port's REST API (see /work/shared/reference/port-api.md §9) for tests and benchmarks:
/// tokens, blueprints, entity upserts/bulk/delete/search with Port's validation, rate limiting,
/// fault injection and an inspection API. Thread-safe: every request and admin call runs under one
/// lock, so the state is always consistent.
///
/// ```swift
/// let port = try FakePort.start(clientId: "id", clientSecret: "secret")
/// defer { port.stop() }
/// try port.createBlueprint(["identifier": "service", "title": "Service", "schema": ["properties": [:]]])
/// // … point the client at port.baseURL …
/// ```
public final class FakePort: @unchecked Sendable {
    let lock = NSLock()
    // Everything below is guarded by `lock`.
    var configuration: FakePortConfiguration
    var clock = FakePortClock()
    var tokens: FakePortTokens
    var limiter: FakePortRateLimiter
    var faults = FakePortFaultBook()
    var log = FakePortRequestLog()
    var store = FakePortStore()
    var forcedFailures: [String: FakePortError] = [:]
    var integrations: [String: FakeJSON] = [:]
    /// Every accepted `PATCH /v1/integration/{id}/resync-state` body, in order, by integration.
    var resyncStateReports: [String: [FakeJSON]] = [:]
    /// Refuse resync-state members beyond Ocean's five (422), as a strict schema would.
    var strictResyncState = false
    private var server: HTTPServer?

    /// A fake not bound to any socket; feed it with `handle(_:)` or call `start()`.
    public init(configuration: FakePortConfiguration = FakePortConfiguration()) {
        self.configuration = configuration
        tokens = FakePortTokens(lifetime: configuration.tokenLifetime)
        limiter = FakePortRateLimiter(rule: configuration.rateLimit)
    }

    /// Starts a fake on 127.0.0.1 that knows one client (plus any in `configuration.clients`).
    public static func start(
        clientId: String, clientSecret: String, port: UInt16 = 0,
        configuration: FakePortConfiguration = FakePortConfiguration()
    ) throws -> FakePort {
        var configuration = configuration
        configuration.clients[clientId] = clientSecret
        let fake = FakePort(configuration: configuration)
        try fake.start(port: port)
        return fake
    }

    /// Serves this fake over HTTP on 127.0.0.1 (`port` 0 picks a free one).
    public func start(port: UInt16 = 0) throws {
        let server = try HTTPServer(port: port) { [weak self] request in
            guard let self else { return HTTPResponse(status: 503, fault: .closeConnection) }
            return self.handle(request)
        }
        locked { self.server = server }
    }

    /// `http://127.0.0.1:<port>` of the running server ("" when not started).
    public var baseURL: String { locked { server?.baseURL ?? "" } }

    /// Stops the HTTP server (the state stays inspectable).
    public func stop() {
        let server = locked { () -> HTTPServer? in
            defer { self.server = nil }
            return self.server
        }
        server?.stop()
    }

    /// Answers one request: the loopback server's handler.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        locked {
            let route = FakePortRoute(method: request.method, rawPath: request.path)
            if route.isAdmin, configuration.adminEndpoints { return adminEndpoint(route) }
            let now = clock.now()
            let traceId = Self.traceId()
            let reply = respond(to: request, route: route, now: now)
            var headers = [("Content-Type", "application/json; charset=utf-8"), ("X-Trace-Id", traceId)]
            if reply.rateLimitHeaders { headers += limiter.headers(now: now, exhausted: reply.exhausted) }
            headers += reply.headers
            log.append(FakePortRequestRecord(
                method: request.method, path: request.path, query: request.query, status: reply.status,
                userAgent: request.headers["user-agent"], route: route.template, isWrite: route.isWrite,
                traceId: traceId))
            return HTTPResponse(status: reply.status, headers: headers, body: reply.bodyData, fault: reply.fault)
        }
    }

    /// Faults, rate limit, size limit, authentication, then the route.
    private func respond(to request: HTTPRequest, route: FakePortRoute, now: Date) -> FakePortReply {
        var lateFault: HTTPResponse.Fault?
        switch faults.take(for: request) {
        case .status(let status, let retryAfter, let rateLimitHeaders)?:
            var reply = FakePortReply(error: FakePortError(
                status: status, code: FakePortError.code(forStatus: status), message: "Injected fault: HTTP \(status)"))
            if let retryAfter { reply.headers.append(("Retry-After", String(retryAfter))) }
            reply.rateLimitHeaders = rateLimitHeaders
            return reply
        case .closeConnection(afterProcessing: false)?:
            var reply = FakePortReply(status: 0, body: nil)
            reply.fault = .closeConnection
            return reply
        case .closeConnection(afterProcessing: true)?: lateFault = .closeConnection
        case .delay(let seconds)?: lateFault = .delay(seconds: seconds)
        case .truncateBody(let bytes)?: lateFault = .truncateBody(bytes: bytes)
        case .expireTokens?: tokens.expire()
        case nil: break
        }
        var reply = process(request, route: route, now: now)
        reply.fault = lateFault
        return reply
    }

    private func process(_ request: HTTPRequest, route: FakePortRoute, now: Date) -> FakePortReply {
        guard limiter.consume(now: now) else {
            var reply = FakePortReply(error: FakePortError(
                status: 429, code: "rate_limit_exceeded",
                message: "Rate limit exceeded: \(limiter.rule.limit) requests per \(limiter.rule.period) seconds"))
            if limiter.rule.sendsRetryAfter {
                reply.headers.append(("Retry-After", String(limiter.secondsUntilReset(now: now))))
            }
            return reply
        }
        guard request.body.count <= configuration.maxBodyBytes else {
            return FakePortReply(error: FakePortError(
                status: 413, code: "payload_too_large", message: "Request body is too large (limit is 1MiB)"))
        }
        do {
            if route == .accessToken { return try accessToken(request, now: now) }
            let context = try authenticate(request, now: now)
            return try dispatch(route, context)
        } catch {
            return FakePortReply(error: error)
        }
    }

    private func dispatch(_ route: FakePortRoute, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        switch route {
        case .listBlueprints: return listBlueprints()
        case .createBlueprint: return try createBlueprint(context)
        case .getBlueprint(let bp): return try getBlueprint(bp)
        case .replaceBlueprint(let bp): return try replaceBlueprint(bp, context)
        case .patchBlueprint(let bp): return try patchBlueprint(bp, context)
        case .deleteBlueprint(let bp): return try deleteBlueprint(bp)
        case .createEntity(let bp): return try createEntity(bp, context)
        case .bulkCreate(let bp): return try bulkCreate(bp, context)
        case .getEntity(let bp, let id): return try getEntity(bp, id, context)
        case .deleteEntity(let bp, let id): return try deleteEntity(bp, id, context)
        case .bulkDelete(let bp): return try bulkDelete(bp, context)
        case .searchBlueprint(let bp): return try searchBlueprint(bp, context)
        case .searchEntities: return try searchEntities(context)
        case .getIntegration(let id): return try getIntegration(id)
        case .patchResyncState(let id): return try patchResyncState(id, context)
        case .accessToken, .adminStats, .adminResetStats, .unknown:
            throw .notFound("Route \(context.request.method) \(context.request.path) not found")
        }
    }

    private func adminEndpoint(_ route: FakePortRoute) -> HTTPResponse {
        var body: FakeJSON = ["ok": true]
        if route == .adminStats {
            var members = log.stats.json.objectValue ?? [:]
            members["ok"] = true
            members["entities"] = .number(Double(store.totalCount))
            body = .object(members)
        } else {
            log.reset()
        }
        return HTTPResponse(
            status: 200, headers: [("Content-Type", "application/json; charset=utf-8")],
            body: Data(FakeJSON.bytes(body)))
    }

    /// Runs `body` with the lock held.
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private static func traceId() -> String {
        (0..<2).map { _ in
            let hex = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

/// Who is asking and when, for one authenticated request.
struct FakePortContext {
    let request: HTTPRequest
    /// `<clientId>@clients`, recorded as createdBy/updatedBy.
    let actor: String
    /// ISO-8601 with milliseconds.
    let now: String

    var userAgent: String? { request.headers["user-agent"] }
}
