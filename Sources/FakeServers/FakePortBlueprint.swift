
/// A relation declared on a blueprint.
public struct FakePortRelation: Sendable, Equatable {
    public let target: String
    public let required: Bool
    public let many: Bool
}

/// A stored blueprint: its definition as Port returns it, plus what entity validation needs.
public struct FakePortBlueprint: Sendable {
    public let identifier: String
    /// The definition without `identifier` and the bookkeeping fields, defaults filled in.
    public internal(set) var definition: [String: FakeJSON]
    /// `schema.properties`: property id → property schema.
    public internal(set) var properties: [String: FakeJSON]
    /// `schema.required`.
    public internal(set) var requiredProperties: [String]
    public internal(set) var relations: [String: FakePortRelation]
    /// Permissive blueprints (test and benchmark setup only) accept any property without checks
    /// and any undeclared relation without looking up its targets.
    public internal(set) var permissive: Bool
    public internal(set) var createdAt: String
    public internal(set) var createdBy: String
    public internal(set) var updatedAt: String
    public internal(set) var updatedBy: String

    /// The blueprint as the API returns it.
    public var json: FakeJSON {
        var members = definition
        members["identifier"] = .string(identifier)
        members["createdAt"] = .string(createdAt)
        members["createdBy"] = .string(createdBy)
        members["updatedAt"] = .string(updatedAt)
        members["updatedBy"] = .string(updatedBy)
        return .object(members)
    }

    /// A permissive blueprint with an empty schema (`--auto-blueprints`, the benchmark defaults).
    static func permissive(_ identifier: String, title: String? = nil, by actor: String, at now: String)
        -> FakePortBlueprint
    {
        FakePortBlueprint(
            identifier: identifier,
            definition: [
                "title": .string(title ?? identifier), "schema": ["properties": [:], "required": []],
                "relations": [:], "calculationProperties": [:], "mirrorProperties": [:],
                "aggregationProperties": [:],
            ],
            properties: [:], requiredProperties: [], relations: [:], permissive: true,
            createdAt: now, createdBy: actor, updatedAt: now, updatedBy: actor)
    }
}
