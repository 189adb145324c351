/// Blueprints and entities of one fake organization. Not thread-safe: `FakePort` guards it.
struct FakePortStore {
    var blueprints: [String: FakePortBlueprint] = [:]
    /// blueprint → identifier → entity. Identifiers are unique per blueprint.
    private(set) var entities: [String: [String: FakePortEntity]] = [:]

    func entity(_ blueprint: String, _ identifier: String) -> FakePortEntity? {
        entities[blueprint]?[identifier]
    }

    func count(_ blueprint: String) -> Int { entities[blueprint]?.count ?? 0 }

    var totalCount: Int { entities.values.reduce(0) { $0 + $1.count } }

    /// A blueprint's entities in identifier order (the order of listings and search pages).
    func sortedEntities(_ blueprint: String) -> [FakePortEntity] {
        (entities[blueprint] ?? [:]).values.sorted { $0.identifier < $1.identifier }
    }

    /// Every entity, by blueprint then identifier.
    var allEntities: [FakePortEntity] {
        entities.keys.sorted().flatMap { sortedEntities($0) }
    }

    mutating func put(_ entity: FakePortEntity) {
        entities[entity.blueprint, default: [:]][entity.identifier] = entity
    }

    @discardableResult
    mutating func remove(_ blueprint: String, _ identifier: String) -> FakePortEntity? {
        entities[blueprint]?.removeValue(forKey: identifier)
    }

    mutating func removeAll(_ blueprint: String) { entities[blueprint] = nil }

    /// Entities whose *required* relation points at the given entity: they block its deletion
    /// unless `delete_dependents` is set (port-api.md §5.8).
    func dependents(of blueprint: String, _ identifier: String) -> [FakePortEntity] {
        var found: [FakePortEntity] = []
        for source in blueprints.values {
            let names = source.relations.filter { $0.value.required && $0.value.target == blueprint }.map(\.key)
            guard !names.isEmpty else { continue }
            for entity in (entities[source.identifier] ?? [:]).values
            where names.contains(where: { entity.targets(of: $0).contains(identifier) }) {
                found.append(entity)
            }
        }
        return found
    }
}
