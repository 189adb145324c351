/// Persists one run's walk. The caller opens the run's transaction (`begin`) before walking and
/// finishes it (`commit`) after: an interrupted or killed run leaves the database as it was.
public final class SnapshotWriter {
    private let db: Database
    /// The run's transaction: rolled back unless `commit` is reached (also when the writer is released).
    private let transaction: Transaction
    public let runID: Int
    public private(set) var differ: SnapshotDiffer
    /// A first sync (empty mirror) fills the mirror's and the desired state's tables from nothing:
    /// their secondary indexes are rebuilt once after the walk (`finishWalk`) instead of being
    /// updated row by row in random order. Nil once rebuilt, and for any other run.
    private var deferredIndexes: DeferredIndexes?
    /// The tables a first sync fills row by row.
    static let bulkLoadedTables = ["entities", "changes", "desired", "desired_targets"]

    /// Begins the run's IMMEDIATE transaction and inserts its `running` row.
    public init(store: MirrorStore, command: String, source: String, kinds: [String], startedAt: String,
                index: MirrorIndex) throws(DatabaseError) {
        db = store.db
        differ = SnapshotDiffer(index: index)
        transaction = try db.begin(.immediate)
        do {
            try db.run("""
                INSERT INTO runs (command, started_at, status, source, kinds) VALUES (?, ?, 'running', ?, ?)
                """, [.text(command), .text(startedAt), .text(source),
                      .text(RunRecord.encode(kinds: kinds))])
            runID = Int(db.lastInsertRowID)
            if index.count == 0 { deferredIndexes = try DeferredIndexes(db, tables: SnapshotWriter.bulkLoadedTables) }
        } catch {
            transaction.rollback()
            throw error
        }
    }

    /// Classifies and stores one fetched entity; returns the change (nil for an identical duplicate).
    @discardableResult
    public func record(_ entity: SnapshotEntity) throws(DatabaseError) -> EntityChange? {
        guard let change = differ.classify(entity) else { return nil }
        let ref = entity.ref
        let refText = ref.description
        switch change.change {
        case .unchanged:
            if let position = differ.index.position(of: refText),
               !differ.index.hasIdentity(at: position, uid: entity.uid, etag: entity.etag) {
                try db.run("UPDATE entities SET uid = ?, etag = ? WHERE ref = ?",
                           [.optionalText(entity.uid), .optionalText(entity.etag), .text(refText)])
            }
            if change.replacesEarlierCopy {
                // This copy reverts an earlier copy of the same walk: drop that copy's event.
                try db.run("DELETE FROM changes WHERE ref = ? AND run_id = ?", [.text(refText), .int(runID)])
                try db.run("UPDATE entities SET hash = ? WHERE ref = ?", [.text(entity.body.hash.hex), .text(refText)])
            }
        case .created, .updated:
            try db.storeBlob(entity.body)
            try db.run("""
                INSERT INTO entities (ref, kind, namespace, name, uid, etag, hash, first_seen_run, last_seen_run)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (ref) DO UPDATE SET uid = excluded.uid, etag = excluded.etag, hash = excluded.hash,
                    last_seen_run = excluded.last_seen_run
                """, [.text(refText), .text(ref.kind), .text(ref.namespace), .text(ref.name),
                      .optionalText(entity.uid), .optionalText(entity.etag), .text(entity.body.hash.hex),
                      .int(runID), .int(runID)])
            try db.run("""
                INSERT OR REPLACE INTO changes (run_id, ref, kind, change, old_hash, new_hash) VALUES (?, ?, ?, ?, ?, ?)
                """, [.int(runID), .text(refText), .text(ref.kind), .text(change.change.rawValue),
                      .optionalText(change.oldHash?.hex), .text(entity.body.hash.hex)])
        case .deleted:
            break
        }
        return change
    }

    /// Records mirrored entries (index positions) a scan found with the mirror's uid and etag:
    /// unchanged, no body fetched.
    public func recordUnchanged(_ positions: [Int32]) {
        for position in positions { differ.markUnchanged(position: Int(position)) }
    }

    /// Ends one kind's walk: a complete walk deletes what it didn't see; an incomplete one
    /// deletes nothing, and neither does one `withholdingDeletes` (the source could not read part
    /// of the catalog, so unseen entities may still exist: they keep their last version).
    @discardableResult
    public func finishKind(_ outcome: KindOutcome, withholdingDeletes: Bool = false) throws(DatabaseError) -> [EntityChange] {
        let kind = outcome.kind.lowercased()
        try db.run("INSERT OR REPLACE INTO run_kinds (run_id, kind, complete, fetched, error, mode) VALUES (?, ?, ?, ?, ?, ?)",
                   [.int(runID), .text(kind), .int(outcome.complete ? 1 : 0), .int(outcome.fetched),
                    .optionalText(outcome.error), .text(outcome.mode.rawValue)])
        var deletions: [EntityChange] = []
        if outcome.complete, !withholdingDeletes {
            deletions = differ.deletions(ofKind: kind)
            for deletion in deletions {
                try db.run("DELETE FROM entities WHERE ref = ?", [.text(deletion.ref.description)])
                try db.run("""
                    INSERT OR REPLACE INTO changes (run_id, ref, kind, change, old_hash, new_hash)
                    VALUES (?, ?, ?, 'deleted', ?, NULL)
                    """, [.int(runID), .text(deletion.ref.description), .text(kind), .optionalText(deletion.oldHash?.hex)])
            }
        }
        // `last_seen_run` moves only when an entity changes: re-stamping every unchanged row would
        // rewrite the whole table on every sync. `v_entities` derives when it was last seen.
        return deletions
    }

    /// Ends the walk's bulk writes: rebuilds the indexes a first sync set aside, so what runs
    /// after the walk (mapping, plan, `changes`) reads indexed tables. `commit` does it too.
    public func finishWalk() throws(DatabaseError) {
        try deferredIndexes?.rebuild(db)
        deferredIndexes = nil
    }

    /// This run's change events so far, by ref (what `diff` lists).
    public func changes() throws(DatabaseError) -> [EntityChange] {
        try db.rows("SELECT ref, change, old_hash, new_hash FROM changes WHERE run_id = ? ORDER BY ref",
                    [.int(runID)]).compactMap { row in
            guard let ref = row.ref("ref"), let change = row.string("change").flatMap(ChangeKind.init(rawValue:)) else { return nil }
            return EntityChange(ref: ref, change: change, oldHash: row.string("old_hash").map(ContentHash.init(hex:)),
                                newHash: row.string("new_hash").map(ContentHash.init(hex:)))
        }
    }

    /// Writes the run's outcome and commits everything at once. The commit does not checkpoint
    /// the write-ahead log: the caller runs `MirrorStore.checkpointInBackground()` after it.
    public func commit(_ outcome: RunOutcome, error: String?) throws(DatabaseError) {
        try finishWalk()
        let counts = differ.counts
        try db.run("""
            UPDATE runs SET finished_at = ?, status = ?, reasons = ?, fetched = ?, created = ?, updated = ?, deleted = ?,
                unchanged = ?, error = ? WHERE id = ?
            """, [.text(Timestamp.now()), .text(outcome.status.rawValue), .text(RunOutcome.encode(outcome.reasons)),
                  .int(counts.fetched), .int(counts.created), .int(counts.updated), .int(counts.deleted),
                  .int(counts.unchanged), .optionalText(error), .int(runID)])
        try db.commitWithoutCheckpoint(transaction)
    }

    /// Abandons the run: nothing of it is kept.
    public func rollback() {
        transaction.rollback()
    }
}

@available(*, unavailable)
extension SnapshotWriter: Sendable {}
