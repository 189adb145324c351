import Store

/// The fields an entity write provides; nil means "not in the body" (merges keep the stored value).
struct FakePortEntityFields {
    var identifier: String?
    /// `.string` or `.null` when present.
    var title: JSONValue?
    var icon: JSONValue?
    var team: [String]?
    var properties: [String: JSONValue]?
    var relations: [String: JSONValue]?

    private static let patchKeys: Set<String> = ["identifier", "title", "icon", "team", "properties", "relations"]

    /// Reads a body. The POST/PUT body tolerates unknown top-level keys (Ocean sends `blueprint`);
    /// `strict` is PATCH's closed key set.
    init(_ body: JSONValue, strict: Bool) throws(FakePortError) {
        guard let members = body.objectValue else { throw .invalid("body must be object") }
        if strict {
            for key in members.keys where !Self.patchKeys.contains(key) {
                throw .invalid("body must NOT have additional properties ('\(key)')")
            }
        }
        identifier = try Self.identifier(members["identifier"])
        title = try Self.optionalString(members["title"], "title")
        icon = try Self.optionalString(members["icon"], "icon")
        team = try Self.team(members["team"])
        properties = try Self.map(members["properties"], "properties")
        relations = try Self.map(members["relations"], "relations")
        if strict, let properties {
            for key in properties.keys {
                if let problem = FakePortIdentifier.keyProblem(key) { throw .invalid("body/properties key '\(key)' \(problem)") }
            }
        }
    }

    /// A body's identifier problem, for checks that fail a whole bulk request.
    static func identifierProblem(_ body: JSONValue) -> FakePortError? {
        guard let members = body.objectValue else { return .invalid("body/entities items must be object") }
        do {
            _ = try identifier(members["identifier"])
            return nil
        } catch {
            return error
        }
    }

    private static func identifier(_ value: JSONValue?) throws(FakePortError) -> String? {
        switch value {
        case nil, .null?:
            return nil
        case .string(let text)?:
            if let problem = FakePortIdentifier.entityProblem(text) { throw .invalid("body/identifier \(problem)") }
            return text
        case .object?:
            // Search identifiers (port-api.md §5.5) are not implemented by the fake.
            throw .invalid("body/identifier: search identifiers are not supported by the fake Port")
        default:
            throw .invalid("body/identifier must be string")
        }
    }

    private static func optionalString(_ value: JSONValue?, _ name: String) throws(FakePortError) -> JSONValue? {
        switch value {
        case nil: return nil
        case .null?, .string?: return value
        default: throw .invalid("body/\(name) must be string or null")
        }
    }

    private static func team(_ value: JSONValue?) throws(FakePortError) -> [String]? {
        switch value {
        case nil: return nil
        case .null?: return []
        case .string(let name)?: return [name]
        case .array(let items)?:
            var names: [String] = []
            for item in items {
                guard let name = item.stringValue else { throw .invalid("body/team must be string, array of strings or null") }
                names.append(name)
            }
            return names
        default: throw .invalid("body/team must be string, array of strings or null")
        }
    }

    private static func map(_ value: JSONValue?, _ name: String) throws(FakePortError) -> [String: JSONValue]? {
        switch value {
        case nil: return nil
        case .null?: return [:]
        case .object(let members)?: return members
        default: throw .invalid("body/\(name) must be object")
        }
    }
}
