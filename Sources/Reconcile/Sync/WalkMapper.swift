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
/// pay for its compile: a small page waits for a busy one instead.
final class WalkMapper: @unchecked Sendable {
    private let config: PortAppConfig
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
    init(config: PortAppConfig, loaded: CompiledMapping, index: MirrorIndex, limit: Int) {
        self.config = config
        self.index = index
        self.limit = max(1, limit)
        idle = [loaded]
        made = 1
    }

    /// Whether the mirror holds `entity` with other content (or not at all): only then does the
    /// run map it. The writer's classification is final; this is the walk's early reading of it.
    func changes(_ entity: SnapshotEntity) -> Bool {
        guard let position = index.position(of: entity.ref.description) else { return true }
        return index.hash(at: position) != entity.hash
    }

    /// Maps the changed entities of one page (stored forms owned by the calling thread); nil for
    /// the unchanged ones.
    func map(_ entities: [(entity: SnapshotEntity, stored: JQValue)]) -> [MappedSource?] {
        let changed = entities.map { changes($0.entity) }
        let count = changed.filter { $0 }.count
        guard count > 0 else { return entities.map { _ in nil } }
        let mapping: CompiledMapping
        do {
            mapping = try borrow(forEntities: count)
        } catch {
            return zip(entities, changed).map { item, changed in
                changed ? MappedSource(ref: item.entity.ref.description, faults: [.wholeMapping("cannot compile the mapping: \(error)")]) : nil
            }
        }
        defer { giveBack(mapping) }
        return zip(entities, changed).map { item, changed in
            guard changed else { return nil }
            return MappingStage.mapOne(ref: item.entity.ref.description, parsedRef: item.entity.ref, entity: item.stored, mapping: mapping)
        }
    }

    private func borrow(forEntities count: Int) throws -> CompiledMapping {
        condition.lock()
        while idle.isEmpty && (made >= limit || count < WalkMapper.entitiesPerCompile) { condition.wait() }
        if let mapping = idle.popLast() {
            condition.unlock()
            return mapping
        }
        made += 1
        condition.unlock()
        do {
            return try CompiledMapping(config)
        } catch {
            condition.lock()
            made -= 1
            condition.broadcast()
            condition.unlock()
            throw error
        }
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
