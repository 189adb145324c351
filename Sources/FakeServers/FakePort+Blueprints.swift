
/// Blueprint routes (port-api.md §4). All methods run with the lock held.
extension FakePort {
    func listBlueprints() -> FakePortReply {
        .ok(["blueprints": .array(store.blueprints.keys.sorted().compactMap { store.blueprints[$0]?.json })])
    }

    func getBlueprint(_ identifier: String) throws(FakePortError) -> FakePortReply {
        .ok(["blueprint": try existingBlueprint(identifier).json])
    }

    func createBlueprint(_ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        let body = try jsonObject(context.request)
        let blueprint = try insertBlueprint(body, permissive: false, actor: context.actor, now: context.now)
        return .ok(["blueprint": blueprint.json], status: 201)
    }

    func replaceBlueprint(_ identifier: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        let previous = try existingBlueprint(identifier)
        let body = try jsonObject(context.request)
        try checkSameIdentifier(body, identifier)
        let blueprint = try validator.blueprint(
            identifier: identifier, body: body, previous: previous, actor: context.actor, now: context.now)
        store.blueprints[identifier] = blueprint
        return .ok(["blueprint": blueprint.json])
    }

    /// PATCH applies the body as a JSON merge patch (RFC 7386) to the stored definition, then
    /// validates the result. Provisional: Port's exact PATCH merge rules are not published.
    func patchBlueprint(_ identifier: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        let previous = try existingBlueprint(identifier)
        let body = try jsonObject(context.request)
        try checkSameIdentifier(body, identifier)
        let merged = Self.mergePatch(.object(body), onto: .object(previous.definition))
        let blueprint = try validator.blueprint(
            identifier: identifier, body: merged.objectValue ?? [:], previous: previous, actor: context.actor,
            now: context.now)
        store.blueprints[identifier] = blueprint
        return .ok(["blueprint": blueprint.json])
    }

    /// Refuses while entities exist (provisional: 409 `blueprint_has_entities`; Port's code is
    /// unknown) or while another blueprint's relation targets it (422).
    func deleteBlueprint(_ identifier: String) throws(FakePortError) -> FakePortReply {
        _ = try existingBlueprint(identifier)
        guard store.count(identifier) == 0 else {
            throw FakePortError(
                status: 409, code: "blueprint_has_entities",
                message: "Blueprint '\(identifier)' still has entities; delete them first")
        }
        try checkNotTargeted(identifier)
        store.blueprints[identifier] = nil
        return .ok([:])
    }

    // MARK: - Helpers

    var validator: FakePortBlueprintValidator { FakePortBlueprintValidator(known: Set(store.blueprints.keys)) }

    func existingBlueprint(_ identifier: String) throws(FakePortError) -> FakePortBlueprint {
        guard let blueprint = store.blueprints[identifier] else {
            throw .notFound("Blueprint with identifier '\(identifier)' was not found")
        }
        return blueprint
    }

    /// Validates and stores a new blueprint (POST and `createBlueprint(_:)`).
    func insertBlueprint(_ body: [String: FakeJSON], permissive: Bool, actor: String, now: String)
        throws(FakePortError) -> FakePortBlueprint
    {
        guard let identifier = body["identifier"]?.stringValue else {
            throw .invalid("body must have required property 'identifier' (a string)")
        }
        guard store.blueprints[identifier] == nil else {
            throw .taken("Blueprint with identifier '\(identifier)' already exists")
        }
        var blueprint = try validator.blueprint(identifier: identifier, body: body, previous: nil, actor: actor, now: now)
        blueprint.permissive = permissive
        store.blueprints[identifier] = blueprint
        return blueprint
    }

    /// 422 when another blueprint has a relation to this one.
    func checkNotTargeted(_ identifier: String) throws(FakePortError) {
        for source in store.blueprints.values where source.identifier != identifier {
            if let (name, _) = source.relations.first(where: { $0.value.target == identifier }) {
                throw .invalid("Blueprint '\(identifier)' is the target of relation '\(name)' of blueprint '\(source.identifier)'")
            }
        }
    }

    private func checkSameIdentifier(_ body: [String: FakeJSON], _ identifier: String) throws(FakePortError) {
        if let given = body["identifier"], given.stringValue != identifier {
            throw .invalid("body/identifier must equal the blueprint identifier in the path (renaming is not supported by the fake)")
        }
    }

    /// RFC 7386: objects merge key by key, `null` deletes, anything else replaces.
    static func mergePatch(_ patch: FakeJSON, onto target: FakeJSON) -> FakeJSON {
        guard let changes = patch.objectValue else { return patch }
        var members = target.objectValue ?? [:]
        for (key, value) in changes {
            if value.isNull {
                members[key] = nil
            } else {
                members[key] = mergePatch(value, onto: members[key] ?? .null)
            }
        }
        return .object(members)
    }
}
