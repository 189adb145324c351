/// Classifies the entities of one walk against the mirror: created / updated / unchanged as they
/// arrive, deleted when a kind's walk completes. Dedupes by entity ref (a ref seen twice in one
/// walk, e.g. deleted and re-created mid-walk with a new uid, counts once; the last copy wins).
/// Pure bookkeeping: `SnapshotWriter` persists what it decides, `diff` only reports it.
public struct SnapshotDiffer: Sendable {
    public let index: MirrorIndex
    public private(set) var counts = ChangeCounts()
    /// Refs fetched in this walk, with the outcome and hash of the copy that counts.
    private var fetched: [String: (change: ChangeKind, hash: ContentHash)] = [:]
    /// Mirrored entries seen in this walk (fetched, or matched by a scan), by index position.
    private var seen: [Bool]

    public init(index: MirrorIndex) {
        self.index = index
        seen = [Bool](repeating: false, count: index.count)
    }

    /// What applying `entity` means. Returns nil when it's a duplicate identical to the copy
    /// already seen in this walk (nothing to do).
    public mutating func classify(_ entity: SnapshotEntity) -> EntityChange? {
        let ref = entity.ref.description
        let position = index.position(of: ref)
        let oldHash = position.map(index.hash(at:))
        let change: ChangeKind = oldHash == nil ? .created : (oldHash == entity.body.hash ? .unchanged : .updated)
        var previous = fetched[ref]
        if previous == nil, let position, let oldHash, seen[position] { previous = (.unchanged, oldHash) }
        if let previous {
            if previous.hash == entity.body.hash { return nil }
            counts.add(previous.change, by: -1)
        } else {
            counts.fetched += 1
        }
        fetched[ref] = (change, entity.body.hash)
        if let position { seen[position] = true }
        counts.add(change)
        var result = EntityChange(ref: entity.ref, change: change, oldHash: oldHash, newHash: entity.body.hash)
        result.replacesEarlierCopy = previous != nil
        return result
    }

    /// Counts a mirrored entry as seen and unchanged without its body (an etag-first scan matched
    /// its uid and etag). An entry already seen in this walk keeps its outcome.
    public mutating func markUnchanged(position: Int) {
        guard seen.indices.contains(position), !seen[position] else { return }
        seen[position] = true
        counts.fetched += 1
        counts.unchanged += 1
    }

    /// Deletions of a kind whose walk completed: mirrored refs of that kind not seen in this walk.
    public mutating func deletions(ofKind kind: String) -> [EntityChange] {
        let lower = kind.lowercased()
        let deleted = index.positions(ofKind: lower).filter { !seen[Int($0)] }
            .compactMap { position in EntityRef(stored: index.ref(at: Int(position))).map { (ref: $0, hash: index.hash(at: Int(position))) } }
            .sorted { $0.ref < $1.ref }
        counts.add(.deleted, by: deleted.count)
        return deleted.map { EntityChange(ref: $0.ref, change: .deleted, oldHash: $0.hash, newHash: nil) }
    }
}
