import CSQLite
import Foundation

/// What one `prune` removed and kept.
public struct PruneReport: Sendable, Equatable {
    /// The oldest run whose history is complete afterwards; nil when the database has no runs.
    public var historyFromRun: Int?
    public var runsDeleted = 0
    /// Older runs whose row stays because a baseline change event or the current state (first or
    /// last seen, desired state, ledger, mapping) refers to them.
    public var anchorRuns: [Int] = []
    public var changesDeleted = 0
    /// Change events of older runs kept as baselines (the newest per ref before `historyFromRun`).
    public var baselines = 0
    public var pushesDeleted = 0
    public var blobsDeleted = 0
    public var dryRun = false

    public init() {}
}

/// Drops old history while keeping what the kept runs and the current state need.
///
/// The rule: for a cutoff run C (the oldest kept run), every change event of a run before C is
/// deleted except each ref's newest one (its *baseline*: what the ref looked like entering C),
/// and baselines that are deletions go too (the entity did not exist then). So `show REF --at R`
/// answers exactly as before for every R ≥ C, and `show REF` still finds the current version.
/// Pushes of runs before C are deleted. A run before C keeps its row only while something still
/// refers to it (a baseline, `first_seen_run`, the ledger, …); the rest are deleted. Finally every
/// blob that no current entity, kept change event, desired entity, ledger entry or kept push
/// refers to is deleted. Runs in one IMMEDIATE transaction; the caller holds the writer lock.
public struct Retention {
    let db: Database

    public init(store: MirrorStore) {
        db = store.db
    }

    /// The oldest run whose history is complete, when the mirror was ever pruned.
    public func historyFloor() throws(DatabaseError) -> Int? {
        guard try db.hasTable("retention") else { return nil }
        return try db.row("SELECT history_from_run FROM retention WHERE id = 1")?.int(0)
    }

    /// Prunes by `policy` as of `now`; with `dryRun`, reports what it would do and keeps everything.
    public func prune(_ policy: RetentionPolicy, now: Date = Date(), dryRun: Bool = false) throws(DatabaseError) -> PruneReport {
        var report = PruneReport()
        report.dryRun = dryRun
        // Foreign keys are checked once at the end instead of per deleted row: SQLite would scan
        // the unindexed referencing columns (entities.hash, first_seen_run, …) for every row.
        try db.execute("PRAGMA foreign_keys = OFF")
        defer { try? db.execute("PRAGMA foreign_keys = ON") }
        let transaction = try db.begin(.immediate)
        do {
            if let cut = try policy.oldestKeptRun(in: db, now: now) {
                report.historyFromRun = cut
                try pruneChanges(before: cut, report: &report)
                try db.run("DELETE FROM pushes WHERE run_id < ?", [.int(cut)])
                report.pushesDeleted = db.changes
                try pruneRuns(before: cut, report: &report)
                try pruneBlobs(report: &report)
                try checkForeignKeys()
                try db.run("""
                    INSERT INTO retention (id, history_from_run, pruned_at, policy) VALUES (1, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET history_from_run = max(history_from_run, excluded.history_from_run),
                        pruned_at = excluded.pruned_at, policy = excluded.policy
                    """, [.int(cut), .text(Timestamp.string(now)), .text(policy.description)])
            }
            if dryRun { transaction.rollback() } else { try transaction.commit() }
        } catch {
            transaction.rollback()
            throw error
        }
        return report
    }

    /// Deletes change events before `cut` except each ref's baseline (deletions are no baseline).
    private func pruneChanges(before cut: Int, report: inout PruneReport) throws(DatabaseError) {
        try db.execute("""
            DROP TABLE IF EXISTS temp.prune_baselines;
            CREATE TEMP TABLE prune_baselines (ref TEXT NOT NULL, run_id INTEGER NOT NULL, PRIMARY KEY (ref, run_id)) WITHOUT ROWID;
            """)
        defer { try? db.execute("DROP TABLE IF EXISTS temp.prune_baselines") }
        try db.run("INSERT INTO temp.prune_baselines SELECT ref, max(run_id) FROM changes WHERE run_id < ? GROUP BY ref",
                   [.int(cut)])
        try db.run("""
            DELETE FROM changes WHERE run_id < ? AND (change = 'deleted' OR NOT EXISTS
                (SELECT 1 FROM temp.prune_baselines b WHERE b.ref = changes.ref AND b.run_id = changes.run_id))
            """, [.int(cut)])
        report.changesDeleted = db.changes
        report.baselines = try db.row("SELECT count(*) FROM changes WHERE run_id < ?", [.int(cut)])?.int(0) ?? 0
    }

    /// Per-run details that go with their run (they never keep a run alive).
    static let runDetails: Set<String> = ["run_kinds", "run_mapping_errors"]

    /// Deletes runs before `cut` that nothing refers to any more, with their details.
    private func pruneRuns(before cut: Int, report: inout PruneReport) throws(DatabaseError) {
        var sql = "DELETE FROM runs WHERE id < ?"
        for reference in try references(to: "runs") where !Retention.runDetails.contains(reference.name) {
            sql += " AND id NOT IN (SELECT \(reference.column) FROM \(reference.table) WHERE \(reference.column) IS NOT NULL)"
        }
        try db.run(sql, [.int(cut)])
        report.runsDeleted = db.changes
        for table in Retention.runDetails.sorted() {
            try db.run("DELETE FROM \(table) WHERE run_id < ? AND run_id NOT IN (SELECT id FROM runs)", [.int(cut)])
        }
        report.anchorRuns = try db.rows("SELECT id FROM runs WHERE id < ? ORDER BY id", [.int(cut)]).compactMap { $0.int(0) }
    }

    /// Deletes blobs nothing refers to. Hash columns without a foreign key are listed here; any
    /// foreign key to `blobs` a later migration adds is found in the schema.
    private func pruneBlobs(report: inout PruneReport) throws(DatabaseError) {
        var used = [
            ("changes", "new_hash"), ("changes", "old_hash"), ("ledger", "acked_hash"), ("ledger", "intent_hash"),
            ("pushes", "hash"),
        ].map { Reference(table: $0.0, column: $0.1) }
        used += try references(to: "blobs")
        let union = used.map { "SELECT \($0.column) FROM \($0.table) WHERE \($0.column) IS NOT NULL" }.joined(separator: " UNION ")
        try db.run("DELETE FROM blobs WHERE hash NOT IN (\(union))")
        report.blobsDeleted = db.changes
    }

    private func checkForeignKeys() throws(DatabaseError) {
        // PRAGMA foreign_key_check: the referring table, its row, the missing parent table, the key's id.
        if let row = try db.row("PRAGMA foreign_key_check") {
            throw DatabaseError(code: SQLITE_CONSTRAINT, message: "prune would break a reference: \(row.string("table") ?? "?") row \(row.string("rowid") ?? "?") refers to a missing \(row.string("parent") ?? "?")")
        }
    }

    /// A column of a table that refers to another table; `table` and `column` are quoted for SQL.
    struct Reference {
        let name: String
        let table: String
        let column: String

        init(table: String, column: String) {
            name = table
            self.table = "\"\(table.replacingOccurrences(of: "\"", with: "\"\""))\""
            self.column = "\"\(column.replacingOccurrences(of: "\"", with: "\"\""))\""
        }
    }

    /// Every (table, column) with a foreign key to `parent`, read from the schema.
    private func references(to parent: String) throws(DatabaseError) -> [Reference] {
        let tables = try db.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .compactMap { $0.string(0) }
        var references: [Reference] = []
        for table in tables {
            // PRAGMA foreign_key_list: id, seq, table, from, to, on_update, on_delete, match.
            for row in try db.rows("SELECT \"table\" AS parent, \"from\" AS child_column FROM pragma_foreign_key_list(?)", [.text(table)])
            where row.string("parent") == parent {
                if let column = row.string("child_column") { references.append(Reference(table: table, column: column)) }
            }
        }
        return references
    }

    /// Rebuilds the file to give the freed pages back to the file system (needs room for a copy),
    /// then truncates the WAL. Returns the database size before and after, in bytes.
    public func vacuum() throws(DatabaseError) -> (before: Int, after: Int) {
        let before = try size()
        try db.execute("VACUUM")
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return (before, try size())
    }

    /// Pages in use times page size.
    public func size() throws(DatabaseError) -> Int {
        let pages = try db.row("PRAGMA page_count")?.int(0) ?? 0
        let pageSize = try db.row("PRAGMA page_size")?.int(0) ?? 0
        return pages * pageSize
    }
}

@available(*, unavailable)
extension Retention: Sendable {}
