import Foundation

/// How an owned entity differs from what Port acknowledged.
public enum DriftKind: String, Sendable {
    /// Present in Port with other values in fields mirrorctl sends.
    case drifted
    /// Absent from Port.
    case missing
}

/// Counts of one verification, as `verify --json` prints them.
public struct VerificationCounts: Sendable, Equatable {
    public var checked = 0
    public var drifted = 0
    public var missing = 0
    public var repaired = 0

    public init(checked: Int = 0, drifted: Int = 0, missing: Int = 0, repaired: Int = 0) {
        self.checked = checked
        self.drifted = drifted
        self.missing = missing
        self.repaired = repaired
    }
}

/// A finished drift verification: when, what it counted, and its error if it could not check all.
public struct FinishedVerification: Sendable {
    public let finishedAt: String
    public let counts: VerificationCounts
    public let error: String?
}

/// The database side of drift verification (`Migrations/0006_verify.sql`): which acknowledged
/// entities to compare, what Port acknowledged for them, the drift found (clearing the entity's
/// acknowledgement so the planner upserts it again), and when Port last matched the ledger.
public struct VerificationLog {
    let db: Database

    public init(store: MirrorStore) {
        db = store.db
    }

    /// The newest finished verification; nil when none has finished or the database predates
    /// `verify` (a read-only open does not migrate).
    public func lastFinished() throws(DatabaseError) -> FinishedVerification? {
        guard try db.hasTable("verifications"),
              let row = try db.row("""
                  SELECT finished_at, checked, drifted, missing, repaired, error FROM verifications
                  WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1
                  """), let finished = row.string("finished_at")
        else { return nil }
        return FinishedVerification(
            finishedAt: finished,
            counts: VerificationCounts(checked: row.int("checked") ?? 0, drifted: row.int("drifted") ?? 0,
                                       missing: row.int("missing") ?? 0, repaired: row.int("repaired") ?? 0),
            error: row.string("error"))
    }

    /// When the newest verification that read every blueprint finished, if ever.
    public func lastCompleted() throws(DatabaseError) -> Date? {
        try db.row("SELECT max(finished_at) FROM verifications WHERE finished_at IS NOT NULL AND error IS NULL")?
            .string(0).flatMap(Timestamp.date)
    }

    /// Blueprints holding entities Port acknowledged in their desired form, in order.
    public func blueprints() throws(DatabaseError) -> [String] {
        try db.rows("""
            SELECT DISTINCT l.blueprint FROM ledger l
            JOIN desired d ON d.blueprint = l.blueprint AND d.identifier = l.identifier AND d.hash = l.acked_hash
            ORDER BY l.blueprint
            """).compactMap { $0.string(0) }
    }

    /// Identifiers of `blueprint` that Port acknowledged in their desired form: the ones to check
    /// (anything else is pending and will be sent by the next push anyway).
    public func acknowledgedIdentifiers(blueprint: String) throws(DatabaseError) -> [String] {
        try db.rows("""
            SELECT l.identifier FROM ledger l
            JOIN desired d ON d.blueprint = l.blueprint AND d.identifier = l.identifier AND d.hash = l.acked_hash
            WHERE l.blueprint = ? ORDER BY l.identifier
            """, [.text(blueprint)]).compactMap { $0.string(0) }
    }

    /// The canonical JSON Port acknowledged for `key`, if it is acknowledged in its desired form.
    public func acknowledgedBody(_ key: PortKey) throws(DatabaseError) -> String? {
        try db.row("""
            SELECT b.body FROM ledger l
            JOIN desired d ON d.blueprint = l.blueprint AND d.identifier = l.identifier AND d.hash = l.acked_hash
            JOIN blobs b ON b.hash = l.acked_hash
            WHERE l.blueprint = ? AND l.identifier = ?
            """, [.text(key.blueprint), .text(key.identifier)])?.string(0)
    }

    /// Distinct acknowledged bodies of `blueprint`, `limit` at a time after `after` (a hash), so
    /// the field list can be gathered without holding every body.
    public func acknowledgedBodies(blueprint: String, after: String, limit: Int) throws(DatabaseError) -> [(hash: String, body: String)] {
        try db.rows("""
            SELECT DISTINCT b.hash AS hash, b.body AS body FROM ledger l
            JOIN desired d ON d.blueprint = l.blueprint AND d.identifier = l.identifier AND d.hash = l.acked_hash
            JOIN blobs b ON b.hash = l.acked_hash
            WHERE l.blueprint = ? AND b.hash > ? ORDER BY b.hash LIMIT ?
            """, [.text(blueprint), .text(after), .int(limit)]).compactMap { row in
            guard let hash = row.string("hash"), let body = row.string("body") else { return nil }
            return (hash, body)
        }
    }

    /// Starts a verification within `run`; returns its id.
    public func begin(run: Int) throws(DatabaseError) -> Int {
        try db.run("INSERT INTO verifications (run_id, started_at) VALUES (?, ?)", [.int(run), .text(Timestamp.now())])
        return Int(db.lastInsertRowID)
    }

    /// Records drift of one entity and clears its acknowledgement, so the planner upserts it.
    public func recordDrift(_ key: PortKey, _ drift: DriftKind, fields: [String], verification: Int) throws(DatabaseError) {
        try db.run("""
            INSERT OR REPLACE INTO verification_drift (verification_id, blueprint, identifier, drift, fields)
            VALUES (?, ?, ?, ?, ?)
            """, [.int(verification), .text(key.blueprint), .text(key.identifier), .text(drift.rawValue),
                  drift == .drifted ? .text(CanonicalJSON.string(.array(fields.map(JSONValue.string)))) : .null])
        try db.run("""
            UPDATE ledger SET acked_hash = NULL, status = 'pending', last_error = ?, updated_at = ?
            WHERE blueprint = ? AND identifier = ?
            """, [.text(drift == .missing ? "verify: missing in Port" : "verify: edited in Port (\(fields.joined(separator: ", ")))"),
                  .text(Timestamp.now()), .text(key.blueprint), .text(key.identifier)])
    }

    /// How many entities of the verification Port has acknowledged again since.
    public func repairedCount(verification: Int) throws(DatabaseError) -> Int {
        try db.row("""
            SELECT count(*) FROM verification_drift v
            JOIN ledger l ON l.blueprint = v.blueprint AND l.identifier = v.identifier
            WHERE v.verification_id = ? AND l.acked_hash IS NOT NULL
            """, [.int(verification)])?.int(0) ?? 0
    }

    /// Stores a verification's counts. `error` (blueprints that could not be read) keeps it from
    /// counting as a completed verification.
    public func finish(_ verification: Int, counts: VerificationCounts, error: String?) throws(DatabaseError) {
        try db.run("""
            UPDATE verifications SET finished_at = ?, checked = ?, drifted = ?, missing = ?, repaired = ?, error = ?
            WHERE id = ?
            """, [.text(Timestamp.now()), .int(counts.checked), .int(counts.drifted), .int(counts.missing),
                  .int(counts.repaired), .optionalText(error), .int(verification)])
    }

    /// Stores the repaired count once the push is done.
    public func setRepaired(_ verification: Int, _ repaired: Int) throws(DatabaseError) {
        try db.run("UPDATE verifications SET repaired = ? WHERE id = ?", [.int(repaired), .int(verification)])
    }

    // MARK: Runs of `mirrorctl verify`

    /// Inserts the `running` row of a `verify` run (it walks nothing; `source` is Port's URL).
    /// An earlier `verify` run still `running` was killed (the writer lock admits one writer): it
    /// is marked failed first.
    public func beginRun(source: String) throws(DatabaseError) -> Int {
        try db.run("UPDATE runs SET status = 'failed', error = 'interrupted', finished_at = ? WHERE command = 'verify' AND status = 'running'",
                   [.text(Timestamp.now())])
        try db.run("INSERT INTO runs (command, started_at, status, source, kinds) VALUES ('verify', ?, 'running', ?, '[]')",
                   [.text(Timestamp.now()), .text(source)])
        return Int(db.lastInsertRowID)
    }

    /// Ends a `verify` run with its status, the error when not succeeded, and the Port report.
    public func finishRun(_ run: Int, status: RunStatus, error: String?, port: JSONValue?) throws(DatabaseError) {
        try db.run("UPDATE runs SET status = ?, finished_at = ?, error = ?, port = ? WHERE id = ?",
                   [.text(status.rawValue), .text(Timestamp.now()), .optionalText(error),
                    port.map { .text(CanonicalJSON.string($0)) } ?? .null, .int(run)])
    }
}
