
/// Checks a blueprint body against Port's rules (port-api.md §4.2, §4.3) and turns it into a
/// `FakePortBlueprint`.
struct FakePortBlueprintValidator {
    /// Blueprints that exist (relation targets must be among them, or be the blueprint itself).
    let known: Set<String>

    static let propertyTypes: Set<String> = ["string", "number", "boolean", "object", "array"]
    static let formats: Set<String> = [
        "date-time", "url", "email", "idn-email", "ipv4", "ipv6", "markdown", "yaml", "user", "blueprints",
        "team", "timer", "proto", "labeled-url",
    ]
    private static let relationKeys: Set<String> = ["target", "required", "many", "title", "description", "type"]
    private static let mapKeys = ["relations", "calculationProperties", "mirrorProperties", "aggregationProperties"]

    /// Validates a complete definition. `previous` is the stored version on PUT/PATCH (keeps the
    /// bookkeeping, forbids changing a property's type).
    func blueprint(
        identifier: String, body: [String: FakeJSON], previous: FakePortBlueprint?, actor: String, now: String
    ) throws(FakePortError) -> FakePortBlueprint {
        if let problem = FakePortIdentifier.blueprintProblem(identifier) {
            throw .invalid("body/identifier \(problem)")
        }
        var definition = body
        for key in ["identifier", "createdAt", "createdBy", "updatedAt", "updatedBy"] { definition[key] = nil }

        guard let title = definition["title"]?.stringValue else { throw .invalid("body must have required property 'title' (a string)") }
        guard (1...100).contains(title.count) else { throw .invalid("body/title must be 1 to 100 characters long") }
        if let description = definition["description"], !description.isNull {
            guard let text = description.stringValue, text.count <= 200 else {
                throw .invalid("body/description must be a string of at most 200 characters")
            }
        }
        let (properties, required) = try schema(definition["schema"], previous: previous)
        let relations = try self.relations(definition["relations"], own: identifier)
        for key in Self.mapKeys {
            let value = definition[key] ?? .object([:])
            guard let members = value.objectValue else { throw .invalid("body/\(key) must be object") }
            for name in members.keys where FakePortIdentifier.keyProblem(name) != nil {
                throw .invalid("body/\(key) property name '\(name)' is invalid")
            }
            definition[key] = value
        }
        definition["schema"] = ["properties": .object(properties), "required": .array(required.map { .string($0) })]
        return FakePortBlueprint(
            identifier: identifier, definition: definition, properties: properties, requiredProperties: required,
            relations: relations, permissive: previous?.permissive ?? false,
            createdAt: previous?.createdAt ?? now, createdBy: previous?.createdBy ?? actor,
            updatedAt: now, updatedBy: actor)
    }

    private func schema(_ value: FakeJSON?, previous: FakePortBlueprint?) throws(FakePortError)
        -> ([String: FakeJSON], [String])
    {
        guard let schema = value?.objectValue else { throw .invalid("body must have required property 'schema' (an object)") }
        for key in schema.keys where key != "properties" && key != "required" {
            throw .invalid("body/schema must NOT have additional properties ('\(key)')")
        }
        guard let properties = schema["properties"]?.objectValue else {
            throw .invalid("body/schema must have required property 'properties'")
        }
        for (name, definition) in properties {
            try property(name, definition, previousType: previous?.properties[name]?["type"]?.stringValue)
        }
        var required: [String] = []
        if let list = schema["required"], !list.isNull {
            guard let items = list.arrayValue else { throw .invalid("body/schema/required must be array") }
            for item in items {
                guard let name = item.stringValue else { throw .invalid("body/schema/required must be array of strings") }
                guard properties[name] != nil else {
                    throw .invalid("body/schema/required names '\(name)', which is not a property")
                }
                required.append(name)
            }
        }
        return (properties, required)
    }

    private func property(_ name: String, _ definition: FakeJSON, previousType: String?) throws(FakePortError) {
        let at = "body/schema/properties/\(name)"
        if let problem = FakePortIdentifier.keyProblem(name) { throw .invalid("property name '\(name)' \(problem)") }
        guard let members = definition.objectValue else { throw .invalid("\(at) must be object") }
        guard let type = members["type"]?.stringValue else { throw .invalid("\(at) must have required property 'type'") }
        guard Self.propertyTypes.contains(type) else {
            throw .invalid("\(at)/type must be equal to one of the allowed values (string, number, boolean, object, array)")
        }
        if let previousType, previousType != type {
            throw .invalid("the type of property '\(name)' cannot be changed from \(previousType) to \(type)")
        }
        if let format = members["format"], !format.isNull {
            guard let text = format.stringValue, Self.formats.contains(text) else {
                throw .invalid("\(at)/format must be equal to one of the allowed values")
            }
        }
        if let title = members["title"], !title.isNull {
            guard let text = title.stringValue, text.count <= 100 else { throw .invalid("\(at)/title must be a string of at most 100 characters") }
        }
        if let values = members["enum"], !values.isNull, values.arrayValue == nil {
            throw .invalid("\(at)/enum must be array")
        }
    }

    private func relations(_ value: FakeJSON?, own: String) throws(FakePortError) -> [String: FakePortRelation] {
        guard let value, !value.isNull else { return [:] }
        guard let members = value.objectValue else { throw .invalid("body/relations must be object") }
        var relations: [String: FakePortRelation] = [:]
        for (name, definition) in members {
            let at = "body/relations/\(name)"
            if let problem = FakePortIdentifier.keyProblem(name) { throw .invalid("relation name '\(name)' \(problem)") }
            guard let fields = definition.objectValue else { throw .invalid("\(at) must be object") }
            for key in fields.keys where !Self.relationKeys.contains(key) {
                throw .invalid("\(at) must NOT have additional properties ('\(key)')")
            }
            guard let target = fields["target"]?.stringValue else { throw .invalid("\(at) must have required property 'target'") }
            guard let required = fields["required"]?.boolValue else {
                throw .invalid("\(at) must have required property 'required' (a boolean)")
            }
            guard let many = fields["many"]?.boolValue else { throw .invalid("\(at) must have required property 'many' (a boolean)") }
            if let title = fields["title"], !title.isNull {
                guard let text = title.stringValue, text.count <= 100 else { throw .invalid("\(at)/title must be a string of at most 100 characters") }
            }
            guard target == own || known.contains(target) else {
                throw .notFound("relation '\(name)' targets blueprint '\(target)', which does not exist")
            }
            guard !(many && required) else {
                throw .invalid("relation '\(name)' cannot be both many and required")
            }
            relations[name] = FakePortRelation(target: target, required: required, many: many)
        }
        return relations
    }
}
