import CSQLite
import Foundation

/// The mirror database: opens and migrates it, loads the per-ref index, and answers the audit
/// questions (runs, history, past versions). Writes of a run go through `SnapshotWriter`.
public final class MirrorStore {
    /// The connection. Public only until the last SQL outside Store (the mapping stage, the
    /// sync engine's run updates, `mapping` commands) moves behind Store's typed APIs.
    public let db: Database

    /// Opens (creating if needed) and migrates the database at `path`.
    public init(path: String, readOnly: Bool = false) throws(StoreError) {
        do {
            if readOnly {
                db = try Database.openForReading(path)
            } else {
                db = try Database(path: path, create: true)
                // Touch the schema first: a file that is not a database fails here, clearly.
                _ = try db.row("SELECT count(*) FROM sqlite_master")
                try Migrator.migrate(db)
            }
        } catch {
            throw StoreError(path: path, opening: error, forReading: readOnly)
        }
    }

    /// The current mirror's index (refs, kinds, hashes, uids, etags; no bodies).
    public func loadIndex() throws(DatabaseError) -> MirrorIndex {
        let statement = try db.statement("SELECT ref, kind, hash, uid, etag FROM entities")
        var index = MirrorIndex()
        index.reserveCapacity(try db.row("SELECT count(*) FROM entities")?.int(0) ?? 0)
        // Kinds repeat: one Swift string per kind, the rest copied as bytes into the index.
        var kinds: [String: String] = [:]
        while try statement.step() {
            guard let kindText = statement.text(1), let hash = statement.withBytes(2, { $0.map { ContentHash(hex: $0) } })
            else { continue }
            let kind = kinds[kindText] ?? kindText
            kinds[kind] = kind
            statement.withBytes(0) { ref in
                guard let ref else { return }
                statement.withBytes(3) { uid in
                    statement.withBytes(4) { etag in
                        index.insert(ref: ref, kind: kind, hash: hash, uid: uid, etag: etag, unique: true)
                    }
                }
            }
        }
        return index
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

    /// When `kind` was last walked completely with full bodies by a committed sync, if ever.
    public func lastFullWalk(ofKind kind: String) throws(DatabaseError) -> Date? {
        try db.row("""
            SELECT max(r.started_at) FROM run_kinds k JOIN runs r ON r.id = k.run_id
            WHERE k.kind = ? AND k.mode = 'full' AND k.complete = 1
            """, [.text(kind.lowercased())])?.string(0).flatMap(Timestamp.date)
    }

    /// Runs `body` in one IMMEDIATE transaction: its writes (ledger, verification log, …) land
    /// together when it returns and not at all when it throws. Nested, it is a savepoint.
    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try db.transaction(.immediate, body)
    }

    // MARK: Audit queries

    /// The newest runs, newest first.
    public func runs(limit: Int = 20) throws(DatabaseError) -> [RunRecord] {
        try db.rows("SELECT \(RunRecord.columns) FROM runs ORDER BY id DESC LIMIT ?", [.int(limit)]).map(RunRecord.init(row:))
    }

    public func run(id: Int) throws(DatabaseError) -> RunRecord? {
        try db.row("SELECT \(RunRecord.columns) FROM runs WHERE id = ?", [.int(id)]).map(RunRecord.init(row:))
    }

    /// The newest run of `command` (`sync`, `verify`, …), or the newest that ended with `status`.
    public func lastRun(of command: String, status: RunStatus? = nil) throws(DatabaseError) -> RunRecord? {
        if let status {
            return try db.row("SELECT \(RunRecord.columns) FROM runs WHERE command = ? AND status = ? ORDER BY id DESC LIMIT 1",
                              [.text(command), .text(status.rawValue)]).map(RunRecord.init(row:))
        }
        return try db.row("SELECT \(RunRecord.columns) FROM runs WHERE command = ? ORDER BY id DESC LIMIT 1",
                          [.text(command)]).map(RunRecord.init(row:))
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

    /// Every change of one entity, oldest first.
    public func history(ref: EntityRef) throws(DatabaseError) -> [HistoryEntry] {
        try db.rows("""
            SELECT c.run_id, c.change, c.old_hash, c.new_hash, r.started_at
            FROM changes c JOIN runs r ON r.id = c.run_id
            WHERE c.ref = ? ORDER BY c.run_id
            """, [.text(ref.description)]).compactMap { row in
            guard let run = row.int(0), let change = row.string(1).flatMap(ChangeKind.init(rawValue:)) else { return nil }
            return HistoryEntry(run: run, change: change, oldHash: row.string(2).map(ContentHash.init(hex:)),
                                newHash: row.string(3).map(ContentHash.init(hex:)), at: row.string(4) ?? "")
        }
    }

    /// The entity as it was after run `run` (the latest run when nil): its canonical JSON, or nil
    /// when it did not exist then.
    public func version(of ref: EntityRef, atRun run: Int?) throws(DatabaseError) -> StoredVersion? {
        let row = try db.row("""
            SELECT c.run_id, c.change, c.new_hash, b.body
            FROM changes c LEFT JOIN blobs b ON b.hash = c.new_hash
            WHERE c.ref = ? AND c.run_id <= ? ORDER BY c.run_id DESC LIMIT 1
            """, [.text(ref.description), .integer(Int64(run ?? Int(Int32.max)))])
        guard let row, let changedIn = row.int(0), row.string(1) != ChangeKind.deleted.rawValue,
              let hash = row.string(2), let body = row.string(3)
        else { return nil }
        return StoredVersion(ref: ref, run: changedIn, hash: ContentHash(hex: hash), body: body)
    }

    /// The canonical body stored under a content hash.
    public func body(hash: ContentHash) throws(DatabaseError) -> String? {
        try db.row("SELECT body FROM blobs WHERE hash = ?", [.text(hash.hex)])?.string(0)
    }

    /// The current body of an entity in the mirror.
    public func currentBody(of ref: EntityRef) throws(DatabaseError) -> String? {
        try db.row("SELECT b.body FROM entities e JOIN blobs b ON b.hash = e.hash WHERE e.ref = ?",
                   [.text(ref.description)])?.string(0)
    }

    /// Records a run that failed before anything could be written (its walk transaction rolled back).
    public func recordFailedRun(command: String, startedAt: String, source: String, kinds: [String],
                                error: String) throws(DatabaseError) -> Int {
        try db.run("""
            INSERT INTO runs (command, started_at, finished_at, status, source, kinds, error)
            VALUES (?, ?, ?, 'failed', ?, ?, ?)
            """, [.text(command), .text(startedAt), .text(Timestamp.now()), .text(source),
                  .text(CanonicalJSON.string(.array(kinds.map(JSONValue.string)))), .text(error)])
        return Int(db.lastInsertRowID)
    }
}

@available(*, unavailable)
extension MirrorStore: Sendable {}

/// A database that can't be used: unwritable, not a database, corrupt, or from a newer mirrorctl.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public let underlying: DatabaseError?

    public init(path: String, underlying: DatabaseError, forReading: Bool = false) {
        self.path = path
        self.underlying = underlying
        if underlying.isCorrupt {
            message = "not a usable mirrorctl database (corrupt or not SQLite): \(underlying.message)"
        } else if underlying.primaryCode == SQLITE_CANTOPEN || underlying.primaryCode == SQLITE_READONLY
                    || underlying.primaryCode == SQLITE_PERM {
            message = "cannot open for \(forReading ? "reading" : "writing"): \(underlying.message)"
        } else {
            message = underlying.description
        }
    }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
        self.underlying = nil
    }

    /// What opening the database at `path` threw, as a `StoreError` (the one translation of
    /// SQLite and migration failures for every way of opening a mirror).
    init(path: String, opening error: Error, forReading: Bool = false) {
        switch error {
        case let error as DatabaseError:
            self.init(path: path, underlying: error, forReading: forReading)
        case let error as StoreError:
            self.init(path: path, message: error.message)
        case MigrationError.database(let inner):
            self.init(path: path, underlying: inner)
        default:
            self.init(path: path, message: "\(error)")
        }
    }

    public var description: String { "database \(path): \(message)" }
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

/// ISO-8601 UTC timestamps with milliseconds, the one format of every time in the database.
public enum Timestamp {
    public static func now() -> String { string(Date()) }

    public static func string(_ date: Date) -> String {
        var format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        format.timeZone = TimeZone(identifier: "UTC") ?? .current
        return date.formatted(format)
    }

    public static func date(_ text: String) -> Date? {
        (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            ?? (try? Date(text, strategy: .iso8601))
    }
}
