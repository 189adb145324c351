/// Classifies the entities of one walk against the mirror: created / updated / unchanged as they
/// arrive, deleted when a kind's walk completes. Dedupes by entity ref (a ref seen twice in one
/// walk, e.g. deleted and re-created mid-walk with a new uid, counts once; the last copy wins).
/// Pure bookkeeping: `SnapshotWriter` persists what it decides, `diff` only reports it.
public struct SnapshotDiffer: Sendable {
    public let index: MirrorIndex
    public private(set) var counts = ChangeCounts()
    /// Refs seen in this walk, with the hash of the copy that counts.
    private var seen: [String: (change: ChangeKind, hash: ContentHash)] = [:]

    public init(index: MirrorIndex) {
        self.index = index
    }

    /// What applying `entity` means. Returns nil when it's a duplicate identical to the copy
    /// already seen in this walk (nothing to do).
    public mutating func classify(_ entity: SnapshotEntity) -> EntityChange? {
        let ref = entity.ref.description
        let old = index[ref]
        let change: ChangeKind = old == nil ? .created : (old?.hash == entity.hash ? .unchanged : .updated)
        if let previous = seen[ref] {
            if previous.hash == entity.hash { return nil }
            counts.add(previous.change, by: -1)
        } else {
            counts.fetched += 1
        }
        let isDuplicate = seen[ref] != nil
        seen[ref] = (change, entity.hash)
        counts.add(change)
        var result = EntityChange(ref: ref, kind: entity.ref.kind, change: change, oldHash: old?.hash, newHash: entity.hash)
        result.replacesEarlierCopy = isDuplicate
        return result
    }

    /// Counts a mirrored ref as seen and unchanged without its body (an etag-first scan matched
    /// its uid and etag). A ref already seen in this walk keeps its outcome.
    public mutating func markUnchanged(_ ref: String) {
        guard seen[ref] == nil, let entry = index[ref] else { return }
        seen[ref] = (.unchanged, entry.hash)
        counts.fetched += 1
        counts.unchanged += 1
    }

    /// Deletions of a kind whose walk completed: mirrored refs of that kind not seen in this walk.
    public mutating func deletions(ofKind kind: String) -> [EntityChange] {
        let lower = kind.lowercased()
        let deleted = index.refs(ofKind: lower).filter { seen[$0] == nil }.sorted()
        counts.add(.deleted, by: deleted.count)
        return deleted.compactMap { ref in
            index[ref].map { EntityChange(ref: ref, kind: lower, change: .deleted, oldHash: $0.hash, newHash: nil) }
        }
    }
}
