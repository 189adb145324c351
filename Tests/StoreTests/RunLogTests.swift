@testable import Store
import XCTest

/// The typed run log and mapping reads: what Reconcile and the CLI get instead of SQL.
extension MirrorStoreTests {
    func testRowsReadColumnsByName() throws {
        let db = try Database(path: "")
        let row = try XCTUnwrap(try db.row("SELECT 7 AS id, 'partial' AS status, NULL AS error"))
        XCTAssertEqual(row.int("id"), 7)
        XCTAssertEqual(row.string("status"), "partial")
        XCTAssertEqual(row["error"], .null)
        XCTAssertNil(row["missing"], "no such column")
        XCTAssertNil(row.string("missing"))
    }

    func testRunRecordsAreTypedAndFoundByCommandAndStatus() throws {
        let store = try MirrorStore(path: path)
        try sync(store, [try entity("a")])
        try sync(store, [try entity("a")], incomplete: ["component"])
        let verify = try VerificationLog(store: store).beginRun(source: "port")
        XCTAssertEqual(try store.run(id: verify)?.status, .running, "a verify in progress")
        XCTAssertEqual(try store.runs().map(\.status.description), ["running", "partial", "succeeded"])

        XCTAssertEqual(try store.lastRun(of: "sync")?.id, 2)
        XCTAssertEqual(try store.lastRun(of: "sync")?.status, .ended(.partial))
        XCTAssertEqual(try store.lastRun(of: "sync", status: .succeeded)?.id, 1)
        XCTAssertNil(try store.lastRun(of: "sync", status: .failed))

        XCTAssertNil(try store.portReport(ofRun: 2))
        try store.recordPortReport(["skipped": true], run: 2)
        XCTAssertEqual(try store.portReport(ofRun: 2), ["skipped": true])
        try VerificationLog(store: store).finishRun(verify, status: .failed, error: "boom", port: nil)
        XCTAssertEqual(try store.run(id: verify)?.status, .ended(.failed))
    }

    func testMappingSourcesReadChunksOfAllOrOfARunsChanges() throws {
        let store = try MirrorStore(path: path)
        try sync(store, [try entity("a"), try entity("b"), try entity("c")])
        try sync(store, [try entity("a", description: "new"), try entity("b")])  // a updated, c deleted
        let sources = MappingSources(store: store)
        XCTAssertEqual(try sources.count(.all), 2)
        XCTAssertEqual(try sources.count(.changed(run: 2)), 2)
        let all = try sources.chunk(.all, after: nil, limit: 1)
        XCTAssertEqual(all.map(\.ref.description), ["component:default/a"])
        XCTAssertEqual(try sources.chunk(.all, after: all[0].ref, limit: 10).map(\.ref.description), ["component:default/b"])
        let changed = try sources.chunk(.changed(run: 2), after: nil, limit: 10)
        XCTAssertEqual(changed.map(\.ref.description), ["component:default/a", "component:default/c"])
        XCTAssertNotNil(changed[0].body)
        XCTAssertNil(changed[1].body, "a deleted source has no body")
        XCTAssertEqual(try sources.deletedRefs(in: 2).map(\.description), ["component:default/c"])
        XCTAssertEqual(try sources.body(of: XCTUnwrap(EntityRef(parsing: "component:default/a"))), changed[0].body)
        XCTAssertNil(try sources.body(of: XCTUnwrap(EntityRef(parsing: "component:default/c"))))
    }
}
