import FakeServers
import Foundation
@testable import Store
import XCTest

/// `sync`, `diff`, `runs`, `history` and `show` against a fake Backstage, driven through the binary.
final class MirrorEndToEndTests: EndToEndCase {
    var backstage: FakeBackstage!

    override func setUpWithError() throws {
        try super.setUpWithError()
        backstage = try FakeBackstage(configuration: FakeBackstage.Configuration(tokens: ["s3cret-backstage-token"]),
                                      entities: FakeBackstage.generateCatalog(count: 300, seed: 7))
        environment["BACKSTAGE_URL"] = backstage.baseURL
        environment["BACKSTAGE_TOKEN"] = "s3cret-backstage-token"
    }

    override func tearDownWithError() throws {
        backstage.stop()
        try super.tearDownWithError()
    }

    func source(_ result: CommandResult) -> JSONValue? { result.json?["source"] }

    func count(_ result: CommandResult, _ key: String) -> Int? { source(result)?[key]?.numberValue.map(Int.init) }

    func testExampleCatalogQuickStart() throws {
        let url = "file:" + EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog").path
        let first = try mirrorctl(["sync", "--backstage-url", url, "--json"])
        assertStatus(first, 0)
        XCTAssertGreaterThan(count(first, "created") ?? 0, 20)
        XCTAssertEqual(count(first, "created"), count(first, "fetched"))
        let second = try mirrorctl(["sync", "--backstage-url", url, "--json"])
        assertStatus(second, 0)
        XCTAssertEqual(count(second, "unchanged"), count(first, "fetched"))
        XCTAssertEqual(second.json?["run"], 2)
    }

    func testPagingFirstSyncThenNoChangeThenEveryKindOfChange() throws {
        let first = try mirrorctl(["sync", "--page-size", "7", "--json"])
        assertStatus(first, 0)
        XCTAssertEqual(count(first, "created"), 300)
        XCTAssertEqual(first.json?["status"], "succeeded")
        XCTAssertGreaterThan(backstage.stats.requests, 300 / 7)

        let second = try mirrorctl(["sync", "--page-size", "50", "--json"])
        XCTAssertEqual(count(second, "unchanged"), 300)
        XCTAssertEqual(count(second, "created"), 0)

        // Update one, delete one, add one.
        let all = backstage.allEntities.filter { $0["kind"]?.stringValue == "Component" }
        let updated = try XCTUnwrap(EntityRef(entity: all[0]))
        let deleted = try XCTUnwrap(EntityRef(entity: all[1]))
        guard case .object(var entity) = all[0], case .object(var metadata) = entity["metadata"] else { return XCTFail() }
        metadata["description"] = "changed by the test"
        entity["metadata"] = .object(metadata)
        try backstage.upsert(.object(entity))
        XCTAssertTrue(backstage.delete(deleted))
        try backstage.upsert(["apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                              "metadata": ["name": "brand-new", "namespace": "default"],
                              "spec": ["type": "service", "lifecycle": "production", "owner": "group:default/nobody"]])

        // diff shows it and writes nothing.
        let before = try Data(contentsOf: URL(fileURLWithPath: databasePath))
        let diff = try mirrorctl(["diff", "--json"])
        assertStatus(diff, 0)
        let changes: [JSONValue] = (diff.json?["changes"]?.arrayValue ?? []).map { ["ref": $0["ref"] ?? .null, "change": $0["change"] ?? .null] }
        XCTAssertTrue(changes.contains(["ref": .string(updated.description), "change": "updated"]), "\(changes)")
        XCTAssertTrue(changes.contains(["ref": .string(deleted.description), "change": "deleted"]))
        XCTAssertTrue(changes.contains(["ref": "component:default/brand-new", "change": "created"]))
        XCTAssertEqual(diff.json?["run"], .null)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: databasePath)), before, "diff must not write")
        let runsAfterDiff = try mirrorctl(["runs", "--json"])
        XCTAssertEqual(runsAfterDiff.json?.arrayValue?.count, 2)

        let third = try mirrorctl(["sync", "--json"])
        XCTAssertEqual(count(third, "updated"), 1)
        XCTAssertEqual(count(third, "deleted"), 1)
        XCTAssertEqual(count(third, "created"), 1)
        XCTAssertEqual(count(third, "unchanged"), 298)

        let history = try mirrorctl(["history", updated.description, "--json"])
        XCTAssertEqual(history.json?.arrayValue?.compactMap { $0["change"]?.stringValue }, ["created", "updated"])
        XCTAssertEqual(history.json?.arrayValue?.compactMap { $0["run"]?.numberValue }, [1, 3])
        let deletedHistory = try mirrorctl(["history", deleted.description, "--json"])
        XCTAssertEqual(deletedHistory.json?.arrayValue?.last?["change"], "deleted")

        // show --at reconstructs the version before the update.
        let old = try mirrorctl(["show", updated.description, "--at", "2", "--json"])
        assertStatus(old, 0)
        XCTAssertNotEqual(old.json?[path: ["entity", "metadata", "description"]], "changed by the test")
        let now = try mirrorctl(["show", updated.description, "--json"])
        XCTAssertEqual(now.json?[path: ["entity", "metadata", "description"]], "changed by the test")
        XCTAssertNil(now.json?[path: ["entity", "metadata", "etag"]], "the stored form has no etag")
        let gone = try mirrorctl(["show", deleted.description])
        assertStatus(gone, 1)
        XCTAssertTrue(gone.stderr.contains("not in the mirror"))
        assertStatus(try mirrorctl(["show", deleted.description, "--at", "2"]), 0)
    }

    func testMissingAndInvalidTokenFailWithBackstagesMessage() throws {
        var result = try mirrorctl(["sync", "--kind", "component", "--json"], env: ["BACKSTAGE_TOKEN": ""])
        assertStatus(result, 1)
        XCTAssertEqual(result.json?["status"], "failed")
        XCTAssertTrue(result.stderr.contains("401") && result.stderr.contains("Missing credentials"), result.stderr)
        result = try mirrorctl(["sync", "--kind", "component"], env: ["BACKSTAGE_TOKEN": "wrong-token-123"])
        assertStatus(result, 1)
        XCTAssertTrue(result.stderr.contains("Illegal token"), result.stderr)
        XCTAssertFalse(result.stderr.contains("wrong-token-123"), "the token must not be printed")
        // The failed run is recorded, and nothing was mirrored.
        let runs = try mirrorctl(["runs", "--json"])
        XCTAssertEqual(runs.json?.arrayValue?.first?["status"], "failed")
    }

    func testRetryableStatusesAreRetried() throws {
        for status in [408, 429, 502, 503, 504] {
            backstage.resetStats()
            backstage.injectFault(.status(status, retryAfter: status == 429 ? 1 : nil, times: 2))
            let result = try mirrorctl(["sync", "--kind", "group", "--json"])
            assertStatus(result, 0)
            XCTAssertEqual(backstage.stats.requests, 3, "status \(status): two failures, then the page")
        }
    }

    func testNonRetryableStatusesFailTheKindAtOnce() throws {
        for status in [400, 403, 404] {
            backstage.resetStats()
            backstage.injectFault(.status(status, times: 1, matching: .kind("user")))
            let result = try mirrorctl(["sync", "--kind", "group", "--kind", "user", "--json"])
            assertStatus(result, 3)
            XCTAssertEqual(result.json?["status"], "partial")
            XCTAssertTrue(result.stderr.contains("kind user incomplete"), result.stderr)
            XCTAssertTrue(result.stderr.contains("\(status)"), result.stderr)
        }
    }

    func testWalkFailingMidwayDeletesNothingForThatKind() throws {
        assertStatus(try mirrorctl(["sync", "--page-size", "10"]), 0)
        let user = try XCTUnwrap(backstage.allEntities.first { $0["kind"]?.stringValue == "User" }.flatMap(EntityRef.init(entity:)))
        XCTAssertTrue(backstage.delete(user))
        backstage.injectFault(.failAfterPage(2, status: 500, kind: "user"))
        let result = try mirrorctl(["sync", "--page-size", "10", "--json"])
        assertStatus(result, 3)
        XCTAssertEqual(result.json?["status"], "partial")
        XCTAssertEqual(count(result, "deleted"), 0)
        let show = try mirrorctl(["show", user.description])
        assertStatus(show, 0)
        backstage.clearFaults()
        let healed = try mirrorctl(["sync", "--page-size", "10", "--json"])
        assertStatus(healed, 0)
        XCTAssertEqual(count(healed, "deleted"), 1)
    }

    func testBadInputGetsAClearMessageAndExitCode() throws {
        var result = try mirrorctl(["sync", "--backstage-url", "http://127.0.0.1:9", "--kind", "component"])
        assertStatus(result, 1)
        XCTAssertTrue(result.stderr.contains("cannot reach Backstage"), result.stderr)

        backstage.injectFault(.nonJSON(status: 200, times: 1))
        result = try mirrorctl(["sync", "--kind", "component"])
        assertStatus(result, 1)
        XCTAssertTrue(result.stderr.contains("invalid page") && result.stderr.contains("not JSON"), result.stderr)

        result = try mirrorctl(["sync", "--kind", "no such kind"])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("invalid kind 'no such kind'"), result.stderr)

        result = try mirrorctl(["sync", "--kind", "component"], env: ["MIRROR_DB": "/dev/null/mirror.db"])
        assertStatus(result, 4)
        XCTAssertTrue(result.stderr.contains("/dev/null/mirror.db"), result.stderr)

        let corrupt = try writeFile("corrupt.db", String(repeating: "not sqlite at all ", count: 400))
        result = try mirrorctl(["sync", "--kind", "component"], env: ["MIRROR_DB": corrupt])
        assertStatus(result, 4)
        XCTAssertTrue(result.stderr.contains("corrupt.db") && result.stderr.contains("not a usable"), result.stderr)

        result = try mirrorctl(["sync", "--bogus"])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("unknown option '--bogus'"))
        XCTAssertTrue(result.stderr.contains("Usage: mirrorctl sync"))
        assertStatus(try mirrorctl(["history", "not-a-ref"]), 2)
        assertStatus(try mirrorctl(["runs"], env: ["MIRROR_DB": directory.appendingPathComponent("none.db").path]), 4)
        for command in ["sync", "diff", "runs", "history", "show", "blueprints", "init"] {
            let help = try mirrorctl([command, "--help"])
            assertStatus(help, 0)
            XCTAssertTrue(help.stdout.contains("Usage: mirrorctl \(command)"), command)
        }
    }

    func testTruncatedPageIsRetriedThenRecovers() throws {
        backstage.injectFault(.truncatedBody(bytes: 100, times: 1))
        let result = try mirrorctl(["sync", "--kind", "component", "--json"])
        assertStatus(result, 0)
    }

    func testKilledSyncLeavesTheDatabaseAsBefore() throws {
        assertStatus(try mirrorctl(["sync", "--page-size", "20"]), 0)
        for entity in backstage.allEntities.prefix(50) {
            guard case .object(var body) = entity, case .object(var metadata) = body["metadata"] else { continue }
            metadata["description"] = "edited before the kill"
            body["metadata"] = .object(metadata)
            try backstage.upsert(.object(body))
        }
        backstage.injectFault(.delay(0.3, times: 1000))
        let before = try MirrorStore(path: databasePath).loadIndex()
        let process = try startMirrorctl(["sync", "--page-size", "20"])
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertTrue(process.isRunning)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let store = try MirrorStore(path: databasePath)
        XCTAssertEqual(try store.loadIndex().entries, before.entries)
        XCTAssertEqual(try store.runs().count, 1)
        XCTAssertEqual(try store.db.integrityCheck(), "ok")
        backstage.clearFaults()
        let after = try mirrorctl(["sync", "--json"])
        XCTAssertEqual(count(after, "updated"), 50)
    }
}
