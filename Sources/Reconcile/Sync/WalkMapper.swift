import Foundation
import Store

/// Maps changed entities on the walking threads, from the parse the walk already has: an entity
/// fetched in a walk is parsed once, and hashed, stored and mapped from that parse.
///
/// A compiled mapping holds a libjq state, which is not thread-safe: the mapper lends a walking
/// thread one for a page and takes it back after. Each compiles its jq program once (libjq 1.6
/// takes ~60 ms, about as long as mapping 1,000 entities) and is kept for the run. The first is
/// the one the run loaded (already compiled when the mapping was checked); another is made only
/// while all are busy, up to one per core, and only for a page with enough changed entities to
/// pay for its compile: a small page waits for a busy one instead. Another is a `copy()` of the
/// loaded one: it shares the loaded mapping's plan (resources, program text) instead of building
/// it again from the config, and compiles its own libjq state when it first maps.
final class WalkMapper: @unchecked Sendable {
    /// The run's compiled mapping, copied for each further worker (a copy shares only its
    /// immutable plan; `copy()` reads nothing the lending thread changes).
    private let loaded: CompiledMapping
    private let index: MirrorIndex
    private let limit: Int
    private let condition = NSCondition()
    private var idle: [CompiledMapping]  // guarded by condition
    private var made: Int  // guarded by condition

    /// Changed entities a page needs before another compiled mapping is made for it.
    static let entitiesPerCompile = 250

    /// - Parameters:
    ///   - loaded: the run's compiled mapping, lent first (it must not be used elsewhere meanwhile).
    ///   - limit: compiled mappings at most (one per core).
    init(loaded: CompiledMapping, index: MirrorIndex, limit: Int) {
        self.loaded = loaded
        self.index = index
        self.limit = max(1, limit)
        idle = [loaded]
        made = 1
    }

    /// Whether the mirror holds `entity` with other content (or not at all): only then does the
    /// run map it. The writer's classification is final; this is the walk's early reading of it.
    func changes(_ entity: SnapshotEntity) -> Bool {
        guard let position = index.position(of: entity.ref.description) else { return true }
        return index.hash(at: position) != entity.body.hash
    }

    /// Maps the changed entities of one page (stored forms owned by the calling thread, handed
    /// over: each is the mapping's input, made in place); nil for the unchanged ones.
    func map(_ entities: [(entity: SnapshotEntity, stored: JQValue)]) -> [MappedSource?] {
        let changed = entities.map { changes($0.entity) }
        let count = changed.filter { $0 }.count
        guard count > 0 else { return entities.map { _ in nil } }
        let mapping = borrow(forEntities: count)
        defer { giveBack(mapping) }
        return entities.indices.map { item in
            guard changed[item] else { return nil }
            let entity = entities[item]
            return MappingStage.mapOne(ref: entity.entity.ref, entity: entity.stored, mapping: mapping)
        }
    }

    private func borrow(forEntities count: Int) -> CompiledMapping {
        condition.lock()
        while idle.isEmpty && (made >= limit || count < WalkMapper.entitiesPerCompile) { condition.wait() }
        if let mapping = idle.popLast() {
            condition.unlock()
            return mapping
        }
        made += 1
        condition.unlock()
        return loaded.copy()
    }

    private func giveBack(_ mapping: CompiledMapping) {
        condition.lock()
        idle.append(mapping)
        condition.broadcast()
        condition.unlock()
    }
}

/// One entity of a walk on its way to the writer: its stored form, and what it mapped to when
/// the walk mapped it (nil when it didn't: unchanged, or the run maps from the database).
struct WalkedEntity: Sendable {
    let entity: SnapshotEntity
    let mapped: MappedSource?
}
