import Store

/// A Port entity as Ocean would send it, mapped from one Backstage entity by one resource.
public struct PortEntity: Sendable, Hashable {
    public let identifier: String
    public let blueprint: String
    /// The entity body as canonical JSON (sorted keys, compact): exactly the keys Ocean sends —
    /// `identifier`, `title`, `blueprint`, `icon`, `team`, `properties`, `relations`, each only when
    /// the mapping has it — with every mapped property and relation present, nulls included.
    /// These are the bytes to store and to send, hashed once; `CanonicalJSON.bytes(body) == canonical.bytes`.
    public let canonical: CanonicalBody
    /// Every identifier the relations point at (string values, and the strings of array values),
    /// in mapping order.
    public let relationTargets: [RelationTarget]

    /// Builds an entity from a body, computing its canonical bytes and hash.
    public init(identifier: String, blueprint: String, body: JSONValue, relationTargets: [RelationTarget]) {
        self.init(identifier: identifier, blueprint: blueprint, canonical: CanonicalJSON.bytes(body),
                  relationTargets: relationTargets)
    }

    /// - Parameter canonical: canonical JSON of the body.
    init(identifier: String, blueprint: String, canonical: [UInt8], relationTargets: [RelationTarget]) {
        self.identifier = identifier
        self.blueprint = blueprint
        self.canonical = CanonicalBody(canonical)
        self.relationTargets = relationTargets
    }

    /// The body as a `JSONValue`, decoded from `canonical` on each access (the mapping hot path
    /// never builds it). Prefer `canonical` to store or send the body.
    public var body: JSONValue {
        guard let value = try? JQValue.parse(canonical.bytes) else { return .null }
        return value.toJSONValue()
    }
}

/// One relation of a mapped entity pointing at one target identifier.
public struct RelationTarget: Sendable, Hashable {
    public let relation: String
    public let identifier: String

    public init(relation: String, identifier: String) {
        self.relation = relation
        self.identifier = identifier
    }
}

/// What one resource made of one entity.
public struct MappingResult: Sendable {
    public enum Outcome: Sendable {
        /// Mapped; to be upserted.
        case entity(PortEntity)
        /// `selector.query` gave `false`: not generated (so Ocean would delete it from Port).
        case filtered
        /// The mapped identifier or blueprint was unusable (Ocean's "empty, null or missing values").
        case dropped(DropReason)
        /// `selector.query` failed or gave a non-boolean: an error for this entity; the run must
        /// not delete stale entities.
        case selectorError(String)
    }

    /// Index of the resource in `PortAppConfig.resources`.
    public let resourceIndex: Int
    public let outcome: Outcome
    /// Fields that fell back to null because their expression gave no output or failed.
    public let warnings: [MappingWarning]
    /// Fields whose expression gave several outputs (Ocean keeps the first), by field path
    /// (`relations.owner`), with how many: what `mapping lint` and `mapping test` report.
    public let multipleOutputs: [String: Int]

    public init(resourceIndex: Int, outcome: Outcome, warnings: [MappingWarning], multipleOutputs: [String: Int] = [:]) {
        self.resourceIndex = resourceIndex
        self.outcome = outcome
        self.warnings = warnings
        self.multipleOutputs = multipleOutputs
    }

    /// The mapped entity, if there is one.
    public var entity: PortEntity? {
        if case .entity(let entity) = outcome { return entity }
        return nil
    }
}

/// Why a mapped entity was not kept.
public enum DropReason: Sendable, Hashable, CustomStringConvertible {
    /// The identifier was null, false, empty (`""`, `0`, `[]`, `{}`) or its expression failed.
    case emptyIdentifier
    /// The identifier was a value of another type (`"number"`, `"object"`…): mirrorctl sends only strings.
    case identifierNotString(String)
    case emptyBlueprint
    case blueprintNotString(String)

    public var description: String {
        switch self {
        case .emptyIdentifier: return "identifier is empty, null or missing"
        case .identifierNotString(let type): return "identifier is a \(type), not a string"
        case .emptyBlueprint: return "blueprint is empty, null or missing"
        case .blueprintNotString(let type): return "blueprint is a \(type), not a string"
        }
    }
}

/// A mapping field that became null: its expression gave no output or a jq runtime error.
/// Ocean logs these as "Unable to find valid data for" and carries on.
public struct MappingWarning: Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        case noOutput
        case error(String)
    }

    public let resourceIndex: Int
    /// The field path, as Ocean names it: `identifier`, `title`, `properties.email`, `relations.system`.
    public let field: String
    /// The expression as written in the mapping.
    public let expression: String
    public let entity: EntityRef
    public let problem: Problem

    public init(resourceIndex: Int, field: String, expression: String, entity: EntityRef, problem: Problem) {
        self.resourceIndex = resourceIndex
        self.field = field
        self.expression = expression
        self.entity = entity
        self.problem = problem
    }

    public var message: String {
        switch problem {
        case .noOutput: return "no output"
        case .error(let text): return text
        }
    }

    public var description: String {
        "\(entity): resources[\(resourceIndex)] \(field): `\(expression)`: \(message) (sent as null)"
    }
}

/// A mapping that cannot be compiled (a configuration error, found before anything is fetched).
public enum MappingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A jq expression does not compile. `field` is `selector.query`, `identifier`,
    /// `properties.type`, …; `expression` is the text as written.
    case compile(resourceIndex: Int, field: String, expression: String, message: String, location: SourceLocation?)

    public var description: String {
        switch self {
        case .compile(let index, let field, let expression, let message, let location):
            let prefix = location.map { "\($0): " } ?? ""
            return "\(prefix)resources[\(index)] \(field): jq expression `\(expression)` does not compile: \(message)"
        }
    }
}
