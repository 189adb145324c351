
/// A stored entity with Port's bookkeeping.
public struct FakePortEntity: Sendable, Equatable {
    public var identifier: String
    public var blueprint: String
    public var title: String?
    public var icon: String?
    public var team: [String]
    public var properties: [String: FakeJSON]
    /// Relation id → identifier, array of identifiers, or null. Values of `many` relations are arrays.
    public var relations: [String: FakeJSON]
    public var createdAt: String
    public var createdBy: String
    public var updatedAt: String
    public var updatedBy: String
    /// `$datasource`: the User-Agent of the last write. Searchable, not part of `json` (as in Port).
    public var datasource: String?

    public init(
        identifier: String, blueprint: String, title: String? = nil, icon: String? = nil, team: [String] = [],
        properties: [String: FakeJSON] = [:], relations: [String: FakeJSON] = [:],
        createdAt: String, createdBy: String, updatedAt: String? = nil, updatedBy: String? = nil,
        datasource: String? = nil
    ) {
        self.identifier = identifier
        self.blueprint = blueprint
        self.title = title
        self.icon = icon
        self.team = team
        self.properties = properties
        self.relations = relations
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.updatedAt = updatedAt ?? createdAt
        self.updatedBy = updatedBy ?? createdBy
        self.datasource = datasource
    }

    /// The entity as the API returns it.
    public var json: FakeJSON {
        var members: [String: FakeJSON] = [
            "identifier": .string(identifier),
            "title": title.map { .string($0) } ?? .null,
            "team": .array(team.map { .string($0) }),
            "blueprint": .string(blueprint),
            "properties": .object(properties),
            "relations": .object(relations),
            "createdAt": .string(createdAt),
            "createdBy": .string(createdBy),
            "updatedAt": .string(updatedAt),
            "updatedBy": .string(updatedBy),
        ]
        if let icon { members["icon"] = .string(icon) }
        return .object(members)
    }

    /// The value a search rule's `property` names: `$identifier`, `$title`, `$blueprint`, `$team`,
    /// `$icon`, `$datasource`, `$createdAt`/`By`, `$updatedAt`/`By`, or a plain property. Nil when absent.
    func searchValue(_ property: String) -> FakeJSON? {
        switch property {
        case "$identifier": return .string(identifier)
        case "$title": return title.map { .string($0) }
        case "$blueprint": return .string(blueprint)
        case "$team": return .array(team.map { .string($0) })
        case "$icon": return icon.map { .string($0) }
        case "$datasource": return datasource.map { .string($0) }
        case "$createdAt": return .string(createdAt)
        case "$createdBy": return .string(createdBy)
        case "$updatedAt": return .string(updatedAt)
        case "$updatedBy": return .string(updatedBy)
        default: return properties[property]
        }
    }

    /// Identifiers this entity's relation `name` points at.
    func targets(of name: String) -> [String] {
        switch relations[name] {
        case .string(let id)?: return [id]
        case .array(let items)?: return items.compactMap(\.stringValue)
        default: return []
        }
    }
}
