import FakeServers
import Foundation
import Store

/// `mirrorctl-fakes ocean-estimate --url URL --kind K...`: the requests Port's Ocean Backstage
/// integration would send for the catalog at URL, counted from its request pattern (reference
/// ocean-backstage.md §1.2, §2.6, §2.7) by walking the catalog in Ocean's own pages:
/// - Backstage: one by-query request per 20-entity page, kind after kind (counted, not estimated);
/// - Port, first sync: the token, then per page one search when it holds more than 10 entities
///   and one bulk upsert;
/// - Port, resync with nothing changed: the token, the same searches, and one bulk upsert per page
///   holding an entity Ocean re-writes. That part is an **estimate**: with the default mapping a
///   many-relation is sent as a string (its first target), which never equals Port's array, so
///   every entity with at least one many-relation target is re-written; pages of ≤10 entities skip
///   the comparison and are re-written whole.
enum OceanEstimate {
    static let pageSize = 20
    static let searchThreshold = 10

    /// The many-relations of Ocean's default mapping, per kind: relation type and target kind.
    static let manyRelations: [String: [(type: String, targetPrefix: String)]] = [
        "component": [("providesApi", "api:"), ("consumesApi", "api:"), ("dependsOn", "component:"), ("dependsOn", "resource:")],
        "resource": [("dependsOn", "resource:"), ("dependsOn", "component:")],
        "group": [("hasMember", "user:")],
    ]

    static let usage = """
        Usage: mirrorctl-fakes ocean-estimate --url URL --kind K... [--token T]

        Walks the catalog at URL in Ocean's 20-entity pages and prints the requests Ocean's
        pattern would send for it, as JSON: Backstage requests (counted), Port requests for a
        first sync, and for a resync with nothing changed (an estimate, see the source).

        """

    static func run(arguments: [String]) -> Int32 {
        var url: String?
        var kinds: [String] = []
        var token: String?
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--help", "-h":
                FileHandle.standardOutput.write(Data(usage.utf8))
                return 0
            case "--url", "--kind", "--token":
                guard let value = rest.popFirst(), !value.isEmpty else { return usageError("\(argument) needs a value") }
                if argument == "--url" { url = value } else if argument == "--kind" { kinds.append(value) } else { token = value }
            default:
                return usageError("unknown argument '\(argument)'")
            }
        }
        guard let url, !kinds.isEmpty else { return usageError("--url and at least one --kind are required") }
        var tally = Tally()
        do {
            let walk = try FloorWalk.walk(baseURL: url, kinds: kinds, pageSize: pageSize,
                                          fields: ["kind", "metadata.name", "relations"], token: token) { kind, body in
                try tally.add(page: body, kind: kind)
            }
            tally.backstageRequests = walk.requests
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            return 1
        }
        FileHandle.standardOutput.write(Data(CanonicalJSON.bytes(tally.json) + [0x0A]))
        return 0
    }

    private static func usageError(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("Error: \(message)\n\n\(usage)".utf8))
        return 64
    }

    struct Tally {
        var entities: [String: Int] = [:]
        var backstageRequests = 0
        var searches = 0
        var firstUpserts = 0
        var resyncUpserts = 0
        var rewritten = 0

        mutating func add(page body: [UInt8], kind: String) throws {
            let page = try CanonicalJSON.parse(body)
            let items = page["items"]?.arrayValue ?? []
            entities[kind.lowercased(), default: 0] += items.count
            guard !items.isEmpty else { return }
            firstUpserts += 1
            let compared = items.count > OceanEstimate.searchThreshold
            if compared { searches += 1 }
            let rules = OceanEstimate.manyRelations[kind.lowercased()] ?? []
            let differing = compared ? items.filter { Self.hasManyRelation($0, rules) }.count : items.count
            rewritten += differing
            if differing > 0 { resyncUpserts += 1 }
        }

        static func hasManyRelation(_ entity: JSONValue, _ rules: [(type: String, targetPrefix: String)]) -> Bool {
            guard !rules.isEmpty else { return false }
            for relation in entity["relations"]?.arrayValue ?? [] {
                guard let type = relation["type"]?.stringValue, let target = relation["targetRef"]?.stringValue else { continue }
                if rules.contains(where: { $0.type == type && target.hasPrefix($0.targetPrefix) }) { return true }
            }
            return false
        }

        var json: JSONValue {
            let token = 1
            return [
                "entities": .number(Double(entities.values.reduce(0, +))),
                "kinds": .object(entities.mapValues { .number(Double($0)) }),
                "backstageRequests": .number(Double(backstageRequests)),
                "firstSync": [
                    "portRequests": .number(Double(token + searches + firstUpserts)),
                    "searches": .number(Double(searches)), "upserts": .number(Double(firstUpserts)),
                ],
                "noChangeResync": [
                    "portRequests": .number(Double(token + searches + resyncUpserts)),
                    "searches": .number(Double(searches)), "upserts": .number(Double(resyncUpserts)),
                    "rewrittenEntities": .number(Double(rewritten)), "estimate": true,
                ],
            ]
        }
    }
}
