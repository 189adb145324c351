import Foundation

/// Admin routes for benchmark scripts (enabled by `Configuration.adminRoutes`):
/// `POST /admin/mutate?percent=P&seed=S` changes P% of the descriptions (new etags),
/// `GET /admin/stats` answers the request counters as JSON, `POST /admin/reset-stats` zeroes them.
/// Admin requests are not counted and need no token.
enum BackstageAdmin {
    static func respond(to request: HTTPRequest, fake: FakeBackstage) -> HTTPResponse {
        switch (request.method, request.path) {
        case ("POST", "/admin/mutate"):
            guard let percent = Double(request.queryValue("percent") ?? "1"),
                  let seed = UInt64(request.queryValue("seed") ?? "1") else {
                return answer(["error": "percent must be a number and seed an unsigned integer"], status: 400)
            }
            let changed = fake.mutateDescriptions(percent: percent, seed: seed)
            return answer(["mutated": .number(Double(changed)), "entities": .number(Double(fake.entityCount))])
        case ("GET", "/admin/stats"):
            return answer(statsJSON(fake.stats, entities: fake.entityCount))
        case ("POST", "/admin/reset-stats"):
            fake.resetStats()
            return answer(["ok": true])
        default:
            return HTTPResponse(status: 404)
        }
    }

    static func statsJSON(_ stats: RequestStats, entities: Int) -> FakeJSON {
        [
            "requests": .number(Double(stats.requests)),
            "bytes": .number(Double(stats.bytesServed)),
            "entities": .number(Double(entities)),
            "paths": .object(stats.requestsByPath.mapValues { .number(Double($0)) }),
            "statuses": .object(Dictionary(uniqueKeysWithValues: stats.requestsByStatus.map { (String($0.key), .number(Double($0.value))) })),
        ]
    }

    private static func answer(_ json: FakeJSON, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Data(FakeJSON.bytes(json)))
    }
}
