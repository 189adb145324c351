/// One upsert the plan wants: a desired entity Port has not acknowledged in this form.
public struct PlannedUpsert: Sendable {
    public let key: PortKey
    public let sourceRef: String
    /// The mapped entity as it will be sent: canonical bytes with the content hash the desired
    /// state stored them under (read as bytes, never re-hashed on the way to Port).
    public let body: CanonicalBody
    /// What Port last acknowledged for this key (nil: Port never acknowledged it: a create).
    public let ackedHash: ContentHash?
}

/// One delete the plan wants: an owned entity no longer desired.
public struct PlannedDelete: Sendable {
    public let key: PortKey
    public let sourceRef: String
}

/// The ledger: every Port entity mirrorctl owns and what Port last acknowledged for it. The plan
/// is the desired state against the ledger; pushes record intent before sending and the
/// acknowledgement after, so a killed push is re-sent (harmlessly: upserts are idempotent).
public struct Ledger {
    let db: Database

    public init(store: MirrorStore) {
        db = store.db
    }

    /// Desired entities whose mapped hash Port has not acknowledged, in key order: at most
    /// `limit` of them after `after`, so a large plan is read a chunk at a time. Bodies are read
    /// for the rows returned only: joining `blobs` before the filter read every desired body.
    public func plannedUpserts(after: PortKey? = nil, limit: Int = Int(Int32.max)) throws(DatabaseError) -> [PlannedUpsert] {
        let statement = try db.statement("""
            SELECT d.blueprint AS blueprint, d.identifier AS identifier, d.source_ref AS source_ref, d.hash AS hash,
                   (SELECT body FROM blobs WHERE hash = d.hash) AS body, l.acked_hash AS acked_hash
            FROM desired d
            LEFT JOIN ledger l ON l.blueprint = d.blueprint AND l.identifier = d.identifier
            WHERE (l.acked_hash IS NULL OR l.acked_hash <> d.hash) AND (d.blueprint, d.identifier) > (?, ?)
            ORDER BY d.blueprint, d.identifier LIMIT ?
            """)
        try statement.bind([.text(after?.blueprint ?? ""), .text(after?.identifier ?? ""), .int(limit)])
        var upserts: [PlannedUpsert] = []
        while try statement.step() {
            guard let blueprint = statement.text(statement.column("blueprint")),
                  let identifier = statement.text(statement.column("identifier")),
                  let source = statement.text(statement.column("source_ref")),
                  let body = MappingSources.body(statement) else { continue }
            upserts.append(PlannedUpsert(key: PortKey(blueprint: blueprint, identifier: identifier), sourceRef: source, body: body,
                                         ackedHash: statement.text(statement.column("acked_hash")).map(ContentHash.init(hex:))))
        }
        return upserts
    }

    /// Owned entities no longer desired, in key order.
    ///
    /// Here and in `pendingCount`, `EXCEPT ... ORDER BY` the primary key is one merge pass over
    /// both tables in key order; the equivalent LEFT JOIN probes one table's primary key per row of
    /// the other, about twice as slow (every sync asks both, ~70 ms saved at 100k entities).
    public func plannedDeletes() throws(DatabaseError) -> [PlannedDelete] {
        let keys = try db.rows("""
            SELECT blueprint, identifier FROM ledger EXCEPT SELECT blueprint, identifier FROM desired ORDER BY 1, 2
            """)
        var deletes: [PlannedDelete] = []
        for row in keys {
            guard let blueprint = row.string("blueprint"), let identifier = row.string("identifier"),
                  let source = try db.row("SELECT source_ref FROM ledger WHERE blueprint = ? AND identifier = ?",
                                          [.text(blueprint), .text(identifier)])?.string(0) else { continue }
            deletes.append(PlannedDelete(key: PortKey(blueprint: blueprint, identifier: identifier), sourceRef: source))
        }
        return deletes
    }

    /// How many entities mirrorctl owns in Port (the denominator of the deletion threshold).
    public func ownedCount() throws(DatabaseError) -> Int {
        try db.row("SELECT count(*) FROM ledger")?.int(0) ?? 0
    }

    /// Keys still targeted by a relation of a desired entity (protected from deletion when Port
    /// would re-create them as missing related entities).
    public func isRelationTarget(_ identifier: String) throws(DatabaseError) -> Bool {
        try db.row("SELECT 1 FROM desired_targets WHERE target = ? LIMIT 1", [.text(identifier)]) != nil
    }

    /// The body Port last acknowledged under `hash`.
    public func body(hash: ContentHash) throws(DatabaseError) -> String? {
        try db.blobBody(hash)
    }

    /// Records that `upserts` are about to be sent.
    public func markSending(_ upserts: [PlannedUpsert], run: Int) throws(DatabaseError) {
        for upsert in upserts {
            try db.run("""
                INSERT INTO ledger (blueprint, identifier, source_ref, intent_hash, status, run_id, updated_at)
                VALUES (?, ?, ?, ?, 'sending', ?, ?)
                ON CONFLICT (blueprint, identifier) DO UPDATE SET source_ref = excluded.source_ref,
                    intent_hash = excluded.intent_hash, status = 'sending', run_id = excluded.run_id,
                    updated_at = excluded.updated_at
                """, [.text(upsert.key.blueprint), .text(upsert.key.identifier), .text(upsert.sourceRef),
                      .text(upsert.body.hash.hex), .int(run), .text(Timestamp.now())])
        }
    }

    /// Records Port's answer for one upsert.
    public func recordUpsert(_ upsert: PlannedUpsert, outcome: PushOutcome, run: Int) throws(DatabaseError) {
        let now = Timestamp.now()
        switch outcome {
        case .acked:
            try db.run("""
                UPDATE ledger SET acked_hash = ?, status = 'synced', last_error = NULL, run_id = ?, updated_at = ?
                WHERE blueprint = ? AND identifier = ?
                """, [.text(upsert.body.hash.hex), .int(run), .text(now), .text(upsert.key.blueprint), .text(upsert.key.identifier)])
        case .rejected, .failed:
            try db.run("""
                UPDATE ledger SET status = ?, last_error = ?, run_id = ?, updated_at = ? WHERE blueprint = ? AND identifier = ?
                """, [.text(outcome.ledgerStatus), .optionalText(outcome.recordedError), .int(run), .text(now),
                      .text(upsert.key.blueprint), .text(upsert.key.identifier)])
        }
        try recordPush(run: run, key: upsert.key, action: "upsert", outcome: outcome, hash: upsert.body.hash.hex)
    }

    /// Records that `deletes` are about to be sent.
    public func markDeleting(_ deletes: [PlannedDelete], run: Int) throws(DatabaseError) {
        for delete in deletes {
            try db.run("UPDATE ledger SET status = 'deleting', run_id = ?, updated_at = ? WHERE blueprint = ? AND identifier = ?",
                       [.int(run), .text(Timestamp.now()), .text(delete.key.blueprint), .text(delete.key.identifier)])
        }
    }

    /// Records Port's answer for one delete: an acknowledged delete leaves the ledger.
    public func recordDelete(_ delete: PlannedDelete, outcome: PushOutcome, run: Int) throws(DatabaseError) {
        switch outcome {
        case .acked:
            try db.run("DELETE FROM ledger WHERE blueprint = ? AND identifier = ?",
                       [.text(delete.key.blueprint), .text(delete.key.identifier)])
        case .rejected, .failed:
            try db.run("UPDATE ledger SET status = 'failed', last_error = ?, run_id = ?, updated_at = ? WHERE blueprint = ? AND identifier = ?",
                       [.optionalText(outcome.recordedError), .int(run), .text(Timestamp.now()), .text(delete.key.blueprint), .text(delete.key.identifier)])
        }
        try recordPush(run: run, key: delete.key, action: "delete", outcome: outcome, hash: nil)
    }

    private func recordPush(run: Int, key: PortKey, action: String, outcome: PushOutcome, hash: String?) throws(DatabaseError) {
        try db.run("""
            INSERT INTO pushes (run_id, blueprint, identifier, action, outcome, http_status, error, hash, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(run), .text(key.blueprint), .text(key.identifier), .text(action), .text(outcome.name),
                  outcome.httpStatus.map { .int($0) } ?? .null, .optionalText(outcome.recordedError), .optionalText(hash),
                  .text(Timestamp.now())])
    }

    /// Entities not (yet) acknowledged in their desired form.
    /// Owned entities whose last push Port rejected (4xx) or that failed (no answer, 5xx).
    public func failedCount() throws(DatabaseError) -> Int {
        try db.row("SELECT count(*) FROM ledger WHERE status IN ('rejected', 'failed')")?.int(0) ?? 0
    }

    public func pendingCount() throws(DatabaseError) -> Int {
        // Desired rows without a ledger row acknowledging the same hash (see `plannedDeletes`).
        try db.row("""
            SELECT count(*) FROM (SELECT blueprint, identifier, hash FROM desired
                                  EXCEPT SELECT blueprint, identifier, acked_hash FROM ledger ORDER BY 1, 2, 3)
            """)?.int(0) ?? 0
    }
}
