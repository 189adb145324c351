import Foundation

/// A loopback fake of the Backstage catalog API (reference §8) serving final entities under
/// `/api/catalog`: keyset-paged `by-query` with filters, projection and cursors, `by-refs`,
/// `by-name`, `by-uid` and the legacy unpaginated `/entities`, static-token auth and Backstage's
/// error bodies. Tests mutate it between pages, inject faults and read request counters.
/// Thread-safe; the server stops when `stop()` is called or the fake is released.
public final class FakeBackstage: @unchecked Sendable {
    /// How the fake behaves.
    public struct Configuration: Sendable {
        /// 0 picks a free port.
        public var port: UInt16 = 0
        /// Where the catalog routes live.
        public var basePath = "/api/catalog"
        /// Accepted static tokens (`Authorization: Bearer <token>`); nil turns auth off.
        public var tokens: [String]? = nil
        /// Tokens that are known but not allowed to use the catalog (answered with 403).
        public var restrictedTokens: [String] = []
        /// `limit` when the request has none: 20 per the docs, 200 in newer backends.
        public var defaultLimit = 20
        /// Seed for the uids the fake assigns; nil draws a random seed.
        public var uidSeed: UInt64? = nil
        /// Serves `/admin/mutate`, `/admin/stats` and `/admin/reset-stats` (see `BackstageAdmin`).
        public var adminRoutes = false
        /// How many recent requests `requestLog` keeps.
        public var requestLogLimit = 10_000

        public init(port: UInt16 = 0, tokens: [String]? = nil, defaultLimit: Int = 20) {
            self.port = port
            self.tokens = tokens
            self.defaultLimit = defaultLimit
        }
    }

    /// Why an entity could not be stored.
    public struct InvalidEntity: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let configuration: Configuration
    private var server: HTTPServer?

    // Everything below is guarded by `lock`.
    private let lock = NSLock()
    private let table = EntityTable()
    private var uidRandom: SeededRandom
    private var faults = FaultBook()
    private var counters = RequestStats()
    private var log: [LoggedRequest] = []

    /// Loads `entities` (final entities; see `load`) and starts serving.
    public init(configuration: Configuration = Configuration(), entities: [FakeJSON] = []) throws {
        self.configuration = configuration
        uidRandom = SeededRandom(seed: configuration.uidSeed ?? UInt64.random(in: .min ... .max))
        try load(entities)
        server = try HTTPServer(port: configuration.port) { [weak self] request in
            self?.respond(to: request) ?? HTTPResponse(status: 503)
        }
    }

    deinit {
        server?.stop()
    }

    /// `http://127.0.0.1:<port>`: what a user would configure as the Backstage URL.
    public var baseURL: String { server?.baseURL ?? "http://127.0.0.1:0" }

    /// `baseURL` plus the catalog base path.
    public var catalogURL: String { baseURL + configuration.basePath }

    public var port: UInt16 { server?.port ?? 0 }

    /// The HTTP server underneath (tests look at its connection counters).
    public var httpServer: HTTPServer? { server }

    /// Stops serving and frees the port.
    public func stop() {
        server?.stop()
    }

    // MARK: - Entities

    /// Adds final entities in bulk (serializing on all cores). Each keeps its `metadata.uid` when
    /// it has one that is not taken (otherwise it gets a new one) and its `metadata.etag` when it
    /// has one (otherwise the hash Backstage would give it). `metadata.namespace` defaults to `default`. An entity
    /// whose ref is already stored is upserted instead.
    public func load(_ entities: [FakeJSON]) throws(InvalidEntity) {
        // Normalizing and reading refs is per-entity work: spread it over the cores.
        typealias Prepared = (entity: FakeJSON, ref: BackstageRef, refText: String, uid: String?)
        let prepared = Parallel.map(entities) { entity -> Result<Prepared, InvalidEntity> in
            do throws(InvalidEntity) {
                let normalized = try Self.normalized(entity)
                guard let ref = BackstageRef(entity: normalized) else { throw InvalidEntity(description: "no kind or name") }
                return .success((normalized, ref, ref.description, normalized[path: ["metadata", "uid"]]?.stringValue))
            } catch {
                return .failure(error)
            }
        }
        var valid: [Prepared] = []
        valid.reserveCapacity(prepared.count)
        for item in prepared { valid.append(try item.get()) }

        var fresh: [(entity: FakeJSON, uid: String, ref: BackstageRef)] = []
        var updates: [FakeJSON] = []
        var seenRefs = Set<String>(minimumCapacity: valid.count)
        var seenUIDs = Set<String>(minimumCapacity: valid.count)
        lock.withLock {
            for item in valid {
                if table.row(refText: item.refText) != nil || !seenRefs.insert(item.refText).inserted {
                    updates.append(item.entity)
                    continue
                }
                var uid = item.uid ?? ""
                while uid.isEmpty || table.row(uid: uid) != nil || seenUIDs.contains(uid) { uid = uidRandom.uuidV4() }
                seenUIDs.insert(uid)
                fresh.append((item.entity, uid, item.ref))
            }
        }
        let rows = Parallel.map(fresh.map { ($0.entity, $0.uid, $0.ref) }) { item -> EntityTable.Row in
            var entity = item.0
            if entity[path: ["metadata", "uid"]]?.stringValue != item.1 { entity = Self.setting(uid: item.1, on: entity) }
            if entity[path: ["metadata", "etag"]]?.stringValue == nil {
                entity = EntityEtags.setting(etag: EntityEtags.etag(of: entity), on: entity)
            }
            return EntityTable.Row(entity: entity, uid: item.1, ref: item.2)
        }
        lock.withLock { table.insertMany(rows) }
        for entity in updates { try upsert(entity) }
    }

    /// Stores one final entity as Backstage would after processing it: an existing ref keeps its
    /// uid and gets a new etag (see `EntityEtags`) only if the content changed; a
    /// new ref keeps the entity's `metadata.uid` if given and free, else gets a new v4 uid.
    /// Returns the entity as now served.
    @discardableResult
    public func upsert(_ entity: FakeJSON) throws(InvalidEntity) -> FakeJSON {
        let normalized = try Self.normalized(entity)
        guard let ref = BackstageRef(entity: normalized) else { throw InvalidEntity(description: "no kind or name") }
        let content = EntityEtags.withoutIdentity(normalized)
        return lock.withLock {
            let uid: String
            if let existing = table.row(ref: ref) {
                if EntityEtags.withoutIdentity(existing.entity) == content { return existing.entity }
                uid = existing.uid
            } else if let given = normalized[path: ["metadata", "uid"]]?.stringValue, !given.isEmpty,
                      table.row(uid: given) == nil {
                uid = given
            } else {
                uid = uidRandom.uuidV4()
            }
            let stored = EntityEtags.setting(etag: EntityEtags.etag(of: content), on: Self.setting(uid: uid, on: content))
            table.insert(EntityTable.Row(entity: stored, uid: uid, ref: ref))
            return stored
        }
    }

    /// Removes the entity with the ref `ref` (`kind:namespace/name`, any case); false when
    /// there was none.
    @discardableResult
    public func delete(_ ref: String) -> Bool {
        guard let ref = BackstageRef(parsing: ref) else { return false }
        return lock.withLock {
            guard let row = table.row(ref: ref) else { return false }
            table.remove(uid: row.uid)
            return true
        }
    }

    /// Deletes and re-adds an entity, so it comes back with a new uid (same content and etag), as
    /// after an unregister and re-register. Returns the new entity, or nil when there was none.
    @discardableResult
    public func recreate(_ ref: String) -> FakeJSON? {
        guard let ref = BackstageRef(parsing: ref) else { return nil }
        return lock.withLock {
            guard let row = table.row(ref: ref) else { return nil }
            table.remove(uid: row.uid)
            var uid = uidRandom.uuidV4()
            while table.row(uid: uid) != nil { uid = uidRandom.uuidV4() }
            let entity = Self.setting(uid: uid, on: row.entity)
            table.insert(EntityTable.Row(entity: entity, uid: uid, ref: ref))
            return entity
        }
    }

    /// The entity with the ref `ref` as served, or nil.
    public func entity(_ ref: String) -> FakeJSON? {
        guard let ref = BackstageRef(parsing: ref) else { return nil }
        return lock.withLock { table.row(ref: ref)?.entity }
    }

    /// Every entity, in uid order.
    public var allEntities: [FakeJSON] {
        lock.withLock { table.allRows.map(\.entity) }
    }

    public var entityCount: Int {
        lock.withLock { table.count }
    }

    /// Removes every entity.
    public func removeAll() {
        lock.withLock { table.removeAll() }
    }

    /// Changes `metadata.description` of `percent`% of the entities (chosen by `seed`), so they get
    /// new etags. Returns how many changed.
    @discardableResult
    public func mutateDescriptions(percent: Double, seed: UInt64) -> Int {
        let entities = allEntities
        let wanted = min(entities.count, Int((Double(entities.count) * max(0, percent) / 100).rounded()))
        var random = SeededRandom(seed: seed)
        var chosen = Array(entities.indices)
        chosen.shuffle(using: &random)
        var changed = 0
        for index in chosen.prefix(wanted) {
            guard case .object(var root) = entities[index], case .object(var metadata)? = root["metadata"] else { continue }
            let old = metadata["description"]?.stringValue ?? ""
            metadata["description"] = .string(old + " (revision \(seed)-\(random.next() % 1_000_000))")
            root["metadata"] = .object(metadata)
            if (try? upsert(.object(root))) != nil { changed += 1 }
        }
        return changed
    }

    /// `metadata.namespace` defaulted, as Backstage's DefaultNamespaceEntityPolicy does.
    private static func normalized(_ entity: FakeJSON) throws(InvalidEntity) -> FakeJSON {
        guard case .object(var root) = entity else { throw InvalidEntity(description: "entity is not an object") }
        guard case .object(var metadata)? = root["metadata"] else { throw InvalidEntity(description: "entity has no metadata") }
        if !(metadata["namespace"]?.stringValue ?? "").isEmpty { return entity }
        metadata["namespace"] = "default"
        root["metadata"] = .object(metadata)
        return .object(root)
    }

    private static func setting(uid: String, on entity: FakeJSON) -> FakeJSON {
        guard case .object(var root) = entity, case .object(var metadata)? = root["metadata"] else { return entity }
        metadata["uid"] = .string(uid)
        root["metadata"] = .object(metadata)
        return .object(root)
    }

    // MARK: - Faults, hooks and counters

    /// Adds a fault; see `BackstageFault`.
    public func injectFault(_ fault: BackstageFault) {
        lock.withLock { faults.add(fault) }
    }

    /// Runs `action` just before by-query page `page` (1 = the request without cursor) of a walk
    /// (of `kind`, when given) is served, outside the lock, so it may mutate the fake. One-shot
    /// unless `repeats`.
    public func onPage(_ page: Int, kind: String? = nil, repeats: Bool = false,
                       perform action: @escaping @Sendable (FakeBackstage) -> Void) {
        lock.withLock {
            faults.add(FaultBook.PageHook(page: page, matcher: RequestMatcher(kind: kind), repeats: repeats, action: action))
        }
    }

    /// Removes every fault and page hook.
    public func clearFaults() {
        lock.withLock { faults.clear() }
    }

    public var stats: RequestStats {
        lock.withLock { counters }
    }

    /// The most recent requests, oldest first.
    public var requestLog: [LoggedRequest] {
        lock.withLock { Array(log.suffix(configuration.requestLogLimit)) }
    }

    public func resetStats() {
        lock.withLock {
            counters = RequestStats()
            log = []
        }
    }

    func takeFault(for context: RequestContext) -> BackstageFault.Effect? {
        lock.withLock { faults.take(for: context) }
    }

    func takeHooks(for context: RequestContext) -> [@Sendable (FakeBackstage) -> Void] {
        lock.withLock { faults.takeHooks(for: context) }
    }

    func record(_ request: HTTPRequest, _ response: HTTPResponse) {
        lock.withLock {
            counters.record(path: request.path, status: response.status, bytes: response.body.count)
            log.append(LoggedRequest(method: request.method, path: request.path, query: request.query,
                                     status: response.status, bytes: response.body.count))
            // Trim in batches so appending stays cheap.
            let limit = max(1, configuration.requestLogLimit)
            if log.count >= 2 * limit { log.removeFirst(log.count - limit) }
        }
    }

    /// Runs `body` with the entity table locked.
    func withTable<T>(_ body: (EntityTable) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(table)
    }
}
