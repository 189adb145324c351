/// Audit queries over the change events: one entity's history and its body at any run.
extension MirrorStore {
    /// Every change of one entity, oldest first.
    public func history(ref: EntityRef) throws(DatabaseError) -> [HistoryEntry] {
        try db.rows("""
            SELECT c.run_id AS run, c.change AS change, c.old_hash AS old_hash, c.new_hash AS new_hash, r.started_at AS at
            FROM changes c JOIN runs r ON r.id = c.run_id
            WHERE c.ref = ? ORDER BY c.run_id
            """, [.text(ref.description)]).compactMap { row in
            guard let run = row.int("run"), let change = row.string("change").flatMap(ChangeKind.init(rawValue:)) else { return nil }
            return HistoryEntry(run: run, change: change, oldHash: row.string("old_hash").map(ContentHash.init(hex:)),
                                newHash: row.string("new_hash").map(ContentHash.init(hex:)), at: row.string("at") ?? "")
        }
    }

    /// The entity as it was after run `run` (the latest run when nil): its canonical JSON, or nil
    /// when it did not exist then.
    public func version(of ref: EntityRef, atRun run: Int?) throws(DatabaseError) -> StoredVersion? {
        guard let found = try storedBody(ref: ref.description, atRun: run ?? Int(Int32.max)) else { return nil }
        return StoredVersion(ref: ref, run: found.run, hash: ContentHash(hex: found.hash), body: found.body)
    }

    /// The body `ref` had after run `run`, with the run that last changed it; nil when it did not
    /// exist then (never seen, or deleted: a delete stores no new body).
    func storedBody(ref: String, atRun run: Int) throws(DatabaseError) -> (run: Int, hash: String, body: String)? {
        let row = try db.row("""
            SELECT c.run_id AS run, c.change AS change, c.new_hash AS hash, b.body AS body
            FROM changes c LEFT JOIN blobs b ON b.hash = c.new_hash
            WHERE c.ref = ? AND c.run_id <= ? ORDER BY c.run_id DESC LIMIT 1
            """, [.text(ref), .integer(Int64(run))])
        guard let row, let changedIn = row.int("run"), let state = MirrorStore.storedState(row) else { return nil }
        return (changedIn, state.hash, state.body)
    }

    /// A ref's state as one change event leaves it, from columns `<prefix>change`, `<prefix>hash`
    /// and `<prefix>body`: nil when there is no event or it was a delete (which stores no body).
    static func storedState(_ row: Row, prefix: String = "") -> (hash: String, body: String)? {
        guard let change = row.string(prefix + "change"), change != ChangeKind.deleted.rawValue,
              let hash = row.string(prefix + "hash"), let body = row.string(prefix + "body") else { return nil }
        return (hash, body)
    }

    /// The canonical body stored under a content hash.
    public func body(hash: ContentHash) throws(DatabaseError) -> String? {
        try db.blobBody(hash)
    }

    /// The current body of an entity in the mirror.
    public func currentBody(of ref: EntityRef) throws(DatabaseError) -> CanonicalBody? {
        try MappingSources(store: self).body(of: ref)
    }
}

public struct HistoryEntry: Sendable {
    public let run: Int
    public let change: ChangeKind
    public let oldHash: ContentHash?
    public let newHash: ContentHash?
    public let at: String
}

public struct StoredVersion: Sendable {
    public let ref: EntityRef
    /// The run whose change produced this version.
    public let run: Int
    public let hash: ContentHash
    public let body: String
}
