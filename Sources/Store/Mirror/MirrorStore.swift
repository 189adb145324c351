import Foundation

/// The mirror database: opens and migrates it; the only owner of its SQL. Each concern has its
/// own typed API: the run log and index (`MirrorStore+RunLog`, `+Index`), history and past
/// versions (`+History`), a run's walk (`SnapshotWriter`), mapping inputs (`MappingSources`),
/// desired state (`DesiredState`), the ledger (`Ledger`), drift checks (`VerificationLog`).
public final class MirrorStore {
    /// The connection: Store's own, so SQL is written here and nowhere else.
    let db: Database

    /// Opens (creating if needed) and migrates the database at `path`.
    public init(path: String, readOnly: Bool = false) throws(StoreError) {
        do {
            if readOnly {
                db = try Database.openForReading(path)
            } else {
                db = try Database(path: path, create: true)
                // Touch the schema first: a file that is not a database fails here, clearly.
                try db.readSchema()
                try Migrator.migrate(db)
            }
        } catch {
            throw StoreError(path: path, opening: error, forReading: readOnly)
        }
    }

    /// Runs `body` in one IMMEDIATE transaction: its writes (ledger, verification log, …) land
    /// together when it returns and not at all when it throws. Nested, it is a savepoint.
    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try db.transaction(.immediate, body)
    }
}

@available(*, unavailable)
extension MirrorStore: Sendable {}
