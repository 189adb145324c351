import FakeServers
import Foundation
import XCTest

/// Drives the fake Port over real HTTP with /usr/bin/curl.
final class FakePortTests: XCTestCase {
    private var port: FakePort!
    private var client: CurlClient!

    override func setUpWithError() throws {
        port = try FakePort.start(clientId: "ci-client", clientSecret: "ci-secret")
        client = CurlClient(baseURL: port.baseURL)
    }

    override func tearDown() {
        port.stop()
    }

    // MARK: - Integration resync state

    func testResyncStateIsValidatedRecordedAndShownOnTheIntegration() throws {
        try client.login()
        port.setIntegration("mirror", config: ["resources": []])
        let path = "/v1/integration/mirror/resync-state"
        let running: FakeJSON = ["status": "running", "lastResyncStart": "2026-01-10T08:15:00.120Z", "lastResyncEnd": nil,
                                  "nextResync": nil, "intervalInMinuets": nil]
        let accepted = try client.send("PATCH", path, json: running)
        XCTAssertEqual(accepted.status, 200)
        XCTAssertEqual(accepted.json?[path: ["integration", "resyncState", "status"]], "running")
        XCTAssertNotNil(accepted.json?[path: ["integration", "resyncState", "updatedAt"]]?.stringValue)
        XCTAssertEqual(try client.send("PATCH", path, json: ["status": "done"]).status, 422, "status is an enum")
        XCTAssertEqual(try client.send("PATCH", path, json: ["status": "failed", "lastResyncEnd": "yesterday"]).status, 422)
        XCTAssertEqual(try client.send("PATCH", "/v1/integration/other/resync-state", json: running).status, 404)
        XCTAssertEqual(port.resyncStateReports("mirror"), [running], "only accepted reports are recorded")
        let shown = try client.send("GET", "/v1/integration/mirror")
        XCTAssertEqual(shown.json?[path: ["integration", "resyncState", "lastResyncStart"]], "2026-01-10T08:15:00.120Z")
        // Extra members: accepted by default, refused by a strict schema.
        XCTAssertEqual(try client.send("PATCH", path, json: ["status": "completed", "counts": ["run": 1]]).status, 200)
        port.setStrictResyncState(true)
        XCTAssertEqual(try client.send("PATCH", path, json: ["status": "completed", "counts": ["run": 1]]).status, 422)
        client.token = nil
        XCTAssertEqual(try client.send("PATCH", path, json: running).status, 401)
    }

    // MARK: - Auth

    func testTokenFlowReuseAndExpiry() throws {
        let bad = try client.send("POST", "/v1/auth/access_token", json: ["clientId": "ci-client", "clientSecret": "nope"])
        XCTAssertEqual(bad.status, 401)
        XCTAssertEqual(bad.json?["ok"], false)
        XCTAssertNotNil(bad.json?["message"]?.stringValue)

        let extra = try client.send(
            "POST", "/v1/auth/access_token", json: ["clientId": "ci-client", "clientSecret": "ci-secret", "x": 1])
        XCTAssertEqual(extra.status, 422)

        let first = try client.send("POST", "/v1/auth/access_token", json: ["clientId": "ci-client", "clientSecret": "ci-secret"])
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.json?["tokenType"], "Bearer")
        XCTAssertEqual(first.json?["expiresIn"], 10800)
        let token = try XCTUnwrap(first.json?["accessToken"]?.stringValue)

        port.advanceClock(by: 100)
        let second = try client.send("POST", "/v1/auth/access_token", json: ["clientId": "ci-client", "clientSecret": "ci-secret"])
        XCTAssertEqual(second.json?["accessToken"]?.stringValue, token, "the active token is reused")
        let left = try XCTUnwrap(second.json?["expiresIn"]?.numberValue)
        XCTAssertTrue((10699...10700).contains(left), "expiresIn decreases: \(left)")

        client.token = token
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").status, 200)
        client.token = nil
        let missing = try client.send("GET", "/v1/blueprints")
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.json?["error"], "unauthorized")

        client.token = token
        port.advanceClock(by: 10800)
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").status, 401, "expired")
        try client.login()
        XCTAssertNotEqual(client.token, token, "a new token after expiry")
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").status, 200)

        port.expireTokens()
        let revoked = try client.send("GET", "/v1/blueprints")
        XCTAssertEqual(revoked.status, 401)
        XCTAssertEqual(revoked.json?["error"], "unauthorized")

        try client.login()
        port.injectFault(FakePortFault(pathContains: "/v1/blueprints", action: .expireTokens))
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").status, 401, "early expiry by fault")
    }

    // MARK: - Blueprints

    func testBlueprintValidation() throws {
        try client.login()
        let toMissing = try client.send("POST", "/v1/blueprints", json: [
            "identifier": "service", "title": "Service", "schema": ["properties": [:]],
            "relations": ["owner": ["target": "team", "required": false, "many": false]],
        ])
        XCTAssertEqual(toMissing.status, 404, "relation target blueprint must exist")
        XCTAssertEqual(toMissing.json?["error"], "not_found")

        for body: FakeJSON in [
            ["identifier": "x", "title": "X"],
            ["identifier": "x", "title": "X", "schema": [:]],
            ["identifier": "x", "title": "", "schema": ["properties": [:]]],
            ["identifier": "bad id", "title": "X", "schema": ["properties": [:]]],
            ["identifier": "x", "title": "X", "schema": ["properties": ["p": ["type": "text"]]]],
            ["identifier": "x", "title": "X", "schema": ["properties": [:]], "relations": ["r": ["target": "x", "many": false]]],
            ["identifier": "x", "title": "X", "schema": ["properties": [:]],
             "relations": ["r": ["target": "x", "required": true, "many": true]]],
        ] {
            let response = try client.send("POST", "/v1/blueprints", json: body)
            XCTAssertEqual(response.status, 422, "\(body)")
            XCTAssertEqual(response.json?["ok"], false)
        }

        let team = try client.send("POST", "/v1/blueprints", json: ["identifier": "team", "title": "Team", "schema": ["properties": [:]]])
        XCTAssertEqual(team.status, 201)
        XCTAssertNotNil(team.json?[path: ["blueprint", "createdAt"]]?.stringValue)
        XCTAssertEqual(try client.send("POST", "/v1/blueprints", json: [
            "identifier": "service", "title": "Service", "schema": ["properties": ["url": ["type": "string", "format": "url"]]],
            "relations": ["owner": ["target": "team", "required": false, "many": false]],
        ]).status, 201)
        XCTAssertEqual(try client.send("GET", "/v1/blueprints/service").json?[path: ["blueprint", "relations", "owner", "target"]], "team")
        XCTAssertEqual(try client.send("GET", "/v1/blueprints/nope").status, 404)
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").json?["blueprints"]?.arrayValue?.count, 2)

        let patched = try client.send("PATCH", "/v1/blueprints/service", json: [
            "relations": ["parent": ["target": "service", "required": false, "many": true]],
        ])
        XCTAssertEqual(patched.status, 200)
        XCTAssertEqual(port.blueprint("service")?.relations.keys.sorted(), ["owner", "parent"])
        XCTAssertEqual(try client.send("PUT", "/v1/blueprints/service", json: [
            "title": "Service", "schema": ["properties": ["url": ["type": "number"]]],
        ]).status, 422, "a property's type cannot change")

        try port.upsertEntity(blueprint: "team", ["identifier": "t1"])
        XCTAssertEqual(try client.send("DELETE", "/v1/blueprints/team").status, 409, "entities exist")
        XCTAssertTrue(port.deleteEntity(blueprint: "team", identifier: "t1"))
        XCTAssertEqual(try client.send("DELETE", "/v1/blueprints/team").status, 422, "still a relation target")
    }

    // MARK: - Entities

    func testSingleUpsertCreateMergeReplace() throws {
        try setUpServiceBlueprints()
        client.userAgent = "mirrorctl/0.1 (test)"
        let create = try client.send("POST", "/v1/blueprints/service/entities", json: [
            "identifier": "svc-a", "title": "A", "properties": ["url": "https://a.example", "language": "swift"],
            "relations": ["owner": "team-1", "dependsOn": ["svc-a"]],
        ])
        XCTAssertEqual(create.status, 201)
        XCTAssertEqual(create.json?[path: ["entity", "createdBy"]], "ci-client@clients")
        let createdAt = try XCTUnwrap(create.json?[path: ["entity", "createdAt"]]?.stringValue)
        XCTAssertTrue(createdAt.hasSuffix("Z") && createdAt.contains("."), createdAt)

        let again = try client.send("POST", "/v1/blueprints/service/entities", json: ["identifier": "svc-a"])
        XCTAssertEqual(again.status, 409)
        XCTAssertEqual(again.json?["error"], "identifier_taken")

        port.advanceClock(by: 5)
        client.userAgent = "someone-else/2"
        let merged = try client.send("POST", "/v1/blueprints/service/entities?upsert=true&merge=true", json: [
            "identifier": "svc-a", "properties": ["language": "rust"], "relations": ["dependsOn": []],
        ])
        XCTAssertEqual(merged.status, 201)
        var stored = try XCTUnwrap(port.entity(blueprint: "service", identifier: "svc-a"))
        XCTAssertEqual(stored.title, "A")
        XCTAssertEqual(stored.properties, ["url": "https://a.example", "language": "rust"])
        XCTAssertEqual(stored.relations, ["owner": "team-1", "dependsOn": []])
        XCTAssertEqual(stored.createdAt, createdAt)
        XCTAssertNotEqual(stored.updatedAt, createdAt)
        XCTAssertEqual(stored.datasource, "someone-else/2")

        let replaced = try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
            "identifier": "svc-a", "title": "A2", "properties": ["language": "go"],
        ])
        XCTAssertEqual(replaced.status, 201)
        stored = try XCTUnwrap(port.entity(blueprint: "service", identifier: "svc-a"))
        XCTAssertEqual(stored.title, "A2")
        XCTAssertEqual(stored.properties, ["language": "go"])
        XCTAssertEqual(stored.relations, [:])
        XCTAssertEqual(stored.createdAt, createdAt)

        let wrongType = try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
            "identifier": "svc-b", "properties": ["url": 5],
        ])
        XCTAssertEqual(wrongType.status, 422)
        XCTAssertEqual(wrongType.json?["error"], "blueprint_schema_mismatch")
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
            "identifier": "svc-b", "properties": ["url": "not a url"],
        ]).json?["error"], "blueprint_schema_mismatch")
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
            "identifier": "svc-b", "properties": ["unknown": "x"],
        ]).json?["error"], "blueprint_schema_mismatch")
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities", json: ["identifier": ".."]).status, 422)
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/nope/entities", json: ["identifier": "x"]).status, 404)
        XCTAssertNil(port.entity(blueprint: "service", identifier: "svc-b"))
    }

    func testRelationRules() throws {
        try setUpServiceBlueprints()
        let many = try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
            "identifier": "svc", "relations": ["owner": ["team-1", "team-2"]],
        ])
        XCTAssertEqual(many.status, 422)
        XCTAssertEqual(many.json?["error"], "relation_many_violation")
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
            "identifier": "svc", "relations": ["owner": 5],
        ]).status, 422)
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
            "identifier": "svc", "relations": ["nope": "team-1"],
        ]).status, 422)

        let missing = try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
            "identifier": "svc", "relations": ["owner": "team-9"],
        ])
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.json?["error"], "not_found")
        XCTAssertNil(port.entity(blueprint: "service", identifier: "svc"))

        let created = try client.send(
            "POST", "/v1/blueprints/service/entities?upsert=true&create_missing_related_entities=true",
            json: ["identifier": "svc", "relations": ["owner": "team-9", "dependsOn": ["svc-x"]]])
        XCTAssertEqual(created.status, 201)
        let bare = try XCTUnwrap(port.entity(blueprint: "team", identifier: "team-9"))
        XCTAssertEqual(bare.title, "team-9")
        XCTAssertEqual(bare.properties, [:])
        XCTAssertNotNil(port.entity(blueprint: "service", identifier: "svc-x"))

        // A required relation must be present.
        try port.createBlueprint([
            "identifier": "deployment", "title": "Deployment", "schema": ["properties": [:]],
            "relations": ["service": ["target": "service", "required": true, "many": false]],
        ])
        let required = try client.send("POST", "/v1/blueprints/deployment/entities", json: ["identifier": "d1"])
        XCTAssertEqual(required.status, 422)
        XCTAssertEqual(required.json?["error"], "required_relation")
    }

    func testBulkUpsert200And207() throws {
        try setUpServiceBlueprints()
        let ok = try client.send("POST", "/v1/blueprints/service/entities/bulk?upsert=true&merge=true", json: [
            "entities": [["identifier": "a", "title": "A"], ["identifier": "b"], ["identifier": "c", "relations": ["owner": "team-1"]]],
        ])
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.json?["entities"]?.arrayValue?.map { $0["index"] }, [0, 1, 2])
        XCTAssertEqual(ok.json?["entities"]?.arrayValue?.map { $0["created"] }, [true, true, true])
        XCTAssertEqual(ok.json?["errors"], [])

        port.forceFailures(identifiers: ["d"], message: "forced by the test")
        let partial = try client.send("POST", "/v1/blueprints/service/entities/bulk?upsert=true", json: [
            "entities": [
                ["identifier": "a", "title": "A again"],
                ["identifier": "x", "properties": ["url": 1]],
                ["identifier": "y", "relations": ["owner": "team-404"]],
                ["identifier": "d"],
            ],
        ])
        XCTAssertEqual(partial.status, 207)
        XCTAssertEqual(partial.json?["entities"]?.arrayValue?.map { $0["index"] }, [0])
        XCTAssertEqual(partial.json?["entities"]?.arrayValue?.first?["created"], false)
        let errors = try XCTUnwrap(partial.json?["errors"]?.arrayValue)
        XCTAssertEqual(errors.map { $0["index"] }, [1, 2, 3])
        XCTAssertEqual(errors.map { $0["statusCode"] }, [422, 404, 422])
        XCTAssertEqual(errors.map { $0["error"] }, ["blueprint_schema_mismatch", "not_found", "blueprint_schema_mismatch"])
        XCTAssertEqual(errors[2]["message"], "forced by the test")
        XCTAssertEqual(errors[1]["identifier"], "y")
        XCTAssertEqual(port.entity(blueprint: "service", identifier: "a")?.title, "A again")

        let badIdentifier = try client.send("POST", "/v1/blueprints/service/entities/bulk?upsert=true", json: [
            "entities": [["identifier": "fine"], ["identifier": "not fine"]],
        ])
        XCTAssertEqual(badIdentifier.status, 422, "one bad identifier fails the whole request")
        XCTAssertNil(port.entity(blueprint: "service", identifier: "fine"))
        let tooMany = FakeJSON.array((0..<21).map { .object(["identifier": .string("e\($0)")]) })
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities/bulk", json: ["entities": tooMany]).status, 422)
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities/bulk", json: ["entities": []]).status, 422)
    }

    func testPercentEncodedIdentifierInPath() throws {
        try setUpServiceBlueprints()
        let identifier = "component:default/my+svc"
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities", json: ["identifier": .string(identifier)]).status, 201)
        let got = try client.send("GET", "/v1/blueprints/service/entities/component%3Adefault%2Fmy%2Bsvc")
        XCTAssertEqual(got.status, 200)
        XCTAssertEqual(got.json?[path: ["entity", "identifier"]]?.stringValue, identifier)
        XCTAssertEqual(try client.send("GET", "/v1/blueprints/service/entities/component:default%2Fmy%2Bsvc").status, 200)
        XCTAssertEqual(try client.send("GET", "/v1/blueprints/service/entities/nope").json?["error"], "not_found")
        XCTAssertEqual(try client.send("DELETE", "/v1/blueprints/service/entities/component%3Adefault%2Fmy%2Bsvc").status, 200)
        XCTAssertNil(port.entity(blueprint: "service", identifier: identifier))
        XCTAssertEqual(try client.send("DELETE", "/v1/blueprints/service/entities/component%3Adefault%2Fmy%2Bsvc").status, 404)
    }

    func testBulkDeleteAndDependents() throws {
        try setUpServiceBlueprints()
        for id in ["a", "b", "c"] { try port.upsertEntity(blueprint: "service", ["identifier": .string(id)]) }
        let deleted = try client.send("POST", "/v1/blueprints/service/bulk/entities/delete", json: ["entities": ["a", "missing", "b"]])
        XCTAssertEqual(deleted.status, 200)
        XCTAssertEqual(deleted.json?["deletedEntities"], ["a", "b"])
        XCTAssertEqual(port.entities(blueprint: "service").map(\.identifier), ["c"])
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/bulk/entities/delete", json: ["entities": []]).status, 422)

        try port.createBlueprint([
            "identifier": "deployment", "title": "Deployment", "schema": ["properties": [:]],
            "relations": ["service": ["target": "service", "required": true, "many": false]],
        ])
        try port.upsertEntity(blueprint: "deployment", ["identifier": "d1", "relations": ["service": "c"]])
        let blocked = try client.send("POST", "/v1/blueprints/service/bulk/entities/delete", json: ["entities": ["c"]])
        XCTAssertEqual(blocked.status, 403)
        XCTAssertEqual(blocked.json?["error"], "required_relation")
        XCTAssertNotNil(port.entity(blueprint: "service", identifier: "c"))
        let cascade = try client.send(
            "POST", "/v1/blueprints/service/bulk/entities/delete?delete_dependents=true", json: ["entities": ["c"]])
        XCTAssertEqual(cascade.json?["deletedEntities"], ["c"])
        XCTAssertEqual(port.allEntities.count, 1, "only team-1 is left")
    }

    // MARK: - Search

    func testSearchRoutes() throws {
        try setUpServiceBlueprints()
        client.userAgent = "port-ocean/backstage/1.0/my-install/exporter"
        for (id, language) in [("svc-1", "swift"), ("svc-2", "go"), ("svc-3", "swift"), ("api-1", "go")] {
            XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities?upsert=true", json: [
                "identifier": .string(id), "title": .string(id.uppercased()), "properties": ["language": .string(language)],
            ]).status, 201)
        }
        let query: FakeJSON = ["combinator": "and", "rules": [
            ["property": "$blueprint", "operator": "=", "value": "service"],
            ["property": "$datasource", "operator": "contains", "value": "/my-install/exporter"],
            ["combinator": "or", "rules": [
                ["property": "language", "operator": "=", "value": "swift"],
                ["property": "$identifier", "operator": "beginsWith", "value": "api"],
            ]],
            ["property": "$identifier", "operator": "notIn", "value": ["svc-3"]],
        ]]
        let found = try client.send("POST", "/v1/entities/search?include=identifier&include=blueprint,properties.language", json: query)
        XCTAssertEqual(found.status, 200)
        XCTAssertEqual(found.json?["entities"], [
            ["identifier": "api-1", "blueprint": "service", "properties": ["language": "go"]],
            ["identifier": "svc-1", "blueprint": "service", "properties": ["language": "swift"]],
        ])
        XCTAssertEqual(found.json?["matchingBlueprints"], ["service"])
        let empty = try client.send("POST", "/v1/entities/search", json: ["combinator": "and", "rules": [
            ["property": "language", "operator": "isEmpty"],
        ]])
        XCTAssertEqual(empty.json?["entities"]?.arrayValue?.map { $0["identifier"] }, ["team-1"])
        XCTAssertEqual(try client.send("POST", "/v1/entities/search", json: ["rules": []]).status, 422)

        var page = try client.send("POST", "/v1/blueprints/service/entities/search", json: [
            "limit": 3, "include": ["$identifier"],
        ])
        XCTAssertEqual(page.json?["entities"], [["identifier": "api-1"], ["identifier": "svc-1"], ["identifier": "svc-2"]])
        let next = try XCTUnwrap(page.json?["next"])
        page = try client.send("POST", "/v1/blueprints/service/entities/search", json: [
            "limit": 3, "include": ["$identifier"], "from": next,
        ])
        XCTAssertEqual(page.json?["entities"], [["identifier": "svc-3"]])
        XCTAssertNil(page.json?["next"])
        let filtered = try client.send("POST", "/v1/blueprints/service/entities/search", json: [
            "query": ["combinator": "and", "rules": [["property": "$identifier", "operator": "endsWith", "value": "-2"]]],
        ])
        XCTAssertEqual(filtered.json?["entities"]?.arrayValue?.map { $0["identifier"] }, ["svc-2"])
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities/search", json: ["limit": 0]).status, 422)
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities/search", json: ["other": 1]).status, 422)
    }

    // MARK: - Limits and faults

    func testRateLimitHeadersAnd429() throws {
        try client.login()
        let normal = try client.send("GET", "/v1/blueprints")
        XCTAssertNotNil(normal.headers["x-trace-id"])
        for name in ["x-ratelimit-period", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
            XCTAssertNotNil(normal.headers[name], name)
        }
        XCTAssertGreaterThan(Double(normal.headers["x-ratelimit-reset"] ?? "") ?? 0, 1e9, "epoch seconds by default")

        port.setRateLimit(limit: 2, period: 60, resetFormat: .secondsUntilReset, sendsRetryAfter: true)
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").headers["x-ratelimit-remaining"], "1")
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").headers["x-ratelimit-remaining"], "0")
        let limited = try client.send("GET", "/v1/blueprints")
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.json?["error"], "rate_limit_exceeded")
        XCTAssertEqual(limited.headers["x-ratelimit-limit"], "2")
        XCTAssertEqual(limited.headers["x-ratelimit-period"], "60")
        XCTAssertEqual(limited.headers["x-ratelimit-remaining"], "0")
        XCTAssertEqual(limited.headers["x-ratelimit-reset"], "60")
        XCTAssertEqual(limited.headers["retry-after"], "60")
        XCTAssertNotNil(limited.headers["x-trace-id"])

        port.advanceClock(by: 61)
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").status, 200, "a new window")
        port.setRateLimit(limit: 0, period: 30)
        let noRetryAfter = try client.send("GET", "/v1/blueprints")
        XCTAssertEqual(noRetryAfter.status, 429)
        XCTAssertNil(noRetryAfter.headers["retry-after"])
    }

    func testBodyTooLargeAndInjectedFaults() throws {
        try setUpServiceBlueprints()
        let big = Data(("{\"identifier\":\"x\",\"title\":\"" + String(repeating: "a", count: 1 << 20) + "\"}").utf8)
        let tooLarge = try client.send("POST", "/v1/blueprints/service/entities", raw: big)
        XCTAssertEqual(tooLarge.status, 413)
        XCTAssertEqual(tooLarge.json?["ok"], false)

        port.injectFault(.payloadTooLargeOnBulk())
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities/bulk", json: ["entities": [["identifier": "a"]]]).status, 413)
        XCTAssertNil(port.entity(blueprint: "service", identifier: "a"))

        port.injectFault(status: 503, method: "POST", pathContains: "/entities", count: 2, retryAfter: 7)
        for _ in 0..<2 {
            let unavailable = try client.send("POST", "/v1/blueprints/service/entities", json: ["identifier": "a"])
            XCTAssertEqual(unavailable.status, 503)
            XCTAssertEqual(unavailable.headers["retry-after"], "7")
        }
        port.injectFault(status: 429, pathContains: "/v1/blueprints", rateLimitHeaders: false)
        let storm = try client.send("GET", "/v1/blueprints")
        XCTAssertEqual(storm.status, 429)
        XCTAssertNil(storm.headers["x-ratelimit-limit"])
        XCTAssertEqual(try client.send("POST", "/v1/blueprints/service/entities", json: ["identifier": "a"]).status, 201)

        port.injectFault(FakePortFault(pathContains: "/entities", action: .closeConnection(afterProcessing: true)))
        let dropped = try client.send("POST", "/v1/blueprints/service/entities", json: ["identifier": "b"])
        XCTAssertEqual(dropped.status, 0)
        XCTAssertNotEqual(dropped.curlExitCode, 0)
        XCTAssertNotNil(port.entity(blueprint: "service", identifier: "b"), "processed, then the connection closed")
        XCTAssertEqual(port.pendingFaults, 0)
    }

    func testDelayTruncateAndConcurrentWrites() throws {
        try setUpServiceBlueprints()
        port.injectFault(FakePortFault(method: "GET", action: .delay(seconds: 0.5)))
        let started = Date()
        XCTAssertEqual(try client.send("GET", "/v1/blueprints").status, 200)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.45)

        port.injectFault(FakePortFault(method: "GET", action: .truncateBody(bytes: 5)))
        let truncated = try client.send("GET", "/v1/blueprints")
        XCTAssertNotEqual(truncated.curlExitCode, 0, "curl notices the short body")
        XCTAssertEqual(truncated.body.count, 5)

        let baseURL = port.baseURL
        let token = client.token
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let own = CurlClient(baseURL: baseURL)
            own.token = token
            let items = FakeJSON.array((0..<20).map { .object(["identifier": .string("w\(worker)-\($0)")]) })
            let response = try? own.send("POST", "/v1/blueprints/service/entities/bulk?upsert=true", json: ["entities": items])
            XCTAssertEqual(response?.status, 200)
        }
        XCTAssertEqual(port.entities(blueprint: "service").count, 160)
    }

    func testRequestLogAndCounters() throws {
        try setUpServiceBlueprints()
        port.resetLog()
        client.userAgent = "counter-test/1"
        _ = try client.send("POST", "/v1/blueprints/service/entities/bulk", json: ["entities": [["identifier": "a"]]])
        _ = try client.send("POST", "/v1/blueprints/service/entities", json: ["identifier": "b"])
        _ = try client.send("POST", "/v1/entities/search", json: ["combinator": "and", "rules": []])
        _ = try client.send("GET", "/v1/blueprints/service/entities/a")
        XCTAssertEqual(port.totalRequests, 4)
        XCTAssertEqual(port.writeRequests, 2)
        XCTAssertEqual(port.requestsPerRoute["POST /v1/blueprints/{blueprint}/entities/bulk"], 1)
        XCTAssertEqual(port.requestsPerRoute["GET /v1/blueprints/{blueprint}/entities/{identifier}"], 1)
        let last = try XCTUnwrap(port.requestLog.last)
        XCTAssertEqual(last.method, "GET")
        XCTAssertEqual(last.status, 200)
        XCTAssertEqual(last.userAgent, "counter-test/1")
        port.resetLog()
        XCTAssertEqual(port.totalRequests, 0)
    }

    func testAdminEditsAndAutoBlueprints() throws {
        try setUpServiceBlueprints()
        try port.upsertEntity(blueprint: "service", ["identifier": "a", "properties": ["language": "go"]])
        XCTAssertTrue(port.editEntity(blueprint: "service", identifier: "a") { $0.properties["language"] = "by hand" })
        let edited = try client.send("GET", "/v1/blueprints/service/entities/a?include=properties.language")
        XCTAssertEqual(edited.json?["entity"], ["properties": ["language": "by hand"]])
        XCTAssertEqual(port.entity(blueprint: "service", identifier: "a")?.updatedBy, "someone@example.com")

        XCTAssertEqual(try client.send("POST", "/v1/blueprints/kind-x/entities", json: ["identifier": "x"]).status, 404)
        port.setAutoBlueprints(true)
        let auto = try client.send("POST", "/v1/blueprints/kind-x/entities", json: [
            "identifier": "x", "properties": ["anything": ["goes": 1]], "relations": ["whatever": ["a", "b"]],
        ])
        XCTAssertEqual(auto.status, 201)
        XCTAssertEqual(port.blueprint("kind-x")?.permissive, true)
    }

    func testCommandRejectsBadArguments() {
        XCTAssertEqual(runFakePortCommand(arguments: ["--client-id", "x"]), 64)
        XCTAssertEqual(runFakePortCommand(arguments: ["port", "--bogus"]), 64)
    }

    // MARK: - Helpers

    /// Logs in and creates `team` (with entity `team-1`) and `service` (url/language properties,
    /// `owner` → team, `dependsOn` → service many).
    private func setUpServiceBlueprints() throws {
        try client.login()
        try port.createBlueprint(["identifier": "team", "title": "Team", "schema": ["properties": [:]]])
        try port.createBlueprint([
            "identifier": "service", "title": "Service",
            "schema": ["properties": [
                "url": ["type": "string", "format": "url"],
                "language": ["type": "string", "enum": ["swift", "go", "rust"]],
            ]],
            "relations": [
                "owner": ["target": "team", "required": false, "many": false],
                "dependsOn": ["target": "service", "required": false, "many": true],
            ],
        ])
        try port.upsertEntity(blueprint: "team", ["identifier": "team-1", "title": "Team 1"])
    }
}

/// A tiny HTTP client over /usr/bin/curl, so the fake is exercised over real sockets.
final class CurlClient {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        var curlExitCode: Int32
        var json: FakeJSON? { try? FakeJSON.parse([UInt8](body)) }
    }

    let baseURL: String
    var token: String?
    var userAgent = "fake-port-tests/1.0"

    init(baseURL: String) {
        self.baseURL = baseURL
    }

    func login(id: String = "ci-client", secret: String = "ci-secret") throws {
        let response = try send("POST", "/v1/auth/access_token", json: ["clientId": .string(id), "clientSecret": .string(secret)])
        token = response.json?["accessToken"]?.stringValue
        XCTAssertNotNil(token, "login failed: \(response.status)")
    }

    func send(_ method: String, _ path: String, json: FakeJSON? = nil, raw: Data? = nil) throws -> Response {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fakeport-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let headerFile = directory.appendingPathComponent("headers")
        let bodyFile = directory.appendingPathComponent("body")
        let requestFile = directory.appendingPathComponent("request")

        var arguments = [
            "-s", "--path-as-is", "-X", method, "-D", headerFile.path, "-o", bodyFile.path, "-w", "%{http_code}",
            "-A", userAgent, "-H", "Expect:", "--max-time", "20",
        ]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let payload = raw ?? json.map({ Data(FakeJSON.bytes($0)) }) {
            try payload.write(to: requestFile)
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@\(requestFile.path)"]
        }
        arguments.append(baseURL + path)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let written = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()

        let status = Int(String(decoding: written, as: UTF8.self)) ?? 0
        var headers: [String: String] = [:]
        let headerText = (try? String(contentsOf: headerFile, encoding: .utf8)) ?? ""
        for line in headerText.components(separatedBy: "\r\n") {
            if line.hasPrefix("HTTP/") { headers = [:] }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = (try? Data(contentsOf: bodyFile)) ?? Data()
        return Response(status: status, headers: headers, body: body, curlExitCode: process.terminationStatus)
    }
}
