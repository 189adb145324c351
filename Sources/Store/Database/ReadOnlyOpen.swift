import CSQLite
import Foundation

extension Database {
    /// Opens an existing database for reading only, without writing a byte to it or next to it:
    /// what the audit commands use, so they work for a user who may only read the file.
    ///
    /// A WAL database is first opened read-only as it is: that works whenever the `-wal` and
    /// `-shm` files exist and are readable (a sync is running, or another connection is open) or
    /// the directory lets SQLite create them, and it sees the last commit. When SQLite can't do
    /// that (no `-shm`, and a directory the user can't write), the file is opened `immutable=1`,
    /// but only when the `-wal` is absent or empty, i.e. every commit is in the main file: an
    /// immutable open ignores the log, and must never show an older state than the last commit.
    /// Otherwise the error says which files the user needs to be able to read.
    static func openForReading(_ path: String) throws(DatabaseError) -> Database {
        do {
            let database = try Database(path: path, create: false, readOnly: true)
            try database.readSchema()
            return database
        } catch let error where [SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM].contains(error.primaryCode) {
            guard FileManager.default.isReadableFile(atPath: path) else { throw error }
            let log = path + "-wal"
            let logBytes = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? NSNumber)?.intValue ?? 0
            guard logBytes == 0 else {
                throw DatabaseError(code: error.code, message: "cannot read \(path): its write-ahead log \(log) holds commits not yet in the file, and SQLite can't use it here (\(error.message)); reading needs read access to \(log) and \(path)-shm, or write access to their folder")
            }
            let database = try Database(path: path, create: false, readOnly: true, immutable: true)
            try database.readSchema()
            return database
        }
    }

    /// `file:` URI of `path` with `immutable=1` (https://www.sqlite.org/uri.html): every byte
    /// outside the unreserved set and `/` percent-encoded, so `?`, `#` and `%` in names are safe.
    static func immutableURI(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var encoded = ""
        for byte in absolute.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80 && (CharacterSet.alphanumerics.contains(scalar) || "-._~/".unicodeScalars.contains(scalar)) {
                encoded.unicodeScalars.append(scalar)
            } else {
                encoded += String(format: "%%%02X", byte)
            }
        }
        return "file:" + encoded + "?immutable=1"
    }

    /// Reads the schema: the first statement that fails when the file is not a database or can't
    /// be read, so an open is checked before anything relies on it.
    func readSchema() throws(DatabaseError) {
        _ = try row("SELECT count(*) FROM sqlite_master")
    }

    /// Whether this connection can't write (SQLite's own answer for the main database).
    var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }
}
