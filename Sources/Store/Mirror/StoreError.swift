import CSQLite

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
