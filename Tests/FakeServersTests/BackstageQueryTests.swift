import FakeServers
import Foundation
import XCTest

/// `/entities/by-query`: keyset paging, filters, projection, cursors and the legacy `/entities`.
final class BackstageQueryTests: XCTestCase {
    private static let catalog = FakeBackstage.generateCatalog(count: 1000, seed: 42)
    private var fake: FakeBackstage!
    private var client: CatalogClient!

    override func setUpWithError() throws {
        fake = try FakeBackstage(entities: Self.catalog)
        client = try CatalogClient(fake)
    }

    override func tearDown() {
        fake.stop()
    }

    private func count(_ query: String) throws -> Int {
        let page = try client.get("/entities/by-query?limit=0&\(query)").object()
        return page["totalItems"] as? Int ?? -1
    }

    private func kindCount(_ kind: String) -> Int {
        Self.catalog.filter { $0["kind"]?.stringValue == kind }.count
    }

    func testWalkReturnsEveryEntityOnceInUIDOrder() throws {
        let walk = try client.walk("", limit: 37)
        XCTAssertEqual(walk.items.count, 1000)
        XCTAssertEqual(walk.pages, 28)
        XCTAssertEqual(walk.uids, walk.uids.sorted())
        XCTAssertEqual(Set(walk.uids).count, 1000)
        XCTAssertEqual(Set(walk.totals), [1000])
        let stats = fake.stats
        XCTAssertEqual(stats.requests, 28)
        XCTAssertEqual(stats.requestsByPath["/api/catalog/entities/by-query"], 28)
        XCTAssertGreaterThan(stats.bytesServed, 1_000_000)
    }

    func testLastPageHasNoCursorAndEmptyPageInfo() throws {
        let page = try client.get("/entities/by-query?limit=5000").object()
        XCTAssertEqual((page["items"] as? [Any])?.count, 1000)
        XCTAssertEqual((page["pageInfo"] as? [String: Any])?.count, 0)
    }

    func testDefaultLimitIsConfigurable() throws {
        let items = try client.get("/entities/by-query").object()["items"] as? [Any]
        XCTAssertEqual(items?.count, 20)

        let wide = try FakeBackstage(configuration: .init(defaultLimit: 200), entities: Self.catalog)
        defer { wide.stop() }
        let wideItems = try CatalogClient(wide).get("/entities/by-query").object()["items"] as? [Any]
        XCTAssertEqual(wideItems?.count, 200)
    }

    func testFilterSemantics() throws {
        let components = kindCount("Component")
        let apis = kindCount("API")
        let groups = kindCount("Group")
        XCTAssertEqual(try count("filter=kind=component"), components)
        XCTAssertEqual(try count("filter=KIND=COMPONENT"), components, "keys and values are case-insensitive")
        XCTAssertEqual(try count("filter=kind=api&filter=kind=group"), apis + groups, "separate filters are OR-ed")
        XCTAssertEqual(try count("filter=kind=api,kind=group"), apis + groups, "a key repeated in a set is OR-ed")
        let production = Self.catalog.filter {
            $0["kind"]?.stringValue == "Component" && $0[path: ["spec", "lifecycle"]]?.stringValue == "production"
        }.count
        XCTAssertEqual(try count("filter=kind=component,spec.lifecycle=production"), production, "a set is AND-ed")
        let withSystem = Self.catalog.filter { $0[path: ["spec", "system"]] != nil }.count
        XCTAssertEqual(try count("filter=spec.system"), withSystem, "a bare key means exists")
        XCTAssertEqual(try count("filter=spec.nothing-here=x"), 0, "unknown keys match nothing, no error")

        let tagged = Self.catalog.filter { $0[path: ["metadata", "tags"]]?.arrayValue?.contains("java") == true }.count
        XCTAssertGreaterThan(tagged, 0)
        XCTAssertEqual(try count("filter=metadata.tags=java"), tagged)
        XCTAssertEqual(try count("filter=metadata.tags.java"), tagged)
        XCTAssertEqual(try count("filter=metadata.tags.java=true"), tagged)

        let slug = "metadata.annotations.backstage.io/managed-by-origin-location"
        XCTAssertEqual(try count("filter=\(slug)"), 1000, "keys may contain dots")
        XCTAssertEqual(try count("filter=metadata.namespace=PLATFORM"),
                       Self.catalog.filter { $0[path: ["metadata", "namespace"]] == "platform" }.count)
    }

    func testRelationFilter() throws {
        let group = try XCTUnwrap(Self.catalog.first { entity in
            entity["kind"] == "Group" && (entity["relations"]?.arrayValue ?? []).contains { $0["type"] == "ownerOf" }
        })
        let ref = try XCTUnwrap(SampleEntities.ref(of: group))
        let owned = Self.catalog.filter { entity in
            (entity["relations"]?.arrayValue ?? []).contains { $0["type"] == "ownedBy" && $0["targetRef"]?.stringValue == ref }
        }.count
        XCTAssertGreaterThan(owned, 0)
        XCTAssertEqual(try count("filter=relations.ownedBy=\(ref.uppercased())"), owned)
        XCTAssertEqual(try count("filter=relations.ownedby=\(ref)"), owned)
    }

    func testInvalidFilterIsAnInputError() throws {
        let response = try client.get("/entities/by-query?filter=kind=component,%3Dx")
        XCTAssertEqual(response.status, 400)
        let error = try XCTUnwrap(try response.object()["error"] as? [String: Any])
        XCTAssertEqual(error["name"] as? String, "InputError")
        XCTAssertEqual(error["message"] as? String,
                       "Invalid filter, '=x' is not a valid statement (expected a string on the form a=b or a= or a)")
    }

    func testFilteredWalkKeepsTheFilterInTheCursor() throws {
        let walk = try client.walk("filter=kind=user", limit: 50)
        XCTAssertEqual(walk.items.count, kindCount("User"))
        XCTAssertTrue(walk.items.allSatisfy { $0["kind"] as? String == "User" })
        XCTAssertEqual(walk.uids, walk.uids.sorted())

        // A filter sent next to a cursor is ignored: the cursor's filter wins.
        let first = try client.get("/entities/by-query?limit=10&filter=kind=user").object()
        let cursor = try XCTUnwrap((first["pageInfo"] as? [String: Any])?["nextCursor"] as? String)
        let second = try client.get("/entities/by-query?limit=10&filter=kind=api&cursor=\(CatalogClient.escape(cursor))").object()
        let kinds = Set((second["items"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
        XCTAssertEqual(kinds, ["User"])
    }

    func testTotalItemsIsComputedOnceAndCanBeExcluded() throws {
        let first = try client.get("/entities/by-query?limit=10&filter=kind=group").object()
        XCTAssertEqual(first["totalItems"] as? Int, kindCount("Group"))
        let cursor = try XCTUnwrap((first["pageInfo"] as? [String: Any])?["nextCursor"] as? String)
        try fake.upsert(SampleEntities.group("late-group"))
        let second = try client.get("/entities/by-query?limit=10&cursor=\(CatalogClient.escape(cursor))").object()
        XCTAssertEqual(second["totalItems"] as? Int, kindCount("Group"), "stale total from the cursor")

        let excluded = try client.get("/entities/by-query?limit=3&totalItems=exclude").object()
        XCTAssertEqual(excluded["totalItems"] as? Int, 0)
        XCTAssertEqual((excluded["items"] as? [Any])?.count, 3)
    }

    func testMalformedCursorIsAnInputError() throws {
        for bad in ["%%%", "bm90IGpzb24=", "e30="] {
            let response = try client.get("/entities/by-query?cursor=\(bad)")
            XCTAssertEqual(response.status, 400, bad)
            let error = try response.object()["error"] as? [String: Any]
            XCTAssertEqual(error?["name"] as? String, "InputError")
            XCTAssertTrue((error?["message"] as? String ?? "").hasPrefix("Malformed cursor: "), bad)
        }
        XCTAssertEqual(try client.get("/entities/by-query?limit=x").status, 400)
        XCTAssertEqual(try client.get("/entities/by-query?limit=-1").status, 400)
        XCTAssertEqual(try client.get("/entities/by-query?totalItems=maybe").status, 400)
        XCTAssertEqual(try client.get("/entities/by-query?orderField=metadata.name,asc").status, 400, "not faked: loud")
    }

    func testFieldsProjection() throws {
        let page = try client.get("/entities/by-query?limit=5&fields=kind,metadata.name,metadata.annotations").object()
        let items = try XCTUnwrap(page["items"] as? [[String: Any]])
        XCTAssertEqual(items.count, 5)
        for item in items {
            XCTAssertEqual(Set(item.keys), ["kind", "metadata"])
            XCTAssertEqual(Set((item["metadata"] as? [String: Any] ?? [:]).keys), ["name", "annotations"])
        }
        let bad = try client.get("/entities/by-query?fields=relations[0]")
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual((try bad.object()["error"] as? [String: Any])?["message"] as? String,
                       "invalid fields, array type fields are not supported")
    }

    func testOffsetAppliesToTheFirstRequestOnly() throws {
        let all = try client.walk("", limit: 1000)
        let page = try client.get("/entities/by-query?limit=10&offset=5").object()
        let uids = (page["items"] as? [[String: Any]] ?? []).compactMap { ($0["metadata"] as? [String: Any])?["uid"] as? String }
        XCTAssertEqual(uids, Array(all.uids[5..<15]))
    }

    func testLegacyEntitiesEndpoint() throws {
        let all = try client.get("/entities?filter=kind=domain")
        XCTAssertEqual((try all.json() as? [Any])?.count, kindCount("Domain"))

        let paged = try client.get("/entities?limit=300")
        XCTAssertEqual((try paged.json() as? [Any])?.count, 300)
        let link = try XCTUnwrap(paged.headers["link"])
        XCTAssertTrue(link.hasPrefix("</entities?"), link)
        XCTAssertTrue(link.hasSuffix(">; rel=\"next\""), link)
        XCTAssertEqual(try client.get("/entities?limit=0").status, 400)
    }

    func testUnknownRouteIsAnEmpty404() throws {
        let response = try client.get("/nope")
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.body.count, 0)
    }
}
