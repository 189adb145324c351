import CSQLite
import Foundation

/// `SQLITE_TRANSIENT` is a cast macro that Swift can't import: SQLite copies bound values.
let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// One SQLite connection. Owns the `sqlite3 *` and its cached statements; close it explicitly
/// (`close()`) or let `deinit` do it. Not thread-safe: use it from one thread at a time.
final class Database {
    private(set) var handle: OpaquePointer?
    let path: String
    private var statementCache: [String: Statement] = [:]
    /// Savepoints opened so far: each nested `Transaction` gets its own name.
    var savepointCount = 0

    /// Opens (creating when `create`) the database at `path` in WAL mode with foreign keys on.
    /// A new file is created with mode 0600: it is an audit record and may hold catalog data.
    /// An empty `path` is SQLite's private temporary database, deleted when closed.
    /// `immutable` (read-only only) opens it as SQLite's `immutable=1` URI: no locks, no `-shm`,
    /// no write-ahead log read (see `openForReading`).
    init(path: String, create: Bool = true, readOnly: Bool = false, immutable: Bool = false) throws(DatabaseError) {
        self.path = path
        if create && !readOnly && path != ":memory:" && !path.isEmpty && !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw DatabaseError(code: SQLITE_CANTOPEN, message: "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            Glibc.close(fd)
        }
        var flags = SQLITE_OPEN_NOMUTEX
        flags |= readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        var name = path
        if immutable && readOnly {
            flags |= SQLITE_OPEN_URI
            name = Database.immutableURI(path)
        }
        let code = sqlite3_open_v2(name, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            _ = sqlite3_close(handle)
            handle = nil
            throw DatabaseError(code: code, message: "cannot open \(path): \(message)")
        }
        sqlite3_extended_result_codes(handle, 1)
        csqlite_disable_dqs(handle)
        sqlite3_busy_timeout(handle, 5_000)
        if !readOnly {
            // Entity bodies are a few KB: bigger pages waste less of each page (new files only).
            try execute("PRAGMA page_size = 16384")
            try execute("PRAGMA journal_mode = WAL")
            try execute("PRAGMA synchronous = NORMAL")
        }
        try execute("PRAGMA foreign_keys = ON")
        // SQLite's default page cache is 2 MB (128 of our pages): a sync probing 100k rows then
        // re-reads B-tree pages from the OS and spills dirty pages into the WAL mid-transaction.
        // The cache only grows as pages are touched, so small databases stay small.
        try execute("PRAGMA cache_size = -16384")
    }

    deinit {
        try? close()
    }

    /// Finalizes cached statements and closes the connection.
    func close() throws(DatabaseError) {
        statementCache.removeAll()
        guard let handle else { return }
        // https://www.sqlite.org/c3ref/close.html
        // > If the database connection is associated with unfinalized prepared statements
        // > ... sqlite3_close() will leave the database connection open and return SQLITE_BUSY.
        let code = sqlite3_close(handle)
        guard code == SQLITE_OK else { throw DatabaseError(code: code, message: lastErrorMessage) }
        self.handle = nil
    }

    var lastErrorMessage: String {
        handle.map { String(cString: sqlite3_errmsg($0)) } ?? "connection closed"
    }

    /// Runs one or more statements without results. The corresponding C function is `sqlite3_exec`.
    func execute(_ sql: String) throws(DatabaseError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard code == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(errorMessage)
            throw DatabaseError(code: code, message: message, sql: sql)
        }
    }

    /// A prepared statement for `sql`, reused across calls (reset and unbound each time).
    func statement(_ sql: String) throws(DatabaseError) -> Statement {
        if let cached = statementCache[sql] {
            cached.reset()
            return cached
        }
        let statement = try Statement(database: self, sql: sql)
        statementCache[sql] = statement
        return statement
    }

    /// Runs `sql` with `arguments` and discards any rows.
    func run(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) {
        let statement = try statement(sql)
        try statement.bind(arguments)
        while try statement.step() {}
    }

    /// All rows of a query.
    func rows(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) -> [Row] {
        let statement = try statement(sql)
        try statement.bind(arguments)
        var rows: [Row] = []
        while try statement.step() { rows.append(statement.row()) }
        return rows
    }

    /// The first row of a query, if any.
    func row(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) -> Row? {
        let statement = try statement(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        return try statement.step() ? statement.row() : nil
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Whether the schema has a table `name` (a database opened read-only may predate it).
    func hasTable(_ name: String) throws(DatabaseError) -> Bool {
        try row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) != nil
    }

    /// `PRAGMA integrity_check`: "ok" or SQLite's list of problems.
    func integrityCheck() throws(DatabaseError) -> String {
        let rows = try rows("PRAGMA integrity_check")
        return rows.compactMap { $0.string(0) }.joined(separator: "; ")
    }
}

@available(*, unavailable)
extension Database: Sendable {}
