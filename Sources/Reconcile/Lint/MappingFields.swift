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

    /// Whether the expression is written to give null on purpose (a jq `null` literal: `else null
    /// end`, `// null`): its author made the field optional, so a null is a note, not a warning.
    public var isOptional: Bool { MappingField.writesNull(expression.text) }

    /// Whether jq text holds the literal `null` outside string literals and field names.
    static func writesNull(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        var inString = false
        func isWord(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
        }
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                inString = true
            } else if bytes[index...].starts(with: Array("null".utf8)) {
                let before = index > 0 ? bytes[index - 1] : UInt8(ascii: " ")
                let after = index + 4 < bytes.count ? bytes[index + 4] : UInt8(ascii: " ")
                if !isWord(before), before != UInt8(ascii: "."), before != UInt8(ascii: "$"), !isWord(after) { return true }
            }
            index += 1
        }
        return false
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
