/// One mapping expression failing as of a run: a field's jq runtime error (the field is sent as
/// null, as Ocean does) or a selector that errored (the entity keeps its previous Port entities).
/// Counted per resource and field, with one example entity and its message.
public struct MappingFailure: Sendable, Equatable {
    /// Index in the mapping's resources; -1 when the whole mapping failed for the entity.
    public let resource: Int
    /// The resource's kind (`component`), as the mapping names it.
    public let kind: String
    /// `identifier`, `properties.type`, `relations.owner`, `selector.query`, …
    public let field: String
    public let expression: String
    public var count: Int
    /// The first entity it failed for, and jq's message for it.
    public let example: String
    public let message: String

    public init(resource: Int, kind: String, field: String, expression: String, count: Int, example: String, message: String) {
        self.resource = resource
        self.kind = kind
        self.field = field
        self.expression = expression
        self.count = count
        self.example = example
        self.message = message
    }

    /// Whether this is a selector's (or the whole mapping's) failure, rather than a field's.
    public var isSelector: Bool { MappingFault.blocksEntity(resource: resource, field: field) }
}

/// One expression failing for one source entity, as `mapping_faults` keeps it.
public struct MappingFault: Sendable, Equatable {
    /// -1: the whole mapping (not compiled, or the stored body unreadable).
    public let resource: Int
    public let field: String
    public let expression: String
    public let message: String

    public init(resource: Int, field: String, expression: String, message: String) {
        self.resource = resource
        self.field = field
        self.expression = expression
        self.message = message
    }

    /// A failed selector (or mapping) leaves the entity's desired state as it was.
    public var blocksEntity: Bool { Self.blocksEntity(resource: resource, field: field) }

    /// The rule behind `blocksEntity` and `MappingFailure.isSelector`: the whole mapping
    /// (resource -1) or a resource's selector.
    static func blocksEntity(resource: Int, field: String) -> Bool { resource < 0 || field == "selector.query" }
}

extension MirrorStore {
    /// Replaces what fails for `ref` (none: it maps cleanly now, or is gone).
    public func replaceMappingFaults(ref: EntityRef, with faults: [MappingFault]) throws(DatabaseError) {
        let ref = ref.description
        try db.run("DELETE FROM mapping_faults WHERE ref = ?", [.text(ref)])
        for fault in faults {
            try db.run("""
                INSERT INTO mapping_faults (ref, resource, field, expression, message) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (ref, resource, field) DO NOTHING
                """, [.text(ref), .int(fault.resource), .text(fault.field), .text(fault.expression), .text(fault.message)])
        }
    }

    /// Forgets every fault (the mapping changed: everything is mapped again).
    public func removeAllMappingFaults() throws(DatabaseError) {
        try db.run("DELETE FROM mapping_faults")
    }

    /// What fails now, per resource and field, with the first entity (by ref) as the example;
    /// `kind` names a resource by its index.
    public func currentMappingFailures(kind: (Int) -> String) throws(DatabaseError) -> [MappingFailure] {
        try db.rows("""
            SELECT resource, field, expression, count(*) AS count, min(ref) AS example, message FROM mapping_faults
            GROUP BY resource, field ORDER BY resource, field
            """).map { row in
            let resource = row.int("resource") ?? -1
            return MappingFailure(resource: resource, kind: kind(resource), field: row.string("field") ?? "",
                                  expression: row.string("expression") ?? "", count: row.int("count") ?? 0,
                                  example: row.string("example") ?? "", message: row.string("message") ?? "")
        }
    }

    /// Stores the failures as of a run (inside the run's transaction).
    public func recordMappingFailures(_ failures: [MappingFailure], run: Int) throws(DatabaseError) {
        for failure in failures {
            try db.run("""
                INSERT INTO run_mapping_errors (run_id, resource, kind, field, expression, count, example, message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.int(run), .int(failure.resource), .text(failure.kind), .text(failure.field), .text(failure.expression),
                      .int(failure.count), .text(failure.example), .text(failure.message)])
        }
    }
}
