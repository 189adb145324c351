import FakeServers
import Foundation
import Store
import XCTest

/// `--timeout` bounds a whole run (walk and push) and `--max-retries` bounds each request's retries.
final class RunLimitsEndToEndTests: PortBackedCase {
    func testATimedOutKindIsIncompleteWithTheReasonAndDeletesNothing() throws {
        assertStatus(try mirrorctl(["sync", "--kind", "group", "--kind", "user"]), 0)
        let user = try XCTUnwrap(backstage.allEntities.first { $0["kind"] == "User" }.flatMap(EntityRef.init(entity:)))
        XCTAssertTrue(backstage.delete(user))
        backstage.injectFault(.delay(1, times: 100_000, matching: .kind("user")))

        let started = Date()
        let result = try mirrorctl(["sync", "--kind", "group", "--kind", "user", "--full", "--page-size", "2",
                                    "--concurrency", "1", "--timeout", "2s", "--json"], timeout: 30)
        let elapsed = Date().timeIntervalSince(started)
        assertStatus(result, 3)
        XCTAssertEqual(result.json?["status"], "partial")
        XCTAssertEqual(result.json?["error"], "user: run timeout (2s) reached")
        XCTAssertTrue(result.stderr.contains("kind user incomplete, no deletes for it: run timeout (2s) reached"), result.stderr)
        XCTAssertGreaterThan(elapsed, 1.9)
        XCTAssertLessThan(elapsed, 6, "the run stops at its deadline, not when the walk would have ended")
        XCTAssertEqual(result.json?[path: ["source", "deleted"]], 0)
        assertStatus(try mirrorctl(["show", user.description]), 0)
        let runs = try mirrorctl(["runs", "--json"])
        XCTAssertEqual(runs.json?.arrayValue?.first?["error"], "user: run timeout (2s) reached")

        // Every kind timed out: the run failed; a plain number is seconds. diff obeys it too.
        let failed = try mirrorctl(["sync", "--kind", "user", "--full", "--page-size", "3", "--timeout", "1", "--json"], timeout: 30)
        assertStatus(failed, 1)
        XCTAssertEqual(failed.json?["error"], "user: run timeout (1s) reached")
        let diff = try mirrorctl(["diff", "--kind", "user", "--full", "--page-size", "3", "--timeout", "1s"], timeout: 30)
        assertStatus(diff, 1)
        XCTAssertTrue(diff.stderr.contains("run timeout (1s) reached"), diff.stderr)

        backstage.clearFaults()
        let healed = try mirrorctl(["sync", "--kind", "group", "--kind", "user", "--timeout", "5m", "--json"])
        assertStatus(healed, 0)
        XCTAssertEqual(healed.json?[path: ["source", "deleted"]], 1)
    }

    func testAPushCutShortByTheTimeoutLeavesTheRestPendingAndThePartialRunSaysWhy() throws {
        port.injectFault(FakePortFault(method: "POST", pathContains: "/entities/bulk", count: 1_000, action: .delay(seconds: 4)))
        let started = Date()
        let result = try mirrorctl(["sync", "--timeout", "3s", "--json"], timeout: 30)
        assertStatus(result, 3)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertEqual(result.json?["status"], "partial")
        let error = try XCTUnwrap(result.json?["error"]?.stringValue)
        XCTAssertTrue(error.hasPrefix("run timeout (3s) reached during the Port push: "), error)
        XCTAssertGreaterThan(result.json?[path: ["port", "pending"]]?.numberValue ?? 0, 0)
        let runs = try mirrorctl(["runs", "--json"])
        XCTAssertEqual(runs.json?.arrayValue?.first?["status"], "partial")
        XCTAssertEqual(runs.json?.arrayValue?.first?["error"]?.stringValue, error)

        // The next run sends what is pending (upserts are idempotent) and ends clean.
        port.clearFaults()
        let next = try mirrorctl(["sync", "--json"])
        assertStatus(next, 0)
        XCTAssertEqual(next.json?[path: ["port", "pending"]], 0)
        XCTAssertEqual(next.json?[path: ["port", "failed"]], 0)
    }

    func testMaxRetriesBoundsTheRetriesOfEachRequest() throws {
        for (retries, requests) in [(0, 1), (2, 3)] {
            backstage.resetStats()
            backstage.clearFaults()
            backstage.injectFault(.status(503, times: 10))
            let result = try mirrorctl(["sync", "--kind", "group", "--max-retries", String(retries), "--json"])
            assertStatus(result, 1)
            XCTAssertEqual(backstage.stats.requests, requests, "--max-retries \(retries)")
            XCTAssertTrue(result.stderr.contains("gave up after \(requests) attempt"), result.stderr)
        }
        // The default still retries: two failures, then the page.
        backstage.resetStats()
        backstage.clearFaults()
        backstage.injectFault(.status(503, times: 2))
        assertStatus(try mirrorctl(["sync", "--kind", "group"]), 0)
        XCTAssertEqual(backstage.stats.requests, 3)
    }

    func testBadLimitsAreUsageErrorsNamingTheOption() throws {
        for (arguments, message) in [(["--timeout", "soon"], "--timeout must be a duration"),
                                     (["--timeout", "0"], "--timeout must be a duration"),
                                     (["--max-retries", "-1"], "--max-retries must be a whole number"),
                                     (["--max-retries", "1000"], "--max-retries must be a whole number")] {
            let result = try mirrorctl(["sync"] + arguments)
            assertStatus(result, 2)
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        XCTAssertTrue(try mirrorctl(["diff", "--help"]).stdout.contains("--timeout DURATION"))
        XCTAssertFalse(try mirrorctl(["diff", "--help"]).stdout.contains("\n  --wait"), "diff never waits for the lock")
        XCTAssertTrue(try mirrorctl(["sync", "--help"]).stdout.contains("\n  --wait"))
    }
}
