import Foundation

/// The inspection and control API for tests: read the state, edit it behind the API's back,
/// tune limits and inject faults. Every method is thread-safe.
extension FakePort {
    // MARK: - State

    /// A blueprint's entities in identifier order.
    public func entities(blueprint: String) -> [FakePortEntity] { locked { store.sortedEntities(blueprint) } }

    public func entity(blueprint: String, identifier: String) -> FakePortEntity? {
        locked { store.entity(blueprint, identifier) }
    }

    /// Every entity, by blueprint then identifier.
    public var allEntities: [FakePortEntity] { locked { store.allEntities } }

    /// Every blueprint, by identifier.
    public var blueprints: [FakePortBlueprint] {
        locked { store.blueprints.keys.sorted().compactMap { store.blueprints[$0] } }
    }

    public func blueprint(_ identifier: String) -> FakePortBlueprint? { locked { store.blueprints[identifier] } }

    /// Creates a blueprint without HTTP, with the API's validation. `permissive` blueprints accept
    /// any property and any undeclared relation (targets of undeclared relations are not checked).
    @discardableResult
    public func createBlueprint(_ definition: FakeJSON, permissive: Bool = false) throws(FakePortError) -> FakePortBlueprint {
        try lockedThrowing { () throws(FakePortError) in
            guard let body = definition.objectValue else { throw FakePortError.invalid("blueprint must be object") }
            return try insertBlueprint(body, permissive: permissive, actor: "admin", now: FakePortClock.iso8601(clock.now()))
        }
    }

    /// Creates permissive blueprints with empty schemas, e.g. the seven Backstage kinds.
    public func createPermissiveBlueprints(_ identifiers: [String]) {
        locked {
            let now = FakePortClock.iso8601(clock.now())
            for identifier in identifiers where store.blueprints[identifier] == nil {
                store.blueprints[identifier] = .permissive(identifier, by: "admin", at: now)
            }
        }
    }

    /// Writes an entity without HTTP, with the API's validation and semantics (as `POST
    /// …/entities?upsert=true[&merge=true]`), e.g. to seed state or simulate another writer.
    @discardableResult
    public func upsertEntity(
        blueprint: String, _ body: FakeJSON, merge: Bool = false, createMissingRelatedEntities: Bool = false,
        clientId: String = "admin", userAgent: String? = nil
    ) throws(FakePortError) -> FakePortEntity {
        try lockedThrowing { () throws(FakePortError) in
            var options = FakePortWriteOptions()
            options.upsert = true
            options.merge = merge
            options.createMissingRelatedEntities = createMissingRelatedEntities
            let request = HTTPRequest(
                method: "POST", path: "", query: [], headers: userAgent.map { ["user-agent": $0] } ?? [:], body: Data())
            let context = FakePortContext(
                request: request, actor: "\(clientId)@clients", now: FakePortClock.iso8601(clock.now()))
            let writer = try writer(blueprint, FakePortEntityWriter.mode(for: options), options, context, autoCreate: true)
            return try writer.write(body, into: &store).entity
        }
    }

    /// Edits a stored entity in place, as someone editing Port by hand would (no validation);
    /// bumps `updatedAt` and sets `updatedBy` to `editor`. False when the entity does not exist.
    @discardableResult
    public func editEntity(
        blueprint: String, identifier: String, editor: String = "someone@example.com",
        _ edit: (inout FakePortEntity) -> Void
    ) -> Bool {
        locked {
            guard var entity = store.entity(blueprint, identifier) else { return false }
            edit(&entity)
            entity.blueprint = blueprint
            entity.updatedAt = FakePortClock.iso8601(clock.now())
            entity.updatedBy = editor
            if entity.identifier != identifier { store.remove(blueprint, identifier) }
            store.put(entity)
            return true
        }
    }

    /// Removes a stored entity by hand (no dependents check). False when it did not exist.
    @discardableResult
    public func deleteEntity(blueprint: String, identifier: String) -> Bool {
        locked { store.remove(blueprint, identifier) != nil }
    }

    // MARK: - Request log

    /// Every request since the last `resetLog()` (the oldest are dropped past 100,000).
    public var requestLog: [FakePortRequestRecord] { locked { log.records } }

    public var stats: FakePortStats { locked { log.stats } }

    public var totalRequests: Int { locked { log.stats.totalRequests } }

    /// POST/PUT/PATCH/DELETE requests other than the token and search routes.
    public var writeRequests: Int { locked { log.stats.writeRequests } }

    /// Requests per route template, e.g. `POST /v1/blueprints/{blueprint}/entities/bulk`.
    public var requestsPerRoute: [String: Int] { locked { log.stats.perRoute } }

    public func resetLog() { locked { log.reset() } }

    // MARK: - Behaviour

    /// Replaces the rate limit and starts a fresh window.
    public func setRateLimit(_ rule: FakePortRateLimit) {
        locked {
            configuration.rateLimit = rule
            limiter.rule = rule
        }
    }

    public func setRateLimit(
        limit: Int, period: Int, resetFormat: FakePortRateLimit.ResetFormat = .epochSeconds, sendsRetryAfter: Bool = false
    ) {
        setRateLimit(FakePortRateLimit(limit: limit, period: period, resetFormat: resetFormat, sendsRetryAfter: sendsRetryAfter))
    }

    /// Lifetime of tokens minted from now on.
    public func setTokenLifetime(_ seconds: TimeInterval) {
        locked {
            configuration.tokenLifetime = seconds
            tokens.lifetime = seconds
        }
    }

    /// Expires access tokens server-side (all, or one client's) before clients expect it.
    public func expireTokens(clientId: String? = nil) { locked { tokens.expire(clientId: clientId) } }

    public func addClient(id: String, secret: String) { locked { configuration.clients[id] = secret } }

    /// Moves the fake's clock forward (token expiry, rate-limit windows, timestamps).
    public func advanceClock(by seconds: TimeInterval) { locked { clock.offset += seconds } }

    public func setAutoBlueprints(_ enabled: Bool) { locked { configuration.autoBlueprints = enabled } }

    // MARK: - Faults

    public func injectFault(_ fault: FakePortFault) { locked { faults.add(fault) } }

    /// Fails the next `count` requests matching method/path with `status`.
    public func injectFault(
        status: Int, method: String? = nil, pathContains: String? = nil, count: Int = 1, retryAfter: Int? = nil,
        rateLimitHeaders: Bool = true
    ) {
        injectFault(FakePortFault(
            method: method, pathContains: pathContains, count: count,
            action: .status(status, retryAfter: retryAfter, rateLimitHeaders: rateLimitHeaders)))
    }

    /// Uses of injected faults still pending.
    public var pendingFaults: Int { locked { faults.pending } }

    public func clearFaults() { locked { faults.clear() } }

    /// Makes every write of these identifiers fail (bulk: an `errors[]` item, so the request
    /// answers 207) until `clearForcedFailures()`.
    public func forceFailures(
        identifiers: [String], status: Int = 422, error: String = "blueprint_schema_mismatch",
        message: String = "Injected failure"
    ) {
        locked {
            for identifier in identifiers {
                forcedFailures[identifier] = FakePortError(status: status, code: error, message: message)
            }
        }
    }

    public func clearForcedFailures() { locked { forcedFailures.removeAll() } }

    // MARK: -

    /// `locked` for bodies with typed throws.
    func lockedThrowing<T>(_ body: () throws(FakePortError) -> T) throws(FakePortError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
