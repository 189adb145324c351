import Store

/// The default Port blueprints of Ocean's Backstage integration (user, group, domain, system,
/// api, resource, component), as Port blueprint JSON. Every blueprint has `"required": []`,
/// empty `mirrorProperties` and `calculationProperties`; every relation says `required: false`
/// and its `many` explicitly.
public enum BuiltinBlueprints {
    /// In creation order: a blueprint comes after every blueprint its relations target, except
    /// for self-references (`group.parent`, `component.subcomponentOf`) and the
    /// component ↔ resource pair, which is why relations are added in a second pass.
    public static let all: [JSONValue] = [user, group, domain, system, api, resource, component]

    /// The blueprint identifiers, in creation order.
    public static let identifiers = ["user", "group", "domain", "system", "api", "resource", "component"]

    private static func property(_ title: String, _ type: String, format: String? = nil,
                                 extra: [String: JSONValue] = [:]) -> JSONValue
    {
        var members: [String: JSONValue] = ["title": .string(title), "type": .string(type)]
        if let format { members["format"] = .string(format) }
        members.merge(extra) { _, new in new }
        return .object(members)
    }

    private static func relation(_ title: String, _ target: String, many: Bool = false) -> JSONValue {
        ["title": .string(title), "target": .string(target), "required": false, "many": .bool(many)]
    }

    /// `description`, `labels`, `annotations`, `links` and `tags`, on every blueprint.
    private static let common: [String: JSONValue] = [
        "description": property("Description", "string", format: "markdown"),
        "labels": property("Labels", "object"),
        "annotations": property("Annotations", "object"),
        "links": property("Links", "array", extra: ["items": ["type": "string", "format": "url"]]),
        "tags": property("Tags", "array", extra: ["items": ["type": "string"]]),
    ]

    private static func blueprint(_ identifier: String, title: String, icon: String,
                                  properties: [String: JSONValue], relations: [String: JSONValue]) -> JSONValue
    {
        [
            "identifier": .string(identifier),
            "title": .string(title),
            "icon": .string(icon),
            "schema": ["properties": .object(common.merging(properties) { _, new in new }), "required": []],
            "mirrorProperties": [:],
            "calculationProperties": [:],
            "relations": .object(relations),
        ]
    }

    private static let owners: [String: JSONValue] = [
        "owningUser": relation("Owning User", "user"),
        "owningGroup": relation("Owning Group", "group"),
    ]

    private static let user = blueprint(
        "user", title: "User", icon: "TwoUsers",
        properties: ["email": property("Email", "string", format: "email")],
        relations: [:])

    private static let group = blueprint(
        "group", title: "Group", icon: "TwoUsers",
        properties: ["type": property("Type", "string"), "email": property("Email", "string", format: "email")],
        relations: ["parent": relation("Parent", "group"), "members": relation("Members", "user", many: true)])

    private static let domain = blueprint(
        "domain", title: "Domain", icon: "TwoUsers", properties: [:], relations: owners)

    private static let system = blueprint(
        "system", title: "System", icon: "Server", properties: [:],
        relations: owners.merging(["domain": relation("Domain", "domain")]) { _, new in new })

    private static let api = blueprint(
        "api", title: "api", icon: "ApiDoc",
        properties: [
            "type": property("Type", "string"),
            "lifecycle": property("Lifecycle", "string"),
            "definition": property("API Definition", "string"),
            "definitionOpenAPI": property("OpenAPI Definition", "object", extra: ["spec": "open-api"]),
            "definitionAsyncAPI": property("AsyncAPI Definition", "object", extra: ["spec": "async-api"]),
            "definitionGRPC": property("gRPC Definition", "string", format: "proto"),
            "definitionGraphQL": property("GraphQL Definition", "string"),
        ],
        relations: owners.merging(["system": relation("System", "system")]) { _, new in new })

    private static let resource = blueprint(
        "resource", title: "Resource", icon: "Server",
        properties: ["type": property("Type", "string")],
        relations: owners.merging([
            "system": relation("System", "system"),
            "dependsOnResource": relation("Depends On Resource", "resource", many: true),
            "dependsOnComponent": relation("Depends On Component", "component", many: true),
        ]) { _, new in new })

    private static let component = blueprint(
        "component", title: "Component", icon: "Cloud",
        properties: [
            "type": property("Type", "string"),
            "lifecycle": property("Lifecycle", "string"),
            "language": property("Language", "string"),
        ],
        relations: owners.merging([
            "system": relation("System", "system"),
            "subcomponentOf": relation("Subcomponent Of", "component"),
            "providesApis": relation("Provides APIs", "api", many: true),
            "consumesApis": relation("Consumes APIs", "api", many: true),
            "dependsOnComponent": relation("Depends On Component", "component", many: true),
            "dependsOnResource": relation("Depends On Resource", "resource", many: true),
        ]) { _, new in new })
}
