/// Where a configuration value was written, for messages: `file:line:column`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// 1-based; 0 when unknown.
    public let line: Int
    /// 1-based; 0 when unknown.
    public let column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line` (the form used at the start of mapping messages), or `file` without a line.
    public var description: String { line > 0 ? "\(file):\(line)" : file }
}

/// One jq expression of a mapping, as written (before Ocean's quote rewrite).
public struct MappingExpression: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    /// Where it was written; nil for expressions built in code.
    public let location: SourceLocation?

    public init(_ text: String, location: SourceLocation? = nil) {
        self.text = text
        self.location = location
    }

    public var description: String { text }

    /// Equality and hashing ignore the location: two mappings are the same if their text is.
    public static func == (lhs: MappingExpression, rhs: MappingExpression) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// A named property or relation expression, in the order the mapping lists them.
public struct NamedExpression: Sendable, Hashable {
    public let name: String
    public let expression: MappingExpression

    public init(_ name: String, _ expression: MappingExpression) {
        self.name = name
        self.expression = expression
    }
}

/// `port.entity.mappings` of one resource: the jq expressions that build one Port entity.
/// Optional fields that are nil are not sent at all (Ocean's `exclude_unset`).
public struct EntityMappings: Sendable, Hashable {
    public var identifier: MappingExpression
    public var title: MappingExpression?
    public var blueprint: MappingExpression
    public var icon: MappingExpression?
    public var team: MappingExpression?
    /// Nil when the mapping has no `properties` key (then no `properties` object is sent).
    public var properties: [NamedExpression]?
    /// Nil when the mapping has no `relations` key (then no `relations` object is sent).
    public var relations: [NamedExpression]?

    public init(identifier: MappingExpression, title: MappingExpression? = nil, blueprint: MappingExpression,
                icon: MappingExpression? = nil, team: MappingExpression? = nil,
                properties: [NamedExpression]? = nil, relations: [NamedExpression]? = nil)
    {
        self.identifier = identifier
        self.title = title
        self.blueprint = blueprint
        self.icon = icon
        self.team = team
        self.properties = properties
        self.relations = relations
    }
}

/// One entry of `resources`: which Backstage kind it reads, which entities it keeps and how
/// it maps them.
public struct ResourceMapping: Sendable, Hashable {
    /// The Backstage kind as written (sent unchanged as `filter=kind=…`; matched case-insensitively).
    public var kind: String
    /// `selector.query`: must yield a JSON boolean for every entity.
    public var selectorQuery: MappingExpression
    public var mappings: EntityMappings
    /// Where the entry starts in its file, if it was read from one.
    public var location: SourceLocation?

    public init(kind: String, selectorQuery: MappingExpression, mappings: EntityMappings,
                location: SourceLocation? = nil)
    {
        self.kind = kind
        self.selectorQuery = selectorQuery
        self.mappings = mappings
        self.location = location
    }

    public static func == (lhs: ResourceMapping, rhs: ResourceMapping) -> Bool {
        lhs.kind == rhs.kind && lhs.selectorQuery == rhs.selectorQuery && lhs.mappings == rhs.mappings
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(selectorQuery)
        hasher.combine(mappings)
    }
}

/// The port-app-config: Ocean's mapping document (`resources`) and its four top-level switches,
/// with Ocean's defaults.
public struct PortAppConfig: Sendable, Hashable {
    /// `create_missing_related_entities` on upserts; also protects stale relation targets from deletion.
    public var createMissingRelatedEntities: Bool
    /// `delete_dependents` on deletes.
    public var deleteDependentEntities: Bool
    /// `merge` on upserts.
    public var enableMergeEntity: Bool
    /// Stale entities are deleted only if `deleted / owned ≤ threshold`; in [0, 1].
    public var entityDeletionThreshold: Double
    public var resources: [ResourceMapping]

    public static let defaultDeletionThreshold = 0.9

    /// - Throws: `MappingConfigError` when the threshold is outside [0, 1].
    public init(resources: [ResourceMapping], createMissingRelatedEntities: Bool = true,
                deleteDependentEntities: Bool = true, enableMergeEntity: Bool = true,
                entityDeletionThreshold: Double = PortAppConfig.defaultDeletionThreshold)
        throws(MappingConfigError)
    {
        guard entityDeletionThreshold >= 0, entityDeletionThreshold <= 1 else {
            throw MappingConfigError(location: nil, path: "entityDeletionThreshold",
                                     message: "must be between 0 and 1, got \(entityDeletionThreshold)")
        }
        self.resources = resources
        self.createMissingRelatedEntities = createMissingRelatedEntities
        self.deleteDependentEntities = deleteDependentEntities
        self.enableMergeEntity = enableMergeEntity
        self.entityDeletionThreshold = entityDeletionThreshold
    }
}

/// A port-app-config that cannot be used: bad YAML, a wrong type, a missing or unknown key.
/// Printed as `file:line: key.path: message`.
public struct MappingConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the offending value is; nil when the problem has no place in a file.
    public let location: SourceLocation?
    /// The key path of the offending value, e.g. `resources[2].port.entity.mappings.properties.type`;
    /// empty for the document as a whole.
    public let path: String
    public let message: String

    public init(location: SourceLocation?, path: String, message: String) {
        self.location = location
        self.path = path
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if let location { parts.append(location.description) }
        if !path.isEmpty { parts.append(path) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}
