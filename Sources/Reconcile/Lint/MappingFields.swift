import Store

/// One expression of a resource as lint and the playground see it: Ocean's field path
/// (`identifier`, `properties.type`, `relations.owningGroup`), its group and text.
public struct MappingField: Sendable, Hashable {
    public enum Group: String, Sendable {
        case top, properties, relations
    }

    public let path: String
    public let name: String
    public let group: Group
    public let expression: MappingExpression

    /// Every field of `resource`, in mapping order (the selector excluded).
    public static func all(of resource: ResourceMapping) -> [MappingField] {
        let mappings = resource.mappings
        var fields: [MappingField] = []
        let top: [(String, MappingExpression?)] = [("identifier", mappings.identifier), ("title", mappings.title),
                                                   ("blueprint", mappings.blueprint), ("icon", mappings.icon),
                                                   ("team", mappings.team)]
        for (name, expression) in top {
            if let expression { fields.append(MappingField(path: name, name: name, group: .top, expression: expression)) }
        }
        for item in mappings.properties ?? [] {
            fields.append(MappingField(path: "properties.\(item.name)", name: item.name, group: .properties, expression: item.expression))
        }
        for item in mappings.relations ?? [] {
            fields.append(MappingField(path: "relations.\(item.name)", name: item.name, group: .relations, expression: item.expression))
        }
        return fields
    }

    /// The field's value in a mapped entity body (nil when the body has no such key).
    public func value(in body: JSONValue) -> JSONValue? {
        switch group {
        case .top: return body[name]
        case .properties: return body[path: ["properties", name]]
        case .relations: return body[path: ["relations", name]]
        }
    }
}
