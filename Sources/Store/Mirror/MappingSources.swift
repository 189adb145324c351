/// The source entities the mapping stage reads from the mirror: their refs and current canonical
/// bodies, in keyset chunks so that no statement stays open while the desired state is written
/// and only a chunk of bodies is in memory whatever the catalog size.
public struct MappingSources {
    /// Which sources a mapping pass reads.
    public enum Scope: Sendable, Equatable {
        /// Every mirrored entity (the mapping changed: everything is re-mapped).
        case all
        /// The refs run `run` changed (created, updated or deleted).
        case changed(run: Int)
    }

    /// One source: its ref and current body (nil when the run deleted it: it maps to nothing).
    public typealias Source = (ref: String, body: String?)

    let db: Database

    public init(store: MirrorStore) {
        db = store.db
    }

    /// How many sources `scope` holds.
    public func count(_ scope: Scope) throws(DatabaseError) -> Int {
        switch scope {
        case .all: return try db.row("SELECT count(*) FROM entities")?.int(0) ?? 0
        case .changed(let run): return try db.row("SELECT count(*) FROM changes WHERE run_id = ?", [.int(run)])?.int(0) ?? 0
        }
    }

    /// Up to `limit` sources of `scope` with refs after `after`, in ref order.
    public func chunk(_ scope: Scope, after: String, limit: Int) throws(DatabaseError) -> [Source] {
        let rows: [Row]
        switch scope {
        case .all:
            rows = try db.rows("""
                SELECT e.ref AS ref, b.body AS body FROM entities e JOIN blobs b ON b.hash = e.hash
                WHERE e.ref > ? ORDER BY e.ref LIMIT ?
                """, [.text(after), .int(limit)])
        case .changed(let run):
            rows = try db.rows("""
                SELECT c.ref AS ref, b.body AS body FROM changes c
                LEFT JOIN entities e ON e.ref = c.ref LEFT JOIN blobs b ON b.hash = e.hash
                WHERE c.run_id = ? AND c.ref > ? ORDER BY c.ref LIMIT ?
                """, [.int(run), .text(after), .int(limit)])
        }
        return rows.compactMap { row in row.string("ref").map { ($0, row.string("body")) } }
    }

    /// The refs run `run` deleted from the mirror.
    public func deletedRefs(in run: Int) throws(DatabaseError) -> [String] {
        try db.rows("SELECT ref FROM changes WHERE run_id = ? AND change = 'deleted'", [.int(run)]).compactMap { $0.string(0) }
    }

    /// The current body of the mirrored entity `ref`; nil when the mirror does not hold it.
    public func body(of ref: String) throws(DatabaseError) -> String? {
        try db.row("SELECT b.body FROM entities e JOIN blobs b ON b.hash = e.hash WHERE e.ref = ?", [.text(ref)])?.string(0)
    }
}

@available(*, unavailable)
extension MappingSources: Sendable {}
