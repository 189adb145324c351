/// Secondary indexes set aside while one transaction fills their tables in bulk, and rebuilt
/// before it commits. A first sync inserts every row in the order Backstage pages them (by uid),
/// which is random for every index: each insert lands on a random B-tree page, and once the
/// indexes outgrow the page cache every insert reads a page back and spills one to the WAL.
/// `CREATE INDEX` over the filled table sorts its keys instead and writes each page once.
///
/// Both halves run inside the caller's transaction, so a run that fails or is killed before
/// its commit rolls the drop back with everything else: the schema never loses an index.
/// Rebuilding replays each index's own `CREATE INDEX` text from `sqlite_master`, so the schema
/// after is byte-for-byte the one the migrations made.
struct DeferredIndexes {
    /// Name and `CREATE INDEX` text of each index dropped, in drop order.
    private var dropped: [(name: String, sql: String)] = []

    /// Drops the explicitly created indexes of `tables` (not the ones behind a primary key or a
    /// UNIQUE constraint, which SQLite makes itself and which enforce the schema's rules).
    init(_ db: Database, tables: [String]) throws(DatabaseError) {
        for table in tables {
            let rows = try db.rows("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
                                   [.text(table)])
            for row in rows {
                guard let name = row.string("name"), let sql = row.string("sql") else { continue }
                dropped.append((name, sql))
            }
        }
        for index in dropped { try db.execute("DROP INDEX \"\(index.name.replacing("\"", with: "\"\""))\"") }
    }

    /// Rebuilds every dropped index from its own definition.
    ///
    /// `CREATE INDEX` sorts in memory up to the page cache's size before it merges from temp
    /// files; beside the cache itself that would be a second cache's worth at the run's peak
    /// (measured: +16 MB RSS at 100k entities). The rebuild runs with a small cache instead
    /// (SQLite's sorter floor is 250 pages), and the connection's own size is restored after.
    mutating func rebuild(_ db: Database) throws(DatabaseError) {
        guard !dropped.isEmpty else { return }
        let cacheSize = try db.row("PRAGMA cache_size")?.int("cache_size")
        try db.execute("PRAGMA cache_size = \(DeferredIndexes.rebuildCachePages)")
        for index in dropped { try db.execute(index.sql) }
        dropped = []
        if let cacheSize { try db.execute("PRAGMA cache_size = \(cacheSize)") }
    }

    /// The page cache while indexes are rebuilt, in pages (SQLite's sorter floor).
    static let rebuildCachePages = 250
}
