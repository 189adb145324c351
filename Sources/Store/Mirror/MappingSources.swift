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
    public typealias Source = (ref: EntityRef, body: CanonicalBody?)

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

    /// Up to `limit` sources of `scope` with refs after `after` (from the first when nil), in ref order.
    public func chunk(_ scope: Scope, after: EntityRef?, limit: Int) throws(DatabaseError) -> [Source] {
        let statement: Statement
        let start = SQLValue.text(after?.description ?? "")
        switch scope {
        case .all:
            statement = try db.statement("""
                SELECT e.ref AS ref, e.hash AS hash, b.body AS body FROM entities e JOIN blobs b ON b.hash = e.hash
                WHERE e.ref > ? ORDER BY e.ref LIMIT ?
                """)
            try statement.bind([start, .int(limit)])
        case .changed(let run):
            statement = try db.statement("""
                SELECT c.ref AS ref, e.hash AS hash, b.body AS body FROM changes c
                LEFT JOIN entities e ON e.ref = c.ref LEFT JOIN blobs b ON b.hash = e.hash
                WHERE c.run_id = ? AND c.ref > ? ORDER BY c.ref LIMIT ?
                """)
            try statement.bind([.int(run), start, .int(limit)])
        }
        let refColumn = statement.column("ref")
        var sources: [Source] = []
        while try statement.step() {
            guard let ref = statement.ref(refColumn) else { continue }
            sources.append((ref, MappingSources.body(statement)))
        }
        return sources
    }

    /// The refs run `run` deleted from the mirror.
    public func deletedRefs(in run: Int) throws(DatabaseError) -> [EntityRef] {
        try db.rows("SELECT ref FROM changes WHERE run_id = ? AND change = 'deleted'", [.int(run)]).compactMap { $0.ref("ref") }
    }

    /// The current body of the mirrored entity `ref`; nil when the mirror does not hold it.
    public func body(of ref: EntityRef) throws(DatabaseError) -> CanonicalBody? {
        let statement = try db.statement("""
            SELECT e.hash AS hash, b.body AS body FROM entities e JOIN blobs b ON b.hash = e.hash WHERE e.ref = ?
            """)
        try statement.bind([.text(ref.description)])
        defer { statement.reset() }
        return try statement.step() ? MappingSources.body(statement) : nil
    }

    /// The canonical body in the current row's `hash` and `body` columns, read as bytes (nil when
    /// NULL): the one reader of stored bodies for mapping, export and lint.
    static func body(_ statement: Statement) -> CanonicalBody? {
        guard let hash = statement.withBytes(statement.column("hash"), { $0.map { ContentHash(hex: $0) } }),
              let bytes = statement.bytes(statement.column("body"))
        else { return nil }
        return CanonicalBody(bytes: bytes, hash: hash)
    }
}

@available(*, unavailable)
extension MappingSources: Sendable {}
