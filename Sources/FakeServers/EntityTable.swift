
/// The fake catalog's final entities: each with its JSON bytes serialized once (a mutation
/// replaces the row, and with it the bytes), indexed by uid, by ref, and in uid order overall and
/// per kind so pages are keyset walks. Not thread-safe: `FakeBackstage` guards it with its lock.
final class EntityTable {
    /// One stored entity.
    struct Row {
        let uid: String
        let ref: BackstageRef
        /// `ref.description`, the by-refs lookup key, computed once.
        let refText: String
        /// Lower-case kind, the key of the per-kind index.
        let kind: String
        let entity: FakeJSON
        /// The serialized entity, copied verbatim into pages.
        let json: [UInt8]

        init(entity: FakeJSON, uid: String, ref: BackstageRef) {
            self.uid = uid
            self.ref = ref
            self.refText = ref.description
            self.kind = ref.kind
            self.entity = entity
            self.json = FakeJSON.bytes(entity)
        }
    }

    private var rows: [String: Row] = [:]
    private var uidByRef: [String: String] = [:]
    private var allUIDs = SortedUIDs()
    private var uidsByKind: [String: SortedUIDs] = [:]

    var count: Int { rows.count }

    func row(uid: String) -> Row? { rows[uid] }

    /// Looks a ref up by its canonical lower-case text, verbatim (as by-refs does).
    func row(refText: String) -> Row? { uidByRef[refText].flatMap { rows[$0] } }

    func row(ref: BackstageRef) -> Row? { row(refText: ref.description) }

    /// Adds or replaces a row. A row with the same ref and another uid is removed first.
    func insert(_ row: Row) {
        if let previous = uidByRef[row.refText], previous != row.uid { remove(uid: previous) }
        if rows[row.uid] == nil {
            allUIDs.insert(row.uid)
            uidsByKind[row.kind, default: SortedUIDs()].insert(row.uid)
        }
        rows[row.uid] = row
        uidByRef[row.refText] = row.uid
    }

    /// Adds many rows (refs and uids unique among them), sorting the indexes once. Rows whose ref
    /// or uid is already stored go through `insert` one by one.
    func insertMany(_ newRows: [Row]) {
        var conflicting: [Row] = []
        rows.reserveCapacity(rows.count + newRows.count)
        uidByRef.reserveCapacity(uidByRef.count + newRows.count)
        for row in newRows {
            if uidByRef[row.refText] != nil || rows[row.uid] != nil {
                conflicting.append(row)
                continue
            }
            rows[row.uid] = row
            uidByRef[row.refText] = row.uid
        }
        allUIDs = SortedUIDs(unsorted: Array(rows.keys))
        var byKind: [String: [String]] = [:]
        for row in rows.values { byKind[row.kind, default: []].append(row.uid) }
        uidsByKind = byKind.mapValues { SortedUIDs(unsorted: $0) }
        for row in conflicting { insert(row) }
    }

    @discardableResult
    func remove(uid: String) -> Row? {
        guard let row = rows.removeValue(forKey: uid) else { return nil }
        if uidByRef[row.refText] == uid { uidByRef[row.refText] = nil }
        allUIDs.remove(uid)
        uidsByKind[row.kind]?.remove(uid)
        return row
    }

    func removeAll() {
        rows = [:]
        uidByRef = [:]
        allUIDs = SortedUIDs()
        uidsByKind = [:]
    }

    /// How many entities of the given lower-case kinds there are.
    func count(kinds: Set<String>) -> Int {
        kinds.reduce(0) { $0 + (uidsByKind[$1]?.count ?? 0) }
    }

    /// Visits rows in uid order, starting after `uid` (or at the start), restricted to `kinds`
    /// when given, until `visit` returns false.
    func walk(kinds: Set<String>?, after uid: String?, _ visit: (Row) -> Bool) {
        guard let kinds else {
            var index = uid.map { allUIDs.firstIndex(after: $0) } ?? 0
            while index < allUIDs.count {
                guard let row = rows[allUIDs[index]], visit(row) else { return }
                index += 1
            }
            return
        }
        // Merge the per-kind lists (each sorted) on the fly.
        let lists = kinds.compactMap { uidsByKind[$0] }.filter { $0.count > 0 }
        var positions = lists.map { list in uid.map { list.firstIndex(after: $0) } ?? 0 }
        while true {
            var best: Int?
            for (which, list) in lists.enumerated() where positions[which] < list.count {
                if let current = best, list[positions[which]] >= lists[current][positions[current]] { continue }
                best = which
            }
            guard let which = best else { return }
            let next = lists[which][positions[which]]
            positions[which] += 1
            guard let row = rows[next], visit(row) else { return }
        }
    }

    /// Every row in uid order.
    var allRows: [Row] { allUIDs.items.compactMap { rows[$0] } }
}

/// Uids kept sorted (byte order, which for lower-case UUID text is also String order).
struct SortedUIDs {
    private(set) var items: [String] = []

    init() {}

    init(unsorted: [String]) {
        items = unsorted.sorted()
    }

    var count: Int { items.count }

    subscript(index: Int) -> String { items[index] }

    /// The index of the first uid greater than `uid`.
    func firstIndex(after uid: String) -> Int {
        var low = 0
        var high = items.count
        while low < high {
            let middle = (low + high) / 2
            if items[middle] <= uid { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func insert(_ uid: String) {
        let index = firstIndex(after: uid)
        if index > 0, items[index - 1] == uid { return }
        items.insert(uid, at: index)
    }

    mutating func remove(_ uid: String) {
        let index = firstIndex(after: uid)
        if index > 0, items[index - 1] == uid { items.remove(at: index - 1) }
    }
}
