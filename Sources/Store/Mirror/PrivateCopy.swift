import CSQLite

extension MirrorStore {
    /// A private copy of the database at `path` as last committed, in SQLite's temporary database
    /// (a file SQLite deletes on close), migrated to this mirrorctl's schema. What `diff` works on:
    /// reading the original needs no lock and never waits for a sync (WAL readers see the last
    /// commit), and nothing `diff` does can reach the original or hold up a sync's writes.
    public static func privateCopy(of path: String) throws(StoreError) -> MirrorStore {
        do {
            let original = try Database.openForReading(path)
            let copy = try MirrorStore(path: "")
            try copy.db.copyContents(of: original)
            try original.close()
            try Migrator.migrate(copy.db)
            return copy
        } catch {
            throw StoreError(path: path, opening: error)
        }
    }
}

extension Database {
    /// Replaces this database's contents with `source`'s, read in one step (one consistent
    /// snapshot) with SQLite's online backup.
    func copyContents(of source: Database) throws(DatabaseError) {
        guard let backup = sqlite3_backup_init(handle, "main", source.handle, "main") else {
            throw DatabaseError(code: sqlite3_errcode(handle), message: "cannot copy \(source.path): \(lastErrorMessage)")
        }
        let code = sqlite3_backup_step(backup, -1)
        sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE else {
            throw DatabaseError(code: code, message: "cannot copy \(source.path): \(String(cString: sqlite3_errstr(code)))")
        }
    }
}
