import FakeServers
import Foundation
@testable import Store
import XCTest

/// The etag-first walk: a no-change sync reads refs, uids and etags only; changed entities are
/// fetched by ref; a full walk backs it up when asked, when stale, or when the server can't scan.
final class IncrementalWalkTests: EndToEndCase {
    var backstage: FakeBackstage!

    override func setUpWithError() throws {
        try super.setUpWithError()
        backstage = try FakeBackstage(entities: FakeBackstage.generateCatalog(count: 400, seed: 5))
        environment["BACKSTAGE_URL"] = backstage.baseURL
    }

    override func tearDownWithError() throws {
        backstage.stop()
        try super.tearDownWithError()
    }

    func count(_ result: CommandResult, _ key: String) -> Int? {
        result.json?[path: ["source", key]]?.numberValue.map(Int.init)
    }

    func modes() throws -> [String: String] {
        let store = try MirrorStore(path: databasePath, readOnly: true)
        let rows = try store.db.rows("SELECT kind, mode FROM run_kinds WHERE run_id = (SELECT max(id) FROM runs)")
        return Dictionary(uniqueKeysWithValues: rows.compactMap { row in row.string(0).flatMap { kind in row.string(1).map { (kind, $0) } } })
    }

    func edit(_ entity: FakeJSON, description: String) throws {
        guard case .object(var body) = entity, case .object(var metadata) = body["metadata"] else { return XCTFail("not an entity") }
        metadata["description"] = .string(description)
        body["metadata"] = .object(metadata)
        try backstage.upsert(.object(body))
    }

    func testNoChangeSyncScansAndDownloadsATenthOfTheBytes() throws {
        backstage.resetStats()
        let first = try mirrorctl(["sync", "--json"])
        assertStatus(first, 0)
        let fullBytes = backstage.stats.bytesServed
        XCTAssertEqual(Set(try modes().values), ["full"])

        backstage.resetStats()
        let second = try mirrorctl(["sync", "--json"])
        assertStatus(second, 0)
        XCTAssertEqual(count(second, "unchanged"), 400)
        XCTAssertEqual(Set(try modes().values), ["scan"])
        XCTAssertLessThan(backstage.stats.bytesServed * 10, fullBytes, "a no-change sync reads at most 10% of the full bytes")
        XCTAssertNil(backstage.stats.requestsByPath.first { $0.key.contains("by-refs") }, "nothing changed: no body fetched")
    }

    func testChangedCreatedAndDeletedEntitiesAreFoundByTheScan() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let entities = backstage.allEntities
        try edit(entities[0], description: "edited")
        let deleted = try XCTUnwrap(EntityRef(entity: entities[1]))
        XCTAssertTrue(backstage.delete(deleted))
        try backstage.upsert(["apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                              "metadata": ["name": "fresh-one", "namespace": "default"], "spec": ["type": "service"]])
        backstage.resetStats()
        let sync = try mirrorctl(["sync", "--json"])
        assertStatus(sync, 0)
        XCTAssertEqual(count(sync, "updated"), 1)
        XCTAssertEqual(count(sync, "created"), 1)
        XCTAssertEqual(count(sync, "deleted"), 1)
        XCTAssertEqual(backstage.stats.requestsByPath.filter { $0.key.contains("by-refs") }.map(\.value).reduce(0, +), 1)
        let show = try mirrorctl(["show", try XCTUnwrap(EntityRef(entity: entities[0])).description, "--json"])
        XCTAssertEqual(show.json?[path: ["entity", "metadata", "description"]], "edited")
    }

    func testAnEtagThatDidNotChangeIsCaughtByTheNextFullWalk() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        // A misbehaving server: the content changes, the etag doesn't.
        let entity = backstage.allEntities[3]
        guard case .object(var body) = entity, case .object(var metadata) = body["metadata"] else { return XCTFail() }
        metadata["description"] = "changed behind an old etag"
        body["metadata"] = .object(metadata)
        // Re-added with its old uid and etag: `load` keeps both for a ref it doesn't hold.
        XCTAssertTrue(backstage.delete(try XCTUnwrap(EntityRef(entity: entity))))
        try backstage.load([.object(body)])
        let scan = try mirrorctl(["sync", "--json"])
        XCTAssertEqual(count(scan, "updated"), 0, "the scan trusts the etag")
        let full = try mirrorctl(["sync", "--full", "--json"])
        XCTAssertEqual(count(full, "updated"), 1, "--full verifies every body by content hash")
        XCTAssertEqual(Set(try modes().values), ["full"])
        try edit(backstage.allEntities[4], description: "again")
        let stale = try mirrorctl(["sync", "--full-every", "0", "--json"])
        XCTAssertEqual(Set(try modes().values), ["full"], "a full walk older than --full-every hours forces a full walk")
        XCTAssertEqual(count(stale, "updated"), 1)
    }

    func testServersThatRejectProjectionOrByRefsFallBackToFullWalks() throws {
        assertStatus(try mirrorctl(["sync", "--kind", "component"]), 0)
        backstage.injectFault(.status(400, times: 1_000, matching: RequestMatcher(queryParameter: "fields")))
        try edit(backstage.allEntities.first { $0["kind"] == "Component" } ?? .null, description: "x")
        var result = try mirrorctl(["sync", "--kind", "component", "--json"])
        assertStatus(result, 0)
        XCTAssertEqual(count(result, "updated"), 1)
        XCTAssertTrue(result.stderr.contains("rejected the etag-first scan"), result.stderr)
        XCTAssertEqual(try modes()["component"], "full")

        backstage.clearFaults()
        backstage.injectFault(.status(404, times: 1_000, matching: .path("by-refs")))
        try edit(backstage.allEntities.first { $0["kind"] == "Component" } ?? .null, description: "y")
        result = try mirrorctl(["sync", "--kind", "component", "--json"])
        assertStatus(result, 0)
        XCTAssertEqual(count(result, "updated"), 1)
        XCTAssertTrue(result.stderr.contains("walking full bodies instead"), result.stderr)
    }

    func testLocalFolderSourcesAlwaysWalkFully() throws {
        let url = "file:" + EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog").path
        assertStatus(try mirrorctl(["sync", "--backstage-url", url]), 0)
        assertStatus(try mirrorctl(["sync", "--backstage-url", url]), 0)
        XCTAssertEqual(Set(try modes().values), ["full"])
    }
}
