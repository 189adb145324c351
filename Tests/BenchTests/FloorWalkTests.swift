import FakeServers
import Foundation
@testable import mirrorctl_fakes
import XCTest

/// `mirrorctl-fakes floor` (scripts/bench's baseline) walks exactly the pages a client walks.
final class FloorWalkTests: XCTestCase {
    func testWalksEveryPageOfEachKindAndCountsWhatItReceived() throws {
        let fake = try FakeBackstage(entities: FakeBackstage.generateCatalog(count: 300, seed: 3))
        defer { fake.stop() }
        // 150 components, 45 APIs, 60 users: 3 + 1 + 2 pages of 50.
        let full = try FloorWalk.walk(baseURL: fake.baseURL, kinds: ["component", "API", "user"], pageSize: 50)
        XCTAssertEqual(full.requests, 6)
        XCTAssertEqual(fake.stats.requests, 6)
        XCTAssertEqual(full.bytes, fake.stats.bytesServed)
        XCTAssertEqual(fake.stats.requestsByStatus, [200: 6])

        fake.resetStats()
        let scan = try FloorWalk.walk(baseURL: fake.baseURL, kinds: ["component", "API", "user"], pageSize: 50,
                                      fields: ["kind", "metadata.name", "metadata.etag"])
        XCTAssertEqual(scan.requests, 6)
        XCTAssertLessThan(scan.bytes * 5, full.bytes)

        let fetched = try FloorWalk.fetch(baseURL: fake.baseURL, refs: ["user:default/nobody", "group:default/acme-corp"],
                                          batchSize: 1)
        XCTAssertEqual(fetched.requests, 2)
    }

    func testCursorIsFoundAtThePageTail() {
        let page = Array(#"{"items":[{"d":"\"nextCursor\":\"decoy\""}],"pageInfo":{"nextCursor" : "abc+/="}}"#.utf8)
        XCTAssertEqual(FloorWalk.nextCursor(in: page), "abc+/=")
        XCTAssertNil(FloorWalk.nextCursor(in: Array(#"{"items":[],"pageInfo":{}}"#.utf8)))
    }
}
