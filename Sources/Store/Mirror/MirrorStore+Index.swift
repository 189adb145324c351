import Foundation

/// What a walk reads before it starts: the mirror's per-ref index and when each kind was last
/// walked in full.
extension MirrorStore {
    /// The current mirror's index (refs, kinds, hashes, uids, etags; no bodies).
    public func loadIndex() throws(DatabaseError) -> MirrorIndex {
        let statement = try db.statement("SELECT ref, kind, hash, uid, etag FROM entities")
        var index = MirrorIndex()
        index.reserveCapacity(try db.row("SELECT count(*) FROM entities")?.int(0) ?? 0)
        // Kinds repeat: one Swift string per kind, the rest copied as bytes into the index.
        var kinds: [String: String] = [:]
        let (refColumn, kindColumn, hashColumn, uidColumn, etagColumn) =
            (statement.column("ref"), statement.column("kind"), statement.column("hash"), statement.column("uid"), statement.column("etag"))
        while try statement.step() {
            guard let kindText = statement.text(kindColumn), let hash = statement.withBytes(hashColumn, { $0.map { ContentHash(hex: $0) } })
            else { continue }
            let kind = kinds[kindText] ?? kindText
            kinds[kind] = kind
            statement.withBytes(refColumn) { ref in
                guard let ref else { return }
                statement.withBytes(uidColumn) { uid in
                    statement.withBytes(etagColumn) { etag in
                        index.insert(ref: ref, kind: kind, hash: hash, uid: uid, etag: etag, unique: true)
                    }
                }
            }
        }
        return index
    }


    /// When `kind` was last walked completely with full bodies by a committed sync, if ever.
    public func lastFullWalk(ofKind kind: String) throws(DatabaseError) -> Date? {
        try db.row("""
            SELECT max(r.started_at) FROM run_kinds k JOIN runs r ON r.id = k.run_id
            WHERE k.kind = ? AND k.mode = 'full' AND k.complete = 1
            """, [.text(kind.lowercased())])?.string(0).flatMap(Timestamp.date)
    }
}
