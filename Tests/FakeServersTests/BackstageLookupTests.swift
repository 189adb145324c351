import FakeServers
import Foundation
import XCTest

/// by-refs, by-name and by-uid, and the auth barrier in front of them.
final class BackstageLookupTests: XCTestCase {
    private var fake: FakeBackstage!

    override func setUpWithError() throws {
        fake = try FakeBackstage(entities: [
            SampleEntities.component("Alpha", uid: SampleEntities.uid(1)),
            SampleEntities.component("beta", uid: SampleEntities.uid(2)),
            SampleEntities.group("team-a", uid: SampleEntities.uid(3)),
        ])
    }

    override func tearDown() {
        fake.stop()
    }

    private func names(_ items: [Any]) -> [String?] {
        items.map { (($0 as? [String: Any])?["metadata"] as? [String: Any])?["name"] as? String }
    }

    func testByRefsKeepsOrderWithNullsAndMatchesVerbatim() throws {
        let client = try CatalogClient(fake)
        let body = #"{"entityRefs":["component:default/beta","component:default/missing","component:default/alpha","Component:default/beta","beta","group:default/team-a"]}"#
        let response = try client.post("/entities/by-refs", json: body)
        XCTAssertEqual(response.status, 200)
        let items = try XCTUnwrap(try response.object()["items"] as? [Any])
        XCTAssertEqual(names(items), ["beta", nil, "Alpha", nil, nil, "team-a"])

        let projected = try client.post("/entities/by-refs", json: #"{"entityRefs":["component:default/alpha"],"fields":["metadata.name"]}"#)
        XCTAssertEqual(projected.text, #"{"items":[{"metadata":{"name":"Alpha"}}]}"#)

        let filtered = try client.post("/entities/by-refs?filter=kind=group",
                                       json: #"{"entityRefs":["component:default/alpha","group:default/team-a"]}"#)
        XCTAssertEqual(names(try filtered.object()["items"] as? [Any] ?? []), [nil, "team-a"])
    }

    func testByRefsRejectsMalformedBodies() throws {
        let client = try CatalogClient(fake)
        for body in ["not json", #"{"refs":[]}"#, #"{"entityRefs":[1]}"#] {
            let response = try client.post("/entities/by-refs", json: body)
            XCTAssertEqual(response.status, 400, body)
            let error = try response.object()["error"] as? [String: Any]
            XCTAssertEqual(error?["name"] as? String, "InputError")
            XCTAssertTrue((error?["message"] as? String ?? "").hasPrefix("Malformed request body"), body)
        }
    }

    func testByNameIsCaseInsensitiveAndByUIDExact() throws {
        let client = try CatalogClient(fake)
        let byName = try client.get("/entities/by-name/COMPONENT/Default/alpha")
        XCTAssertEqual(byName.status, 200)
        XCTAssertEqual((try byName.object()["metadata"] as? [String: Any])?["uid"] as? String, SampleEntities.uid(1))

        let missing = try client.get("/entities/by-name/component/default/Gamma")
        XCTAssertEqual(missing.status, 404)
        let error = try XCTUnwrap(try missing.object()["error"] as? [String: Any])
        XCTAssertEqual(error["name"] as? String, "NotFoundError")
        XCTAssertEqual(error["message"] as? String, "No entity named 'Gamma' found, with kind 'component' in namespace 'default'")

        XCTAssertEqual(try client.get("/entities/by-uid/\(SampleEntities.uid(3))").status, 200)
        let noUID = try client.get("/entities/by-uid/nope")
        XCTAssertEqual(noUID.status, 404)
        XCTAssertEqual((try noUID.object()["error"] as? [String: Any])?["message"] as? String, "No entity with uid nope")
    }

    func testStaticTokenAuth() throws {
        var configuration = FakeBackstage.Configuration(tokens: ["s3cret-token"])
        configuration.restrictedTokens = ["scaffolder-only"]
        let secured = try FakeBackstage(configuration: configuration, entities: [SampleEntities.group("g")])
        defer { secured.stop() }

        let anonymous = try CatalogClient(secured).get("/entities/by-query?limit=1")
        XCTAssertEqual(anonymous.status, 401)
        let expected: NSDictionary = [
            "error": ["name": "AuthenticationError", "message": "Missing credentials"],
            "request": ["method": "GET", "url": "/entities/by-query?limit=1"],
            "response": ["statusCode": 401],
        ]
        XCTAssertEqual(try anonymous.json() as? NSDictionary, expected)

        let wrong = try CatalogClient(secured, token: "other-token").get("/entities/by-query")
        XCTAssertEqual(wrong.status, 401)
        XCTAssertEqual((try wrong.object()["error"] as? [String: Any])?["message"] as? String, "Illegal token")

        let basic = try CatalogClient(secured).get("/entities/by-query", headers: ["Authorization": "Basic abc"])
        XCTAssertEqual((try basic.object()["error"] as? [String: Any])?["message"] as? String, "Missing credentials")

        let restricted = try CatalogClient(secured, token: "scaffolder-only").get("/entities/by-query")
        XCTAssertEqual(restricted.status, 403)
        XCTAssertEqual((try restricted.object()["error"] as? [String: Any])?["name"] as? String, "NotAllowedError")

        XCTAssertEqual(try CatalogClient(secured, token: "s3cret-token").get("/entities/by-query").status, 200)
        let lower = try CatalogClient(secured).get("/entities/by-query", headers: ["Authorization": "bearer   s3cret-token"])
        XCTAssertEqual(lower.status, 200)

        let byRefs = try CatalogClient(secured).post("/entities/by-refs", json: #"{"entityRefs":[]}"#)
        XCTAssertEqual(byRefs.status, 401)
        XCTAssertEqual((try byRefs.object()["request"] as? [String: Any])?["method"] as? String, "POST")
    }
}
