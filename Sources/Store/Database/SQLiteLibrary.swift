import CSQLite

/// The SQLite library this process runs (not the headers it was built with), for `version --verbose`.
public enum SQLiteLibrary {
    public static var version: String { String(cString: sqlite3_libversion()) }
}
