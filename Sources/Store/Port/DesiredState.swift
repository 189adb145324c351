/// A Port entity as mapped from one mirrored entity, in stored form.
public struct DesiredEntity: Sendable {
    public let blueprint: String
    public let identifier: String
    public let sourceRef: String
    /// Canonical JSON of exactly what is sent to Port, with its hash (taken once, by the mapping).
    public let canonical: CanonicalBody
    /// Identifiers this entity's relations point at.
    public let targets: [String]

    public init(blueprint: String, identifier: String, sourceRef: String, canonical: CanonicalBody, targets: [String]) {
        self.blueprint = blueprint
        self.identifier = identifier
        self.sourceRef = sourceRef
        self.canonical = canonical
        self.targets = targets
    }
}

/// Blueprint and identifier: how Port (and the ledger) key an entity.
public struct PortKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let blueprint: String
    public let identifier: String

    public init(blueprint: String, identifier: String) {
        self.blueprint = blueprint
        self.identifier = identifier
    }

    public var description: String { "\(blueprint)/\(identifier)" }

    public static func < (lhs: PortKey, rhs: PortKey) -> Bool {
        (lhs.blueprint, lhs.identifier) < (rhs.blueprint, rhs.identifier)
    }
}

/// The desired Port state in the database: what the mapping makes of the current mirror. Runs
/// inside the caller's transaction (the same one as the snapshot), so mirror and desired state
/// always agree.
public struct DesiredState {
    let db: Database

    public init(store: MirrorStore) {
        db = store.db
    }

    /// The mapping hash the desired state was computed with, if any.
    public func mappingHash() throws(DatabaseError) -> String? {
        try db.row("SELECT mapping_hash FROM mapping_state WHERE id = 1")?.string(0)
    }

    public func setMappingHash(_ hash: String, run: Int?) throws(DatabaseError) {
        try db.run("INSERT OR REPLACE INTO mapping_state (id, mapping_hash, run_id) VALUES (1, ?, ?)",
                   [.text(hash), run.map { .int($0) } ?? .null])
    }

    /// Replaces what `sourceRef` maps to. Returns the keys another source already produced (the
    /// later source wins, as in Ocean; the caller warns). `fresh` says the source has no desired
    /// entities yet (a full re-map after `removeAll`), which saves the removal.
    @discardableResult
    public func replace(sourceRef: String, with entities: [DesiredEntity], run: Int,
                        fresh: Bool = false) throws(DatabaseError) -> [PortKey] {
        if !fresh { try remove(sourceRef: sourceRef) }
        var collisions: [PortKey] = []
        for entity in entities {
            let key: [SQLValue] = [.text(entity.blueprint), .text(entity.identifier)]
            // The body first: desired.hash references it.
            try db.storeBlob(entity.canonical)
            try db.run("INSERT OR IGNORE INTO desired (blueprint, identifier, source_ref, hash, run_id) VALUES (?, ?, ?, ?, ?)",
                       key + [.text(sourceRef), .text(entity.canonical.hash.hex), .int(run)])
            if db.changes == 0 {
                // The key is taken: by another source (a collision to report), or by this source's
                // other resource. Either way the later entity wins.
                if try db.row("SELECT source_ref FROM desired WHERE blueprint = ? AND identifier = ?", key)?.string(0) != sourceRef {
                    collisions.append(PortKey(blueprint: entity.blueprint, identifier: entity.identifier))
                }
                try db.run("DELETE FROM desired_targets WHERE blueprint = ? AND identifier = ?", key)
                try db.run("UPDATE desired SET source_ref = ?, hash = ?, run_id = ? WHERE blueprint = ? AND identifier = ?",
                           [.text(sourceRef), .text(entity.canonical.hash.hex), .int(run)] + key)
            }
            // One prepared insert per relation target: cheaper than building a JSON array of them
            // (through libjq) for SQLite to parse again with json_each.
            for target in entity.targets {
                try db.run("INSERT OR IGNORE INTO desired_targets (blueprint, identifier, target) VALUES (?, ?, ?)",
                           key + [.text(target)])
            }
        }
        return collisions
    }

    /// Forgets everything `sourceRef` mapped to (its source was deleted).
    public func remove(sourceRef: String) throws(DatabaseError) {
        try db.run("""
            DELETE FROM desired_targets WHERE (blueprint, identifier) IN
                (SELECT blueprint, identifier FROM desired WHERE source_ref = ?)
            """, [.text(sourceRef)])
        try db.run("DELETE FROM desired WHERE source_ref = ?", [.text(sourceRef)])
    }

    /// Empties the desired state (the mapping changed: everything is re-mapped).
    public func removeAll() throws(DatabaseError) {
        try db.execute("DELETE FROM desired_targets; DELETE FROM desired;")
    }

    public func count() throws(DatabaseError) -> Int {
        try db.row("SELECT count(*) FROM desired")?.int(0) ?? 0
    }
}
