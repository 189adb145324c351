import Foundation

/// Search routes (port-api.md §5.9). All methods run with the lock held.
extension FakePort {
    /// `POST /v1/entities/search`: the body is the query; all matches, no pagination.
    func searchEntities(_ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        let query = try FakePortQuery.parse(.object(try jsonObject(context.request)), at: "body")
        let projection = FakePortProjection(query: context.request)
        let matches = store.allEntities.filter { query.matches($0) }
        let blueprints = Set(matches.map(\.blueprint)).sorted()
        return .ok([
            "matchingBlueprints": .array(blueprints.map { .string($0) }), "failedBlueprints": [],
            "entities": .array(matches.map { projection.apply($0.json) }),
        ])
    }

    /// `POST /v1/blueprints/{bp}/entities/search`: `{query?, include?, exclude?, limit?, from?}`,
    /// pages in identifier order; `next` (absent on the last page) is an opaque cursor for `from`.
    func searchBlueprint(_ bp: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        _ = try existingBlueprint(bp)
        let body = context.request.body.isEmpty ? [:] : try jsonObject(context.request)
        let allowed: Set<String> = ["query", "include", "exclude", "limit", "from"]
        for key in body.keys where !allowed.contains(key) { throw .invalid("body must NOT have additional properties ('\(key)')") }
        let query = try body["query"].map { (value) throws(FakePortError) in try FakePortQuery.parse(value, at: "query") }
        let projection = FakePortProjection(include: try strings(body["include"], "include"), exclude: try strings(body["exclude"], "exclude"))
        var limit = 200
        if let value = body["limit"] {
            guard let number = value.numberValue, number == number.rounded(), (1...1000).contains(number) else {
                throw .invalid("body/limit must be an integer from 1 to 1000")
            }
            limit = Int(number)
        }
        var after: String?
        if let from = body["from"] {
            guard let cursor = from.stringValue, let decoded = Self.decodeCursor(cursor) else { throw .invalid("body/from is not a valid cursor") }
            after = decoded
        }
        var page: [FakePortEntity] = []
        var more = false
        for entity in store.sortedEntities(bp) {
            if let after, entity.identifier <= after { continue }
            guard query?.matches(entity) ?? true else { continue }
            if page.count == limit {
                more = true
                break
            }
            page.append(entity)
        }
        var members: [String: FakeJSON] = ["entities": .array(page.map { projection.apply($0.json) })]
        if more, let last = page.last { members["next"] = .string(Self.encodeCursor(last.identifier)) }
        return .ok(members)
    }

    private func strings(_ value: FakeJSON?, _ name: String) throws(FakePortError) -> [String] {
        guard let value else { return [] }
        guard let items = value.arrayValue else { throw .invalid("body/\(name) must be array") }
        var result: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw .invalid("body/\(name) items must be string") }
            result.append(text)
        }
        return result
    }

    private static func encodeCursor(_ identifier: String) -> String {
        Data(identifier.utf8).base64EncodedString()
    }

    private static func decodeCursor(_ cursor: String) -> String? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
