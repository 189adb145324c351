import FakeServers
import Foundation
import XCTest

/// Injected faults: statuses, page-triggered failures, broken bodies, closed connections.
final class BackstageFaultTests: XCTestCase {
    private var fake: FakeBackstage!

    override func setUpWithError() throws {
        fake = try FakeBackstage(entities: FakeBackstage.generateCatalog(count: 300, seed: 9))
    }

    override func tearDown() {
        fake.stop()
    }

    func testTooManyRequestsWithRetryAfterThenRecovery() throws {
        fake.injectFault(.status(429, retryAfter: 7, times: 2, matching: .path("by-query")))
        let client = try CatalogClient(fake)
        XCTAssertEqual(try client.get("/entities/by-refs").status, 404, "other paths are not affected")
        for _ in 0..<2 {
            let limited = try client.get("/entities/by-query?limit=1")
            XCTAssertEqual(limited.status, 429)
            XCTAssertEqual(limited.headers["retry-after"], "7")
            let body = try limited.object()
            XCTAssertEqual((body["response"] as? [String: Any])?["statusCode"] as? Int, 429)
            XCTAssertNotNil((body["error"] as? [String: Any])?["message"] as? String)
        }
        XCTAssertEqual(try client.get("/entities/by-query?limit=1").status, 200)
        XCTAssertEqual(fake.stats.requestsByStatus[429], 2)
    }

    func testStatusesCarryBackstageErrorNames() throws {
        let client = try CatalogClient(fake)
        for (status, name) in [(500, "Error"), (503, "ServiceUnavailableError"), (403, "NotAllowedError"), (408, "Error")] {
            fake.injectFault(.status(status))
            let response = try client.get("/entities/by-query")
            XCTAssertEqual(response.status, status)
            XCTAssertEqual((try response.object()["error"] as? [String: Any])?["name"] as? String, name)
        }
    }

    func testFailAfterPageBreaksEveryLaterPageOfThatKind() throws {
        fake.injectFault(.failAfterPage(2, status: 503, kind: "component"))
        let client = try CatalogClient(fake)
        XCTAssertThrowsError(try client.walk("filter=kind=component", limit: 10)) { error in
            XCTAssertTrue("\(error)".contains("page 3 answered 503"), "\(error)")
        }
        // Retrying the failed page fails again; a walk of another kind is unaffected.
        XCTAssertThrowsError(try client.walk("filter=kind=component", limit: 10))
        XCTAssertNoThrow(try client.walk("filter=kind=user", limit: 10))
        fake.clearFaults()
        XCTAssertNoThrow(try client.walk("filter=kind=component", limit: 10))
    }

    func testTruncatedBodyClosesTheConnection() throws {
        fake.injectFault(.truncatedBody(bytes: 50))
        let response = try RawHTTPClient(port: fake.port).request("GET", "/api/catalog/entities/by-query?limit=5")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, 50)
        XCTAssertFalse(response.complete)
        XCTAssertGreaterThan(Int(response.headers["content-length"] ?? "") ?? 0, 50)
    }

    func testNonJSONProxyPage() throws {
        fake.injectFault(.nonJSON(status: 502))
        let response = try CatalogClient(fake).get("/entities/by-query")
        XCTAssertEqual(response.status, 502)
        XCTAssertEqual(response.headers["content-type"], "text/html")
        XCTAssertTrue(response.text.contains("502 Bad Gateway"))
    }

    func testClosedConnectionAndDelay() throws {
        fake.injectFault(.closeConnection(matching: RequestMatcher(method: "POST")))
        XCTAssertEqual(try CatalogClient(fake).get("/entities/by-query?limit=1").status, 200)
        XCTAssertThrowsError(try CatalogClient(fake).post("/entities/by-refs", json: #"{"entityRefs":[]}"#))
        XCTAssertEqual(try CatalogClient(fake).post("/entities/by-refs", json: #"{"entityRefs":[]}"#).status, 200)

        fake.injectFault(.delay(0.3))
        let started = Date()
        XCTAssertEqual(try CatalogClient(fake).get("/entities/by-query?limit=1").status, 200)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.29)
    }
}

/// Mutations between pages, uid and etag semantics.
final class BackstageMutationTests: XCTestCase {
    func testUpsertKeepsUIDAndChangesEtagOnlyWithContent() throws {
        let fake = try FakeBackstage(configuration: .init(), entities: [SampleEntities.component("svc")])
        defer { fake.stop() }
        let ref = "component:default/svc"
        let original = try XCTUnwrap(fake.entity(ref))
        let uid = try XCTUnwrap(original[path: ["metadata", "uid"]]?.stringValue)
        let etag = try XCTUnwrap(original[path: ["metadata", "etag"]]?.stringValue)
        XCTAssertEqual(uid.count, 36)
        XCTAssertEqual(Array(uid)[14], "4", "a v4 uid")

        let same = try fake.upsert(SampleEntities.component("svc"))
        XCTAssertEqual(same[path: ["metadata", "etag"]]?.stringValue, etag)
        XCTAssertEqual(same[path: ["metadata", "uid"]]?.stringValue, uid)

        let changed = try fake.upsert(SampleEntities.component("svc", lifecycle: "deprecated"))
        XCTAssertEqual(changed[path: ["metadata", "uid"]]?.stringValue, uid)
        XCTAssertNotEqual(changed[path: ["metadata", "etag"]]?.stringValue, etag)
        XCTAssertEqual(changed[path: ["metadata", "etag"]]?.stringValue,
                       try SampleEntities.etag(of: SampleEntities.component("svc", lifecycle: "deprecated")))

        let recreated = try XCTUnwrap(fake.recreate(ref))
        XCTAssertNotEqual(recreated[path: ["metadata", "uid"]]?.stringValue, uid)
        XCTAssertEqual(recreated[path: ["metadata", "etag"]], changed[path: ["metadata", "etag"]])
        XCTAssertEqual(fake.entityCount, 1)

        let byUID = try CatalogClient(fake).get("/entities/by-uid/\(uid)")
        XCTAssertEqual(byUID.status, 404, "the old uid is gone")
        XCTAssertTrue(fake.delete(ref))
        XCTAssertFalse(fake.delete(ref))
        XCTAssertNil(fake.entity(ref))
        XCTAssertThrowsError(try fake.upsert(["kind": "Component"]))
    }

    func testMidWalkChangesFollowKeysetSemantics() throws {
        // uids 10, 20, …, 100: pages of 3 are [10,20,30] [40,50,60] [70,80,90] [100].
        let entities = (1...10).map { SampleEntities.component("c\($0)", uid: SampleEntities.uid($0 * 10)) }
        let fake = try FakeBackstage(entities: entities)
        defer { fake.stop() }
        fake.onPage(2) { fake in
            // Inserted behind the cursor: never seen. Inserted ahead: seen.
            _ = try? fake.upsert(SampleEntities.component("early", uid: SampleEntities.uid(5)))
            _ = try? fake.upsert(SampleEntities.component("late", uid: SampleEntities.uid(95)))
            // c1 (already served) deleted and re-created with a uid ahead: served twice.
            fake.delete("component:default/c1")
            _ = try? fake.upsert(SampleEntities.component("c1", uid: SampleEntities.uid(99)))
            // c8 (not yet served) deleted: never seen.
            fake.delete("component:default/c8")
        }
        let walk = try CatalogClient(fake).walk("filter=kind=component", limit: 3)
        XCTAssertEqual(walk.refs.map { $0.replacingOccurrences(of: "component:default/", with: "") },
                       ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c9", "late", "c1", "c10"])
        XCTAssertEqual(Set(walk.totals), [10], "totalItems is the first page's count")

        // The hook was one-shot.
        let again = try CatalogClient(fake).walk("", limit: 3)
        XCTAssertEqual(again.items.count, 11)
    }

    func testMutateDescriptionsChangesEtags() throws {
        let fake = try FakeBackstage(entities: FakeBackstage.generateCatalog(count: 200, seed: 3))
        defer { fake.stop() }
        let before = Dictionary(uniqueKeysWithValues: fake.allEntities.map {
            ($0[path: ["metadata", "uid"]]?.stringValue ?? "", $0[path: ["metadata", "etag"]]?.stringValue ?? "")
        })
        XCTAssertEqual(fake.mutateDescriptions(percent: 10, seed: 5), 20)
        let after = fake.allEntities
        XCTAssertEqual(after.count, 200)
        let changed = after.filter { before[$0[path: ["metadata", "uid"]]?.stringValue ?? ""] != $0[path: ["metadata", "etag"]]?.stringValue }
        XCTAssertEqual(changed.count, 20, "uids kept, etags changed")
    }
}
