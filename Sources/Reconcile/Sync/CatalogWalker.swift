import Fetch
import Foundation
import Store

/// What a kind's walk hands to the thread that writes the database.
enum WalkMessage: Sendable {
    /// Bodies fetched (parsed, canonicalized, hashed and, when changed, mapped on the walking thread).
    case entities(kind: String, page: Int, [WalkedEntity])
    /// Mirrored entries (index positions) a scan found unchanged (uid and etag as mirrored).
    case unchanged(kind: String, [Int32])
    case warning(String)
    /// What the source could not read (sent by each thread before its kind's `finished`; the same
    /// report when threads share a source).
    case descriptors(DescriptorReport)
    /// An item of `kind` that could not be read, why, and where (said once per kind and reason).
    case skipped(kind: String, reason: String, place: String)
    case event(SyncEvent)
    case finished(KindOutcome)
}

/// Walks kinds on up to `concurrency` threads, each with its own source (its own keep-alive
/// connection), while the caller's thread consumes the results: fetching, parsing and hashing
/// overlap with SQLite writes, which stay on one connection. A bounded queue keeps memory flat.
final class CatalogWalker: @unchecked Sendable {
    struct Plan: Sendable {
        let kind: String
        let mode: WalkMode
    }

    private let makeSource: @Sendable () throws -> CatalogSource
    private let index: MirrorIndex
    private let concurrency: Int
    private let queue = MessageQueue<WalkMessage>(capacity: 16)
    private let statsLock = NSLock()
    private var stats = SourceStats()
    /// Refs fetched by ref per `by-refs` request.
    static let refsPerRequest = 100

    /// Entities larger than this (canonical JSON bytes) are refused one by one.
    private let maxEntityBytes: Int
    /// Maps changed entities on the walking threads; nil when the run maps from the database.
    private let mapper: WalkMapper?
    /// Threads that process one page's items at most (one per core).
    private let processingThreads: Int

    init(makeSource: @escaping @Sendable () throws -> CatalogSource, index: MirrorIndex, concurrency: Int,
         maxEntityBytes: Int = SnapshotEntity.defaultMaxBytes, mapper: WalkMapper? = nil,
         processingThreads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.makeSource = makeSource
        self.index = index
        self.concurrency = max(1, concurrency)
        self.maxEntityBytes = maxEntityBytes
        self.mapper = mapper
        self.processingThreads = max(1, processingThreads)
    }

    /// Requests and bytes of every walking thread so far.
    var sourceStats: SourceStats {
        statsLock.lock()
        defer { statsLock.unlock() }
        return stats
    }

    /// Walks every plan; `consume` runs on the calling thread for each message. If `consume`
    /// throws, the walking threads stop and the error is rethrown.
    func run(_ plans: [Plan], consume: (WalkMessage) throws -> Void) throws {
        let pending = PlanList(plans)
        let group = DispatchGroup()
        for _ in 0..<min(concurrency, plans.count) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                var source: CatalogSource?
                while let plan = pending.next() {
                    if source == nil {
                        do {
                            source = try makeSource()
                        } catch {
                            queue.put(.finished(.incomplete(plan.kind, fetched: 0, mode: plan.mode, error: error)))
                            continue
                        }
                    }
                    guard let source else { continue }
                    let before = source.stats
                    let outcome = walk(plan, source: source)
                    addStats(source.stats, minus: before)
                    if !queue.put(.finished(outcome)) { return }
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        var finished = 0
        do {
            while finished < plans.count, let message = queue.take() {
                if case .finished = message { finished += 1 }
                try consume(message)
            }
        } catch {
            queue.cancel()
            group.wait()
            throw error
        }
        group.wait()
    }

    private func addStats(_ after: SourceStats, minus before: SourceStats) {
        statsLock.lock()
        stats.requests += after.requests - before.requests
        stats.bytes += after.bytes - before.bytes
        stats.retries += after.retries - before.retries
        statsLock.unlock()
    }

    /// One kind on a walking thread. Never throws: failures become an incomplete outcome.
    private func walk(_ plan: Plan, source: CatalogSource) -> KindOutcome {
        queue.put(.event(.kindStarted(plan.kind)))
        var fetched = 0
        var mode = plan.mode
        do {
            if plan.mode == .scan, let incremental = source as? IncrementalCatalogSource {
                do {
                    fetched = try scan(plan.kind, source: incremental)
                } catch let error as BackstageError where CatalogWalker.meansUnsupported(error) {
                    queue.put(.warning("\(plan.kind): the server rejected the etag-first scan (\(error)); walking full bodies instead"))
                    mode = .full
                    fetched = try full(plan.kind, source: source)
                }
            } else {
                mode = .full
                fetched = try full(plan.kind, source: source)
            }
            let report = source.descriptorReport
            if !report.isEmpty { queue.put(.descriptors(report)) }
            return KindOutcome(kind: plan.kind, complete: true, fetched: fetched, problem: nil, mode: mode)
        } catch {
            return .incomplete(plan.kind, fetched: fetched, mode: mode, error: error)
        }
    }

    private func full(_ kind: String, source: CatalogSource) throws -> Int {
        var fetched = 0
        var refused = Refusals()
        try source.walk(kind: kind) { page in
            let entities = snapshot(page.items, kind: kind, where: "page \(page.number)", refused: &refused)
            fetched += entities.count
            try send(.entities(kind: kind, page: page.number, entities))
            try send(.event(.page(kind: kind, number: page.number, entities: page.items.count, totalSoFar: fetched)))
        }
        try refused.check()
        return fetched
    }

    /// The etag-first walk: unchanged refs are only counted; new and changed ones are fetched by
    /// ref and still verified by content hash when stored.
    private func scan(_ kind: String, source: IncrementalCatalogSource) throws -> Int {
        var changed: [EntityRef] = []
        var seen = 0
        var page = 0
        var refused = Refusals()
        try source.scan(kind: kind) { scanned in
            page += 1
            for rejection in scanned.rejected {
                refused.note("\(rejection)")
                queue.put(.warning("\(kind) page \(page): skipped an item: \(rejection)"))
            }
            var unchanged: [Int32] = []
            unchanged.reserveCapacity(scanned.count)
            for item in 0..<scanned.count {
                let ref = scanned.ref(at: item)
                if let position = index.position(of: ref.description), scanned.withIdentity(at: item, { uid, etag in
                    etag != nil && index.hasIdentity(at: position, uidBytes: uid, etagBytes: etag)
                }) {
                    unchanged.append(Int32(position))
                } else {
                    changed.append(ref)
                }
            }
            seen += scanned.count
            try send(.unchanged(kind: kind, unchanged))
            try send(.event(.page(kind: kind, number: page, entities: scanned.count, totalSoFar: seen)))
        }
        for start in stride(from: 0, to: changed.count, by: CatalogWalker.refsPerRequest) {
            let chunk = Array(changed[start..<min(start + CatalogWalker.refsPerRequest, changed.count)])
            let items = try source.fetch(refs: chunk).compactMap { $0 }
            try send(.entities(kind: kind, page: 0, snapshot(items, kind: kind, where: "by-refs", refused: &refused)))
        }
        try refused.check()
        return seen
    }

    /// Canonicalizes, hashes and (when the run maps on the walk) maps page items, each from its
    /// one parse; malformed items become warnings. A large page is split over up to
    /// `processingThreads` threads (this one and helpers): one kind can be half a catalog, and its
    /// walk must not be bound to one core. The items of a page are independent values, and this
    /// thread waits for the helpers before the page is released, so no jv is shared meanwhile.
    private func snapshot(_ items: [JQValue], kind: String, where place: String, refused: inout Refusals) -> [WalkedEntity] {
        let parts = min(processingThreads, items.count / CatalogWalker.itemsPerThread)
        guard parts > 1 else { return process(items[...], kind: kind, where: place, refused: &refused) }
        let size = (items.count + parts - 1) / parts
        let results = PartResults(count: parts)
        let group = DispatchGroup()
        for part in 1..<parts {
            group.enter()
            let slice = HandedOver(items[(part * size)..<min(items.count, (part + 1) * size)])
            let thread = Thread { [self] in
                var partRefused = Refusals()
                let entities = process(slice.items, kind: kind, where: place, refused: &partRefused)
                results.set(part, entities, partRefused)
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        var firstRefused = Refusals()
        results.set(0, process(items[0..<size], kind: kind, where: place, refused: &firstRefused), firstRefused)
        group.wait()
        let (entities, partRefusals) = results.joined()
        for part in partRefusals { refused.add(part) }
        return entities
    }

    /// A page needs this many items per thread before it is split.
    static let itemsPerThread = 100

    private func process(_ items: ArraySlice<JQValue>, kind: String, where place: String, refused: inout Refusals) -> [WalkedEntity] {
        var read: [(entity: SnapshotEntity, stored: JQValue)] = []
        read.reserveCapacity(items.count)
        for item in items {
            do throws(SnapshotEntity.Rejection) {
                read.append(try SnapshotEntity.reading(item, maxBytes: maxEntityBytes))
            } catch {
                if error.makesKindIncomplete { refused.note("\(error)") }
                queue.put(.skipped(kind: kind, reason: "\(error)", place: "\(kind) \(place)"))
            }
        }
        guard let mapper else { return read.map { WalkedEntity(entity: $0.entity, mapped: nil) } }
        return zip(read, mapper.map(read)).map { WalkedEntity(entity: $0.entity, mapped: $1) }
    }

    /// Entities of one kind's walk that were refused (too large, malformed identity). Any makes the
    /// kind incomplete once its walk ends: the refused entity may be one the mirror holds.
    struct Refusals: Error, CustomStringConvertible {
        var count = 0
        var first: String?

        mutating func note(_ reason: String) {
            count += 1
            if first == nil { first = reason }
        }

        /// Adds what another thread refused from the same page (its part comes later in the page).
        mutating func add(_ other: Refusals) {
            count += other.count
            if first == nil { first = other.first }
        }

        func check() throws(Refusals) {
            if count > 0 { throw self }
        }

        var description: String {
            "\(count) entit\(count == 1 ? "y was" : "ies were") refused (\(first ?? "")); nothing of this kind is deleted until \(count == 1 ? "it is" : "they are") fixed"
        }
    }

    private func send(_ message: WalkMessage) throws {
        if !queue.put(message) { throw CancellationError() }
    }

    /// A 400 on the projected scan, or by-refs missing or refused: this server can't do etag-first walks.
    static func meansUnsupported(_ error: BackstageError) -> Bool {
        guard case .http(let status, _, _, _, let request) = error else { return false }
        switch request {
        case .page(projected: true): return status == 400
        case .byRefs: return [400, 404, 405, 501].contains(status)
        case .page(projected: false): return false
        }
    }
}

/// Page items handed to one helper thread: only that thread touches them until it is done (the
/// walking thread waits), which is what makes handing non-Sendable jv values over safe.
private struct HandedOver: @unchecked Sendable {
    let items: ArraySlice<JQValue>

    init(_ items: ArraySlice<JQValue>) {
        self.items = items
    }
}

/// What the threads processing one page made, by part (each part set once, by one thread).
private final class PartResults: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [[WalkedEntity]]  // guarded by lock
    private var refusals: [CatalogWalker.Refusals]  // guarded by lock

    init(count: Int) {
        parts = Array(repeating: [], count: count)
        refusals = Array(repeating: CatalogWalker.Refusals(), count: count)
    }

    func set(_ part: Int, _ entities: [WalkedEntity], _ refused: CatalogWalker.Refusals) {
        lock.withLock {
            parts[part] = entities
            refusals[part] = refused
        }
    }

    /// The parts in page order, and what each refused.
    func joined() -> ([WalkedEntity], [CatalogWalker.Refusals]) {
        lock.withLock { (parts.flatMap { $0 }, refusals) }
    }
}

/// The plans not yet started, shared by the walking threads.
private final class PlanList: @unchecked Sendable {
    private var plans: [CatalogWalker.Plan]
    private let lock = NSLock()

    init(_ plans: [CatalogWalker.Plan]) {
        self.plans = plans.reversed()
    }

    func next() -> CatalogWalker.Plan? {
        lock.lock()
        defer { lock.unlock() }
        return plans.popLast()
    }
}

/// A bounded blocking queue between walking threads and the writer. A taken element is released
/// at once: a page of bodies must not outlive its consumption.
final class MessageQueue<Element: Sendable>: @unchecked Sendable {
    private var items: [Element?] = []
    private var head = 0
    private let capacity: Int
    private var cancelled = false
    private let condition = NSCondition()

    init(capacity: Int) {
        self.capacity = capacity
    }

    private var count: Int { items.count - head }

    /// Blocks while full; false when the queue was cancelled (the consumer gave up).
    @discardableResult
    func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    /// Blocks while empty; nil once cancelled.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !cancelled { condition.wait() }
        guard !cancelled, let element = items[head] else { return nil }
        items[head] = nil
        head += 1
        if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return element
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
