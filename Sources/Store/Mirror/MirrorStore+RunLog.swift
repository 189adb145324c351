import Foundation

/// The run log (`runs`): reading runs back, and what a run records besides its walk
/// (`SnapshotWriter` writes the walk itself).
extension MirrorStore {
    /// The newest runs, newest first.
    public func runs(limit: Int = 20) throws(DatabaseError) -> [RunRecord] {
        try db.rows("SELECT \(RunRecord.columns) FROM runs ORDER BY id DESC LIMIT ?", [.int(limit)]).map(RunRecord.init(row:))
    }

    public func run(id: Int) throws(DatabaseError) -> RunRecord? {
        try db.row("SELECT \(RunRecord.columns) FROM runs WHERE id = ?", [.int(id)]).map(RunRecord.init(row:))
    }

    /// The newest run of `command` (`sync`, `verify`, …), or the newest that ended with `status`.
    public func lastRun(of command: String, status: RunStatus? = nil) throws(DatabaseError) -> RunRecord? {
        // A NULL status argument matches any status: one query for both questions.
        try db.row("SELECT \(RunRecord.columns) FROM runs WHERE command = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT 1",
                   [.text(command), .optionalText(status?.rawValue)]).map(RunRecord.init(row:))
    }

    /// What run `id` reported about Port (`runs.port`: pushed, pending, skipped…), if it recorded it.
    public func portReport(ofRun id: Int) throws(DatabaseError) -> JSONValue? {
        try db.row("SELECT port FROM runs WHERE id = ?", [.int(id)])?.string(0).flatMap { try? CanonicalJSON.parse($0) }
    }

    /// Records the Port report of run `id` (what `status` and `runs` show about the push).
    public func recordPortReport(_ report: JSONValue, run id: Int) throws(DatabaseError) {
        try db.run("UPDATE runs SET port = ? WHERE id = ?", [.text(CanonicalJSON.string(report)), .int(id)])
    }

    /// Records which mapping run `id` mapped with (its hash).
    public func recordMappingHash(_ hash: String, run id: Int) throws(DatabaseError) {
        try db.run("UPDATE runs SET mapping_hash = ? WHERE id = ?", [.text(hash), .int(id)])
    }

    /// Records a run that failed before anything could be written (its walk transaction rolled back).
    public func recordFailedRun(command: String, startedAt: String, source: String, kinds: [String],
                                error: String) throws(DatabaseError) -> Int {
        try db.run("""
            INSERT INTO runs (command, started_at, finished_at, status, source, kinds, error)
            VALUES (?, ?, ?, 'failed', ?, ?, ?)
            """, [.text(command), .text(startedAt), .text(Timestamp.now()), .text(source),
                  .text(RunRecord.encode(kinds: kinds)), .text(error)])
        return Int(db.lastInsertRowID)
    }

    /// Whether the database at `path` records `programKey` as compiled (`compiled_mappings`).
    /// Opens it read-only; false when the file, the table or the row is missing.
    public static func hasCompiledMapping(_ programKey: String, databasePath path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path),
              let store = try? MirrorStore(path: path, readOnly: true) else { return false }
        return (try? store.db.row("SELECT 1 FROM compiled_mappings WHERE program_key = ?", [.text(programKey)])) != nil
    }

    /// Records that `programKey` compiled, in the current transaction (`run`'s).
    public func recordCompiledMapping(_ programKey: String, run: Int) throws(DatabaseError) {
        try db.run("INSERT OR IGNORE INTO compiled_mappings (program_key, first_run) VALUES (?, ?)",
                   [.text(programKey), .int(run)])
    }
}

/// One row of `runs`.
public struct RunRecord: Sendable {
    public let id: Int
    public let command: String
    public let startedAt: String
    public let finishedAt: String?
    public let status: RunState
    public let source: String
    public let kinds: [String]
    public let counts: ChangeCounts
    public let error: String?
    /// Why the run is not `succeeded` (empty when it is).
    public let reasons: [RunReason]

    /// The columns `init(row:)` reads.
    static let columns = "id, command, started_at, finished_at, status, source, kinds, fetched, created, updated, deleted, unchanged, error, reasons"

    /// The `runs.kinds` column: a JSON array of the kinds the run set out to walk.
    static func encode(kinds: [String]) -> String {
        CanonicalJSON.string(.array(kinds.map(JSONValue.string)))
    }

    /// Decodes a row of `runs` by column name.
    init(row: Row) {
        id = row.int("id") ?? 0
        command = row.string("command") ?? ""
        startedAt = row.string("started_at") ?? ""
        finishedAt = row.string("finished_at")
        status = RunState(stored: row.string("status"))
        source = row.string("source") ?? ""
        kinds = (try? CanonicalJSON.parse(row.string("kinds") ?? "[]"))?.arrayValue?.compactMap(\.stringValue) ?? []
        var counts = ChangeCounts()
        counts.fetched = row.int("fetched") ?? 0
        counts.created = row.int("created") ?? 0
        counts.updated = row.int("updated") ?? 0
        counts.deleted = row.int("deleted") ?? 0
        counts.unchanged = row.int("unchanged") ?? 0
        self.counts = counts
        error = row.string("error")
        reasons = RunOutcome.decode(row.string("reasons"))
    }
}
