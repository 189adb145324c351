
/// The fields an entity write provides; nil means "not in the body" (merges keep the stored value).
struct FakePortEntityFields {
    var identifier: String?
    /// `.string` or `.null` when present.
    var title: FakeJSON?
    var icon: FakeJSON?
    var team: [String]?
    var properties: [String: FakeJSON]?
    var relations: [String: FakeJSON]?

    /// Reads a body. A POST body tolerates unknown top-level keys (Ocean sends `blueprint`).
    init(_ body: FakeJSON) throws(FakePortError) {
        guard let members = body.objectValue else { throw .invalid("body must be object") }
        identifier = try Self.identifier(members["identifier"])
        title = try Self.optionalString(members["title"], "title")
        icon = try Self.optionalString(members["icon"], "icon")
        team = try Self.team(members["team"])
        properties = try Self.map(members["properties"], "properties")
        relations = try Self.map(members["relations"], "relations")
    }

    /// A body's identifier problem, for checks that fail a whole bulk request.
    static func identifierProblem(_ body: FakeJSON) -> FakePortError? {
        guard let members = body.objectValue else { return .invalid("body/entities items must be object") }
        do {
            _ = try identifier(members["identifier"])
            return nil
        } catch {
            return error
        }
    }

    private static func identifier(_ value: FakeJSON?) throws(FakePortError) -> String? {
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

    private static func optionalString(_ value: FakeJSON?, _ name: String) throws(FakePortError) -> FakeJSON? {
        switch value {
        case nil: return nil
        case .null?, .string?: return value
        default: throw .invalid("body/\(name) must be string or null")
        }
    }

    private static func team(_ value: FakeJSON?) throws(FakePortError) -> [String]? {
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

    private static func map(_ value: FakeJSON?, _ name: String) throws(FakePortError) -> [String: FakeJSON]? {
        switch value {
        case nil: return nil
        case .null?: return [:]
        case .object(let members)?: return members
        default: throw .invalid("body/\(name) must be object")
        }
    }
}
