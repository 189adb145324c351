import CJQ
import Foundation
import Store

/// What mapping the changed part of the mirror produced.
public struct MappingSummary: Sendable {
    public var mapped = 0
    public var entities = 0
    public var filtered = 0
    public var dropped = 0
    /// Every expression failing now (this run's mapping and entities mapped before it that still
    /// fail), per resource and field, with a count and one example.
    public var failures: [MappingFailure] = []
    /// Selector (or whole-mapping) failures now: those entities keep their previous Port
    /// entities, and the run sends no deletes.
    public var selectorErrors: Int { failures.filter(\.isSelector).reduce(0) { $0 + $1.count } }
    /// Entities dropped (no usable identifier or blueprint) and Port entities two sources map to,
    /// per cause with an example: warnings, as Ocean's, not failures.
    public var notices = ProblemTally()
    /// Field values failing now with a jq error (sent as null, as Ocean does).
    public var fieldErrors: Int { failures.filter { !$0.isSelector }.reduce(0) { $0 + $1.count } }
    public var warnings = 0
    /// The first warnings, for output (all are counted).
    public var sampleWarnings: [String] = []
    public var remappedAll = false
}

/// Brings the desired Port state up to date with the mirror, inside the run's transaction:
/// re-maps only entities whose source changed, or every entity when the mapping changed.
///
/// Where the mapping runs depends on what the run must re-map (`begin`):
/// - **On the walk** (the mapping is the one the desired state was made with, or the mirror is
///   empty): each walking thread maps a changed entity from the parse it already has
///   (`WalkMapper`), and the database thread stores the results page by page (`save`). After the
///   walk, `finish` only removes what deleted sources mapped to and maps the few changes the walk
///   could not (a ref fetched twice, the second copy reverting the first) from the database.
/// - **From the database** (the mapping changed on a non-empty mirror: every entity, changed or
///   not): `finish` reads the stored bodies in keyset chunks and maps them on every core (one
///   compiled mapping per worker); the database is written by the calling thread.
///
/// A source whose selector errored keeps its previous desired entities (and the run sends no
/// deletes). Each entity's problems reach `onDetail` (for `--log-level debug`); the summary counts
/// them per resource and field.
final class MappingStage {
    let store: MirrorStore
    let mapping: LoadedMapping
    let run: Int
    let workers: Int
    private let desired: DesiredState
    /// The mirrored bodies the stage maps (the whole mirror, or what this run changed).
    private let sources: MappingSources
    private var summary = MappingSummary()
    /// Whether the walk maps changed entities (decided by `begin`).
    private(set) var mapsOnWalk = false
    /// Whether every entity is re-mapped this run (a new mapping, or a first sync; decided by `begin`).
    private var remapAll = false

    /// A stored source to map: its ref and current body.
    typealias Source = (ref: EntityRef, body: CanonicalBody)
    /// Workers that map jobs of sources, each with its own compiled mapping.
    typealias Pool = WorkerPool<CompiledMapping, ArraySlice<Source>, [MappedSource]>

    /// Rows read and mapped per round; bounds memory whatever the catalog size.
    static let chunk = 2_000
    static let job = 100
    static let sourcesPerExtraWorker = 1_500

    init(store: MirrorStore, mapping: LoadedMapping, run: Int, workers: Int) {
        self.store = store
        self.mapping = mapping
        self.run = run
        self.workers = workers
        desired = DesiredState(store: store)
        sources = MappingSources(store: store)
    }

    /// Decides, before the walk, whether the walk maps (see the type's comment). A first sync (an
    /// empty mirror) re-maps everything on the walk: every entity it stores is new.
    /// - Returns: whether the walk should map changed entities.
    func begin(mirrorIsEmpty: Bool) throws -> Bool {
        remapAll = try desired.mappingHash() != mapping.hash
        summary.remappedAll = remapAll
        mapsOnWalk = !remapAll || mirrorIsEmpty
        if remapAll && mapsOnWalk { try removeAll() }
        return mapsOnWalk
    }

    /// A full re-map starts from nothing: no desired entity and no recorded mapping fault.
    private func removeAll() throws {
        try desired.removeAll()
        try store.removeAllMappingFaults()
    }

    /// What a source that no longer exists mapped to, and its faults, are forgotten.
    private func forget(sourceRef ref: EntityRef) throws {
        try desired.remove(sourceRef: ref.description)
        try store.replaceMappingFaults(ref: ref, with: [])
    }

    /// Stores what the walk mapped (database thread). `fresh`: the sources have no desired
    /// entities yet (new in this run's full re-map), which saves their removal.
    func save(walked: [MappedSource], fresh: Bool, onDetail: (String) -> Void) throws {
        try save(walked, fresh: fresh && remapAll, onDetail: onDetail)
    }

    /// Completes the desired state after the walk (and `begin`, which decided what is left to map).
    /// - Parameter unmapped: refs the run created or updated that the walk did not map.
    func finish(unmapped: Set<EntityRef>, onDetail: (String) -> Void) throws -> MappingSummary {
        if mapsOnWalk {
            for ref in try sources.deletedRefs(in: run) { try forget(sourceRef: ref) }
            var rows: [Source] = []
            for ref in unmapped.sorted() {
                if let body = try sources.body(of: ref) { rows.append((ref, body)) } else { try forget(sourceRef: ref) }
            }
            if !rows.isEmpty {
                let pool = makePool(sources: rows.count)
                try save(start(rows, pool: pool).wait().flatMap { $0 }, fresh: false, onDetail: onDetail)
            }
        } else {
            try mapFromDatabase(remapAll: remapAll, onDetail: onDetail)
        }
        if remapAll { try desired.setMappingHash(mapping.hash, run: run) }
        let resources = mapping.config.resources
        summary.failures = try store.currentMappingFailures { resources.indices.contains($0) ? resources[$0].kind : "*" }
        return summary
    }

    /// Each worker compiles the program once (~60 ms with libjq 1.6, one at a time): as long as
    /// mapping ~1,500 entities on one thread; fewer sources than that don't pay for a thread. The
    /// first worker takes the run's loaded mapping, compiled already (the walk is over: nothing
    /// else uses it); the others a `copy()` of it, as the walk's further workers do.
    private func makePool(sources: Int) -> Pool {
        let loaded = LoanedMapping(mapping.compiled)
        return WorkerPool(count: min(workers, max(1, sources / MappingStage.sourcesPerExtraWorker))) {
            loaded.take()
        }
    }

    /// Re-maps what the run changed (its change events), or everything when the mapping changed,
    /// from the stored bodies.
    private func mapFromDatabase(remapAll: Bool, onDetail: (String) -> Void) throws {
        let scope: MappingSources.Scope = remapAll ? .all : .changed(run: run)
        let count = try sources.count(scope)
        let pool = makePool(sources: count)
        if remapAll { try removeAll() }
        // Keyset chunks: no statement stays open while the desired tables are written, and only a
        // chunk or two of bodies is in memory whatever the catalog size. While the workers map one
        // chunk, this thread reads the next and stores the one before.
        var after: EntityRef?
        func nextChunk() throws -> [Source]? {
            // Changed sources of this run come with their current body, or none when deleted.
            let rows = try sources.chunk(scope, after: after, limit: MappingStage.chunk)
            guard let last = rows.last else { return nil }
            after = last.ref
            for row in rows where row.body == nil { try forget(sourceRef: row.ref) }
            return rows.compactMap { row in row.body.map { (row.ref, $0) } }
        }
        var inFlight = try nextChunk().map { start($0, pool: pool) }
        while let current = inFlight {
            let next: [Source]?
            do {
                next = try nextChunk()
            } catch {
                _ = current.wait()  // the workers are this stage's: let them finish before leaving
                throw error
            }
            let mapped = current.wait()
            inFlight = next.map { start($0, pool: pool) }
            try save(mapped.flatMap { $0 }, fresh: remapAll, onDetail: onDetail)
        }
    }

    /// Starts mapping rows on the pool's threads (outputs in row order, per job).
    private func start(_ rows: [Source], pool: Pool) -> Pool.Batch {
        let jobs = stride(from: 0, to: rows.count, by: MappingStage.job).map { rows[$0..<min($0 + MappingStage.job, rows.count)] }
        return pool.start(jobs, body: { mapping, slice in
            slice.map { MappingStage.mapOne(ref: $0.ref, body: $0.body, mapping: mapping) }
        }, failure: { slice, error in
            slice.map { MappedSource(ref: $0.ref, faults: [.wholeMapping("cannot compile the mapping: \(error)")]) }
        })
    }

    /// One stored source entity through every resource of the mapping (runs on a worker thread).
    static func mapOne(ref: EntityRef, body: CanonicalBody, mapping: CompiledMapping) -> MappedSource {
        guard let entity = try? JQValue.parse(body.bytes) else {
            return MappedSource(ref: ref, faults: [.wholeMapping("stored body is not valid JSON")])
        }
        return mapOne(ref: ref, entity: entity, mapping: mapping)
    }

    /// One parsed source entity (in stored form, owned by the calling thread) through every
    /// resource of the mapping. This is the entity's last use: `entity` holds null afterwards
    /// (the mapping input is made from it in place).
    static func mapOne(ref: EntityRef, entity: JQValue, mapping: CompiledMapping) -> MappedSource {
        var result = MappedSource(ref: ref)
        for outcome in mapping.map(taking: entity.take(), ref: ref) {
            for warning in outcome.warnings {
                if case .error(let message) = warning.problem {
                    result.faults.append(MappingFault(resource: warning.resourceIndex, field: warning.field,
                                                      expression: warning.expression, message: message))
                } else {
                    result.warnings.append(warning.description)
                }
            }
            switch outcome.outcome {
            case .entity(let portEntity):
                result.entities.append(DesiredEntity(blueprint: portEntity.blueprint, identifier: portEntity.identifier,
                                                     sourceRef: ref.description, canonical: portEntity.canonical,
                                                     targets: portEntity.relationTargets.map(\.identifier)))
            case .filtered:
                result.filtered += 1
            case .dropped(let reason):
                result.dropped.append("resources[\(outcome.resourceIndex)] dropped: \(reason)")
            case .selectorError(let message):
                result.faults.append(MappingFault(resource: outcome.resourceIndex, field: "selector.query",
                                                  expression: mapping.config.resources[outcome.resourceIndex].selectorQuery.text, message: message))
            }
        }
        return result
    }

    /// Writes mapped sources (calling thread: the one that owns the database connection).
    private func save(_ mapped: [MappedSource], fresh: Bool, onDetail: (String) -> Void) throws {
        for source in mapped {
            summary.mapped += 1
            summary.entities += source.entities.count
            summary.filtered += source.filtered
            summary.dropped += source.dropped.count
            summary.warnings += source.warnings.count
            for warning in source.warnings where summary.sampleWarnings.count < 20 { summary.sampleWarnings.append(warning) }
            for drop in source.dropped {
                onDetail("\(source.ref): \(drop)")
                summary.notices.add("mapping", cause: drop, example: source.ref.description)
            }
            for fault in source.faults {
                onDetail("\(source.ref): \(fault.resource < 0 ? "mapping" : "resources[\(fault.resource)] \(fault.field)"): \(fault.message)")
            }
            // A fresh source has no recorded faults (a full re-map starts from none): nothing to replace.
            if !fresh || !source.faults.isEmpty { try store.replaceMappingFaults(ref: source.ref, with: source.faults) }
            // Keep what the entity mapped to before when its selector can't be evaluated now.
            if source.faults.contains(where: \.blocksEntity) { continue }
            for collision in try desired.replace(sourceRef: source.ref.description, with: source.entities, run: run, fresh: fresh) {
                onDetail("\(source.ref) maps to \(collision), which another entity also maps to: the later one wins")
                summary.notices.add("mapping", cause: "maps to a Port entity another entity also maps to (the later one wins)",
                                    example: "\(source.ref) → \(collision)")
            }
        }
    }
}

/// What one source entity mapped to (built on a worker thread, stored by the caller).
struct MappedSource: Sendable {
    let ref: EntityRef
    var entities: [DesiredEntity] = []
    var filtered = 0
    var dropped: [String] = []
    var faults: [MappingFault] = []
    var warnings: [String] = []

    init(ref: EntityRef, faults: [MappingFault] = []) {
        self.ref = ref
        self.faults = faults
    }
}

extension MappingFault {
    /// The whole mapping failed for an entity (no program, or an unreadable stored body).
    static func wholeMapping(_ message: String) -> MappingFault {
        MappingFault(resource: -1, field: "mapping", expression: "", message: message)
    }
}

/// The run's compiled mapping, handed to the first worker that asks; the others get copies.
private final class LoanedMapping: @unchecked Sendable {
    private let lock = NSLock()
    private var mapping: CompiledMapping?  // guarded by lock
    private let original: CompiledMapping

    init(_ mapping: CompiledMapping) {
        self.mapping = mapping
        original = mapping
    }

    /// The loaded mapping the first time, then copies of it (a copy shares only its immutable
    /// plan, so making one while the first is in use reads nothing that thread changes).
    func take() -> CompiledMapping {
        lock.withLock {
            defer { mapping = nil }
            return mapping ?? original.copy()
        }
    }
}
