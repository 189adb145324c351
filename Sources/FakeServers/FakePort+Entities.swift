
/// Entity routes (port-api.md §5.3–§5.8). All methods run with the lock held.
extension FakePort {
    /// `POST /v1/blueprints/{bp}/entities`: 201 `{ok, entity}` (also for upserts of existing
    /// entities: the current spec lists only 201).
    func createEntity(_ bp: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        let options = try FakePortWriteOptions(context.request)
        let body = try jsonObject(context.request)
        let writer = try writer(bp, FakePortEntityWriter.mode(for: options), options, context, autoCreate: true)
        let result = try writer.write(.object(body), into: &store)
        return .ok(["entity": result.entity.json], status: options.validationOnly ? 200 : 201)
    }

    /// `POST /v1/blueprints/{bp}/entities/bulk`: 1–20 entities; identifier problems fail the whole
    /// request, everything else is reported per index (200 when all succeed, 207 otherwise).
    func bulkCreate(_ bp: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        let options = try FakePortWriteOptions(context.request)
        let body = try jsonObject(context.request)
        guard let items = body["entities"]?.arrayValue else { throw .invalid("body must have required property 'entities' (an array)") }
        guard !items.isEmpty else { throw .invalid("body/entities must NOT have fewer than 1 items") }
        guard items.count <= 20 else { throw .invalid("body/entities must NOT have more than 20 items") }
        for (index, item) in items.enumerated() {
            if let problem = FakePortEntityFields.identifierProblem(item) {
                throw FakePortError(status: problem.status, code: problem.code, message: "entities/\(index): \(problem.message)")
            }
        }
        let writer = try writer(bp, FakePortEntityWriter.mode(for: options), options, context, autoCreate: true)
        var entities: [FakeJSON] = []
        var errors: [FakeJSON] = []
        for (index, item) in items.enumerated() {
            let identifier = item["identifier"]?.stringValue
            do {
                let result = try writer.write(item, into: &store)
                entities.append([
                    "index": .number(Double(index)), "identifier": .string(result.entity.identifier),
                    "created": .bool(result.created), "additionalData": [:],
                ])
            } catch {
                errors.append([
                    "index": .number(Double(index)), "identifier": .string(identifier ?? "unknown"),
                    "statusCode": .number(Double(error.status)), "error": .string(error.code),
                    "message": .string(error.message),
                ])
            }
        }
        return .ok(["entities": .array(entities), "errors": .array(errors)], status: errors.isEmpty ? 200 : 207)
    }

    func getEntity(_ bp: String, _ id: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        _ = try existingBlueprint(bp)
        let entity = try existingEntity(bp, id)
        return .ok(["entity": FakePortProjection(query: context.request).apply(entity.json)])
    }

    /// `DELETE …/entities/{id}?delete_dependents`: 403 `required_relation` while entities hold a
    /// required relation to it, unless `delete_dependents=true` (which deletes them too).
    func deleteEntity(_ bp: String, _ id: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        let deleteDependents = try FakePortWriteOptions.flag("delete_dependents", context.request)
        _ = try existingBlueprint(bp)
        _ = try existingEntity(bp, id)
        try delete([(bp, id)], dependents: deleteDependents)
        return .ok([:])
    }

    /// `POST …/bulk/entities/delete`: 1–100 identifiers; missing ones are simply absent from
    /// `deletedEntities`; one blocked entity fails the whole request and deletes nothing.
    func bulkDelete(_ bp: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        let deleteDependents = try FakePortWriteOptions.flag("delete_dependents", context.request)
        _ = try existingBlueprint(bp)
        let body = try jsonObject(context.request)
        for key in body.keys where key != "entities" { throw .invalid("body must NOT have additional properties ('\(key)')") }
        guard let items = body["entities"]?.arrayValue else { throw .invalid("body must have required property 'entities' (an array)") }
        guard (1...100).contains(items.count) else { throw .invalid("body/entities must have 1 to 100 items") }
        var ids: [String] = []
        for item in items {
            guard let id = item.stringValue else { throw .invalid("body/entities items must be string") }
            if store.entity(bp, id) != nil, !ids.contains(id) { ids.append(id) }
        }
        try delete(ids.map { (bp, $0) }, dependents: deleteDependents)
        return .ok(["deletedEntities": .array(ids.map { .string($0) })])
    }

    // MARK: - Helpers

    func existingEntity(_ bp: String, _ id: String) throws(FakePortError) -> FakePortEntity {
        guard let entity = store.entity(bp, id) else { throw .notFound("Entity '\(id)' of blueprint '\(bp)' was not found") }
        return entity
    }

    /// A writer for the path's blueprint; with `autoBlueprints` a missing blueprint is created permissively.
    func writer(
        _ bp: String, _ mode: FakePortEntityWriter.Mode, _ options: FakePortWriteOptions, _ context: FakePortContext,
        autoCreate: Bool
    ) throws(FakePortError) -> FakePortEntityWriter {
        if store.blueprints[bp] == nil, autoCreate, configuration.autoBlueprints {
            guard FakePortIdentifier.blueprintProblem(bp) == nil else { throw .notFound("Blueprint '\(bp)' was not found") }
            store.blueprints[bp] = .permissive(bp, by: context.actor, at: context.now)
        }
        return FakePortEntityWriter(
            blueprint: try existingBlueprint(bp), mode: mode, options: options, actor: context.actor,
            datasource: context.userAgent, now: context.now, forcedFailures: forcedFailures)
    }

    /// Deletes the entities; entities holding a required relation to them block it (403
    /// `required_relation`) unless `dependents` is true, which deletes those too, transitively.
    func delete(_ targets: [(String, String)], dependents: Bool) throws(FakePortError) {
        var doomed = Set(targets.map { [$0.0, $0.1] })
        var queue = targets.map { [$0.0, $0.1] }
        while let next = queue.popLast() {
            for source in store.dependents(of: next[0], next[1]) where !doomed.contains([source.blueprint, source.identifier]) {
                guard dependents else {
                    throw FakePortError(
                        status: 403, code: "required_relation",
                        message: "Entity '\(next[1])' cannot be deleted: '\(source.identifier)' of blueprint '\(source.blueprint)' has a required relation to it")
                }
                doomed.insert([source.blueprint, source.identifier])
                queue.append([source.blueprint, source.identifier])
            }
        }
        for key in doomed { store.remove(key[0], key[1]) }
    }
}
