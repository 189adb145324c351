import Store

/// What a Port blueprint accepts, as far as lint checks it: property types (and array item
/// types) and relations with their target and `many`.
public struct BlueprintSchema: Sendable {
    public struct Property: Sendable {
        public let type: String?
        public let itemsType: String?
    }

    public struct Relation: Sendable {
        public let target: String?
        public let many: Bool
    }

    public let identifier: String
    public let properties: [String: Property]
    public let relations: [String: Relation]

    /// Reads Port blueprint JSON (`{identifier, schema: {properties}, relations}`); nil without an identifier.
    public init?(json: JSONValue) {
        guard let identifier = json["identifier"]?.stringValue else { return nil }
        self.identifier = identifier
        var properties: [String: Property] = [:]
        for (name, definition) in json[path: ["schema", "properties"]]?.objectValue ?? [:] {
            properties[name] = Property(type: definition["type"]?.stringValue,
                                        itemsType: definition[path: ["items", "type"]]?.stringValue)
        }
        var relations: [String: Relation] = [:]
        for (name, definition) in json["relations"]?.objectValue ?? [:] {
            relations[name] = Relation(target: definition["target"]?.stringValue, many: definition["many"]?.boolValue ?? false)
        }
        self.properties = properties
        self.relations = relations
    }

    /// Why Port would refuse `value` for property `name`, or nil. Null is always accepted.
    public func propertyProblem(_ name: String, _ value: JSONValue) -> String? {
        if value.isNull { return nil }
        guard let property = properties[name] else { return "blueprint \(identifier) has no property '\(name)'" }
        guard let type = property.type else { return nil }
        if !BlueprintSchema.matches(value, type) {
            return "is \(BlueprintSchema.describe(value)), blueprint \(identifier) wants \(type)"
        }
        if type == "array", let itemsType = property.itemsType, let items = value.arrayValue,
           let bad = items.first(where: { !$0.isNull && !BlueprintSchema.matches($0, itemsType) }) {
            return "has an item that is \(BlueprintSchema.describe(bad)), blueprint \(identifier) wants \(itemsType) items"
        }
        return nil
    }

    /// Why Port would refuse `value` for relation `name`, or nil.
    public func relationProblem(_ name: String, _ value: JSONValue) -> String? {
        if value.isNull { return nil }
        guard let relation = relations[name] else { return "blueprint \(identifier) has no relation '\(name)'" }
        switch value {
        case .string where relation.many:
            return "is a single identifier, relation '\(name)' of \(identifier) is many: wants an array"
        case .array where !relation.many:
            return "is an array, relation '\(name)' of \(identifier) takes one identifier"
        case .string, .array:
            return nil
        default:
            return "is \(BlueprintSchema.describe(value)), a relation takes identifiers"
        }
    }

    static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("string", .string), ("boolean", .bool), ("object", .object), ("array", .array): return true
        case ("number", .number): return true
        default: return !["string", "number", "boolean", "object", "array"].contains(type)
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
