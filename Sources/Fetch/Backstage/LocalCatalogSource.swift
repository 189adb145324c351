import Store

/// The `file:PATH` source: a folder (or file) of Backstage descriptor YAML, materialized like
/// Backstage would serve it, delivered as one page per kind. For quick starts and tests without a
/// Backstage server.
public final class LocalCatalogSource: CatalogSource {
    public let path: String
    private var loaded: [JSONValue]?
    public private(set) var stats = SourceStats()

    public init(path: String) {
        self.path = path
    }

    public var sourceDescription: String { "file:\(path)" }

    public func walk(kind: String, onPage: (EntityPage) throws -> Void) throws {
        let entities = try loadAll()
        let wanted = kind.lowercased()
        let items = entities.filter { $0["kind"]?.stringValue?.lowercased() == wanted }.map { JQValue($0) }
        try onPage(EntityPage(items: items, number: 1, byteCount: 0))
    }

    private func loadAll() throws -> [JSONValue] {
        if let loaded { return loaded }
        stats.requests += 1
        let entities: [JSONValue]
        do {
            entities = try LocalCatalog(path: path).load()
        } catch {
            throw BackstageError.local("\(error)")
        }
        loaded = entities
        return entities
    }
}
