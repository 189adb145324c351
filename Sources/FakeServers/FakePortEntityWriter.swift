
/// Query options of an entity write (port-api.md §5.3). Absent booleans are false.
struct FakePortWriteOptions {
    var upsert = false
    var merge = false
    var createMissingRelatedEntities = false
    var validationOnly = false

    init() {}

    init(_ request: HTTPRequest) throws(FakePortError) {
        upsert = try FakePortWriteOptions.flag("upsert", request)
        merge = try FakePortWriteOptions.flag("merge", request)
        createMissingRelatedEntities = try FakePortWriteOptions.flag("create_missing_related_entities", request)
        validationOnly = try FakePortWriteOptions.flag("validation_only", request)
    }

    /// A boolean query parameter: `true`/`false`, absent = false; anything else is a 422.
    static func flag(_ name: String, _ request: HTTPRequest) throws(FakePortError) -> Bool {
        switch request.queryValue(name) {
        case nil, "false"?: return false
        case "true"?: return true
        default: throw .invalid("querystring/\(name) must be boolean")
        }
    }
}

/// Applies one entity write to the store with Port's semantics: create (409 when taken), upsert
/// (replace) and upsert+merge (provided fields only; properties and relations key by key), the
/// writes mirrorctl makes. Everything is validated before anything is written, so a failed write
/// changes nothing.
struct FakePortEntityWriter {
    enum Mode {
        case create
        case upsert
        case upsertMerge
    }

    struct Result {
        let entity: FakePortEntity
        let created: Bool
    }

    let blueprint: FakePortBlueprint
    let mode: Mode
    let createMissingRelatedEntities: Bool
    let validationOnly: Bool
    /// `<clientId>@clients`.
    let actor: String
    /// The request's User-Agent, stored as `$datasource`.
    let datasource: String?
    let now: String
    /// Identifiers tests forced to fail (partial 207s).
    let forcedFailures: [String: FakePortError]

    init(blueprint: FakePortBlueprint, mode: Mode, options: FakePortWriteOptions, actor: String,
         datasource: String?, now: String, forcedFailures: [String: FakePortError]) {
        self.blueprint = blueprint
        self.mode = mode
        self.createMissingRelatedEntities = options.createMissingRelatedEntities
        self.validationOnly = options.validationOnly
        self.actor = actor
        self.datasource = datasource
        self.now = now
        self.forcedFailures = forcedFailures
    }

    static func mode(for options: FakePortWriteOptions) -> Mode {
        options.upsert ? (options.merge ? .upsertMerge : .upsert) : .create
    }

    func write(_ body: FakeJSON, into store: inout FakePortStore) throws(FakePortError) -> Result {
        let bp = blueprint.identifier
        let fields = try FakePortEntityFields(body)
        let identifier = fields.identifier ?? Self.generatedIdentifier()
        if let forced = forcedFailures[identifier] { throw forced }

        let existing = store.entity(bp, identifier)
        if case .create = mode, existing != nil {
            throw .taken("Entity '\(identifier)' of blueprint '\(bp)' already exists")
        }

        var entity = build(identifier: identifier, fields: fields, existing: existing)
        let relations = try normalizedRelations(fields.relations ?? [:])
        for (name, value) in relations { entity.relations[name] = value }
        try checkProperties(entity)
        try checkRequiredRelations(entity)
        let missing = missingTargets(of: entity, provided: relations, in: store)
        if let first = missing.first, !createMissingRelatedEntities {
            throw .notFound(
                "Related entity '\(first.identifier)' of blueprint '\(first.blueprint)' (relation '\(first.relation)') was not found")
        }
        if !validationOnly {
            for target in missing where store.entity(target.blueprint, target.identifier) == nil {
                store.put(FakePortEntity(
                    identifier: target.identifier, blueprint: target.blueprint, title: target.identifier,
                    createdAt: now, createdBy: actor, datasource: datasource))
            }
            store.put(entity)
        }
        return Result(entity: entity, created: existing == nil)
    }

    /// The entity before relations are applied: merged onto the stored one, or built afresh
    /// (keeping the stored creation bookkeeping).
    private func build(identifier: String, fields: FakePortEntityFields, existing: FakePortEntity?) -> FakePortEntity {
        let merging: Bool
        if case .upsertMerge = mode { merging = true } else { merging = false }
        var entity: FakePortEntity
        if merging, let existing {
            entity = existing
            entity.identifier = identifier
            if let title = fields.title { entity.title = title.stringValue }
            if let icon = fields.icon { entity.icon = icon.stringValue }
            if let team = fields.team { entity.team = team }
            for (key, value) in fields.properties ?? [:] { entity.properties[key] = value }
        } else {
            entity = FakePortEntity(
                identifier: identifier, blueprint: blueprint.identifier, title: fields.title?.stringValue,
                icon: fields.icon?.stringValue, team: fields.team ?? [], properties: fields.properties ?? [:],
                createdAt: existing?.createdAt ?? now, createdBy: existing?.createdBy ?? actor)
        }
        entity.updatedAt = now
        entity.updatedBy = actor
        // Provisional: $datasource follows the latest writer (port-api.md §10 item 6).
        entity.datasource = datasource ?? existing?.datasource
        return entity
    }

    /// Checks the provided relation values; `many` relations store arrays.
    private func normalizedRelations(_ provided: [String: FakeJSON]) throws(FakePortError) -> [String: FakeJSON] {
        var result: [String: FakeJSON] = [:]
        for (name, value) in provided {
            let declared = blueprint.relations[name]
            if declared == nil, !blueprint.permissive {
                throw .schemaMismatch("relation '\(name)' is not defined on blueprint '\(blueprint.identifier)'")
            }
            switch value {
            case .null:
                result[name] = .null
            case .string(let id):
                if let problem = FakePortIdentifier.entityProblem(id) { throw .invalid("body/relations/\(name) \(problem)") }
                // Provisional: a single identifier on a many relation is stored as a one-item array.
                result[name] = declared?.many == true ? .array([value]) : value
            case .array(let items):
                if declared?.many == false {
                    throw FakePortError(
                        status: 422, code: "relation_many_violation",
                        message: "A provided relation cannot contain more than one entity (relation '\(name)' is not many)")
                }
                for item in items {
                    guard let id = item.stringValue else { throw .invalid("body/relations/\(name) items must be string") }
                    if let problem = FakePortIdentifier.entityProblem(id) { throw .invalid("body/relations/\(name) \(problem)") }
                }
                result[name] = value
            case .object:
                throw .invalid("body/relations/\(name): search relations are not supported by the fake Port")
            default:
                throw .invalid("body/relations/\(name) must be string, array of strings or null")
            }
        }
        return result
    }

    private func checkProperties(_ entity: FakePortEntity) throws(FakePortError) {
        guard !blueprint.permissive else { return }
        for (name, value) in entity.properties {
            guard let schema = blueprint.properties[name] else {
                // Provisional: whether Port rejects or drops unknown keys is unknown (port-api.md §10 item 4).
                throw .schemaMismatch("property '\(name)' is not defined on blueprint '\(blueprint.identifier)'")
            }
            if value.isNull { continue }
            if let problem = FakePortPropertyValidator.problem(value, schema: schema, at: "properties/\(name)") {
                throw .schemaMismatch(problem)
            }
        }
        for name in blueprint.requiredProperties where entity.properties[name] == nil || entity.properties[name] == .null {
            throw .schemaMismatch("properties must have required property '\(name)'")
        }
    }

    private func checkRequiredRelations(_ entity: FakePortEntity) throws(FakePortError) {
        for (name, relation) in blueprint.relations.sorted(by: { $0.key < $1.key })
        where relation.required && entity.targets(of: name).isEmpty {
            throw FakePortError(status: 422, code: "required_relation", message: "A relation is required: '\(name)'")
        }
    }

    private struct MissingTarget: Hashable {
        let blueprint: String
        let identifier: String
        let relation: String
    }

    /// Targets of the provided, declared relations that do not exist (the entity itself counts as existing).
    private func missingTargets(of entity: FakePortEntity, provided: [String: FakeJSON], in store: FakePortStore)
        -> [MissingTarget]
    {
        var missing: [MissingTarget] = []
        var seen = Set<[String]>()
        for name in provided.keys.sorted() {
            guard let relation = blueprint.relations[name] else { continue }
            for id in entity.targets(of: name) {
                if relation.target == entity.blueprint, id == entity.identifier { continue }
                guard store.entity(relation.target, id) == nil, seen.insert([relation.target, id]).inserted else { continue }
                missing.append(MissingTarget(blueprint: relation.target, identifier: id, relation: name))
            }
        }
        return missing
    }

    private static func generatedIdentifier() -> String {
        "e_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }
}
