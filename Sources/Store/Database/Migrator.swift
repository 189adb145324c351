import CSQLite

/// One schema migration: an id and the SQL, compiled into the binary from `Migrations/`.
public struct Migration: Sendable {
    public let identifier: String
    public let sql: String
}

/// Applies the embedded migrations in their listed order, each in one IMMEDIATE transaction with
/// its bookkeeping row, and refuses a database that a newer mirrorctl migrated.
public enum Migrator {
    /// Run order is this literal list, never a directory listing.
    public static let migrations: [Migration] = [
        Migration(identifier: "0001_initial", sql: String(decoding: PackageResources._001_initial_sql, as: UTF8.self)),
        Migration(identifier: "0002_port", sql: String(decoding: PackageResources._002_port_sql, as: UTF8.self)),
        Migration(identifier: "0003_walk_modes", sql: String(decoding: PackageResources._003_walk_modes_sql, as: UTF8.self)),
        Migration(identifier: "0004_audit_views", sql: String(decoding: PackageResources._004_audit_views_sql, as: UTF8.self)),
        Migration(identifier: "0005_retention", sql: String(decoding: PackageResources._005_retention_sql, as: UTF8.self)),
        Migration(identifier: "0006_verify", sql: String(decoding: PackageResources._006_verify_sql, as: UTF8.self)),
        Migration(identifier: "0007_entity_view", sql: String(decoding: PackageResources._007_entity_view_sql, as: UTF8.self)),
        Migration(identifier: "0008_compiled_mappings", sql: String(decoding: PackageResources._008_compiled_mappings_sql, as: UTF8.self)),
        Migration(identifier: "0009_run_reasons", sql: String(decoding: PackageResources._009_run_reasons_sql, as: UTF8.self)),
        Migration(identifier: "0010_field_changes", sql: String(decoding: PackageResources._010_field_changes_sql, as: UTF8.self)),
    ]

    static func migrate(_ db: Database) throws(MigrationError) {
        do {
            try db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            let applied = Set(try db.rows("SELECT identifier FROM schema_migrations").compactMap { $0.string(0) })
            let known = Set(migrations.map(\.identifier))
            if let unknown = applied.subtracting(known).sorted().first {
                throw MigrationError.newerDatabase(path: db.path, migration: unknown)
            }
            for migration in migrations where !applied.contains(migration.identifier) {
                try db.transaction {
                    try db.execute(migration.sql)
                    try db.run("INSERT INTO schema_migrations (identifier) VALUES (?)", [.text(migration.identifier)])
                }
            }
        } catch let error as MigrationError {
            throw error
        } catch let error as DatabaseError {
            throw MigrationError.database(error)
        } catch {
            throw MigrationError.database(DatabaseError(code: SQLITE_ERROR, message: "\(error)"))
        }
    }
}

public enum MigrationError: Error, CustomStringConvertible {
    case newerDatabase(path: String, migration: String)
    case database(DatabaseError)

    public var description: String {
        switch self {
        case .newerDatabase(let path, let migration):
            return "\(path) was migrated by a newer mirrorctl (unknown migration \(migration)); upgrade mirrorctl"
        case .database(let error):
            return error.description
        }
    }
}
