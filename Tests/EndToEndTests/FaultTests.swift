import FakeServers
import Foundation
import Store
import XCTest

/// Faults from both servers, end to end. Each run under faults ends `succeeded` (after retries) or
/// says why it is partial or failed; then the faults stop, one more sync runs, and Port must hold
/// exactly what a clean run (fresh database, fresh fake Port, no faults) produces, with the ledger
/// agreeing with Port and a well-formed history.
final class FaultTests: PortBackedCase {
    /// Fault uses injected by this test, for the reliability figures.
    var faults = 0

    override func tearDownWithError() throws {
        PortBackedCase.reportFigures(faults: faults)
        try super.tearDownWithError()
    }

    /// Stops the faults, syncs once more, and checks Port, ledger, history and database.
    func assertConverges(file: StaticString = #filePath, line: UInt = #line) throws {
        backstage.clearFaults()
        port.clearFaults()
        port.clearForcedFailures()
        let final = try mirrorctl(["sync", "--json"])
        assertStatus(final, 0, file: file, line: line)
        XCTAssertEqual(count(final, "port", "pending"), 0, final.stdout, file: file, line: line)
        assertConverged(to: try cleanReference(), file: file, line: line)
        try assertLedgerMatchesPort(file: file, line: line)
        try assertHistoryWellFormed(file: file, line: line)
        try assertIntegrity(file: file, line: line)
    }

    func inject(_ fault: BackstageFault, uses: Int) {
        backstage.injectFault(fault)
        faults += uses
    }

    func inject(_ fault: FakePortFault) {
        port.injectFault(fault)
        faults += fault.count
    }

    // MARK: Backstage

    func testBackstage5xxAndResetsAreRetriedAndTheRunSucceeds() throws {
        inject(.status(502, times: 1, matching: .path("by-query")), uses: 1)
        inject(.status(503, retryAfter: 0, times: 2, matching: .path("by-query")), uses: 2)
        inject(.nonJSON(status: 504, times: 1, matching: .path("by-query")), uses: 1)
        inject(.closeConnection(times: 2, matching: .path("by-query")), uses: 2)
        let run = try mirrorctl(["sync", "--json", "--page-size", "25"])
        assertStatus(run, 0)
        XCTAssertEqual(run.json?["status"], "succeeded")
        XCTAssertEqual(count(run, "source", "created"), backstage.entityCount)
        XCTAssertGreaterThanOrEqual(backstage.stats.requests, 6, "the faults were served")
        try assertConverges()
    }

    func testTruncatedBackstagePagesAreRetried() throws {
        inject(.truncatedBody(bytes: nil, times: 2, matching: .path("by-query")), uses: 2)
        inject(.truncatedBody(bytes: 1, times: 1, matching: .path("by-query")), uses: 1)
        let run = try mirrorctl(["sync", "--json", "--page-size", "25"])
        assertStatus(run, 0)
        XCTAssertEqual(count(run, "source", "created"), backstage.entityCount)
        try assertConverges()
    }

    func testAPersistentBackstageErrorOnOneKindIsPartialAndDeletesNothing() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let before = PortState(port)
        // Components change meanwhile, but their walk breaks after page 1 with a non-retryable 500.
        let doomed = try XCTUnwrap(untargeted(blueprint: "component").first.flatMap { EntityRef(parsing: $0.identifier) })
        XCTAssertTrue(backstage.delete(doomed))
        inject(.failAfterPage(1, status: 500, kind: "Component"), uses: 1)
        let run = try mirrorctl(["sync", "--json", "--page-size", "5"])
        assertStatus(run, 3)
        XCTAssertEqual(run.json?["status"], "partial")
        XCTAssertTrue((run.json?["error"]?.stringValue ?? "").contains("component"), run.stdout)
        XCTAssertTrue(run.stderr.contains("500"), run.stderr)
        XCTAssertEqual(count(run, "port", "deleted"), 0)
        XCTAssertEqual(PortState(port), before, "an incomplete walk must not delete anything in Port")
        try assertConverges()
        XCTAssertNil(port.entity(blueprint: "component", identifier: doomed.description))
    }

    func testA401MidWalkFailsTheRunWithBackstagesReasonAndNothingIsLost() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let before = PortState(port)
        inject(.failAfterPage(2, status: 401), uses: 1)
        let run = try mirrorctl(["sync", "--json", "--page-size", "4"])
        // Kinds with up to two pages complete; the others stop at page 3 with Backstage's 401.
        XCTAssertNotEqual(run.status, 0, run.stdout)
        XCTAssertTrue(["partial", "failed"].contains(run.json?["status"]?.stringValue ?? ""), run.stdout)
        XCTAssertTrue(run.stderr.contains("401"), run.stderr)
        XCTAssertEqual(PortState(port), before)
        try assertConverges()
    }

    func testABackstageTimeoutEndsTheRunWithTheReasonAndDeletesNothing() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let before = PortState(port)
        // A slow but finite page is waited for…
        inject(.delay(0.5, times: 2, matching: .path("by-query")), uses: 2)
        assertStatus(try mirrorctl(["sync", "--timeout", "60s"]), 0)
        // …one slower than the whole run's time limit is not.
        inject(.delay(6, times: 1, matching: RequestMatcher(pathContains: "by-query", kind: "Component")), uses: 1)
        let started = Date()
        let run = try mirrorctl(["sync", "--json", "--timeout", "2s"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 6, "the timeout cut the request short")
        XCTAssertTrue([1, 3].contains(run.status), "\(run.status): \(run.stderr)")
        XCTAssertTrue((run.json?["error"]?.stringValue ?? "").contains("timeout"), run.stdout)
        XCTAssertEqual(PortState(port), before, "a timed-out walk deletes nothing")
        try assertConverges()
    }

    // MARK: Port

    func testAPortAnswerSlowerThanTheRunsTimeoutIsPartialThenConverges() throws {
        // Port writes the batch but answers after the deadline: mirrorctl can't know, so the
        // entities stay pending and the next run sends them again (harmless: upserts are idempotent).
        inject(FakePortFault(pathContains: "/entities/bulk", count: 1, action: .delay(seconds: 6)))
        let run = try mirrorctl(["sync", "--json", "--timeout", "3s", "--concurrency", "1"])
        assertStatus(run, 3)
        XCTAssertTrue((run.json?["error"]?.stringValue ?? "").contains("during the Port push"), run.stdout)
        XCTAssertGreaterThan(count(run, "port", "pending") ?? 0, 0)
        try assertConverges()
    }

    func testPort429StormWithoutRetryAfterStillConverges() throws {
        port.setRateLimit(limit: 4, period: 1, resetFormat: .secondsUntilReset, sendsRetryAfter: false)
        inject(FakePortFault(pathContains: "/entities/bulk", count: 6, action: .status(429, retryAfter: nil, rateLimitHeaders: false)))
        let run = try mirrorctl(["sync", "--json"], timeout: 300)
        assertStatus(run, 0)
        XCTAssertEqual(count(run, "port", "pending"), 0)
        XCTAssertGreaterThanOrEqual(port.requestLog.filter { $0.status == 429 }.count, 6)
        port.setRateLimit(limit: 100_000, period: 1)
        try assertConverges()
    }

    func testPort5xxAfterRetriesLeavesEntitiesPendingForTheNextRun() throws {
        // 503s are retried; a 500 is not: that batch stays pending with Port's answer.
        inject(FakePortFault(pathContains: "/entities/bulk", count: 2, action: .status(503)))
        inject(FakePortFault(pathContains: "/blueprints/component/entities/bulk", count: 1, action: .status(500)))
        let run = try mirrorctl(["sync", "--json", "--concurrency", "1"])
        assertStatus(run, 3)
        XCTAssertEqual(run.json?["reasons"], ["push-failed"])
        XCTAssertGreaterThan(count(run, "port", "failed") ?? 0, 0)
        XCTAssertEqual(count(run, "port", "pending"), count(run, "port", "failed"))
        XCTAssertTrue(run.stderr.contains("500"), run.stderr)
        try assertConverges()
    }

    func testPort413FallsBackToOneEntityAtATime() throws {
        inject(FakePortFault.payloadTooLargeOnBulk(count: 3))
        let run = try mirrorctl(["sync", "--json"])
        assertStatus(run, 0)
        XCTAssertEqual(count(run, "port", "failed"), 0)
        XCTAssertEqual(count(run, "port", "pending"), 0)
        XCTAssertGreaterThan(port.requestsPerRoute["POST /v1/blueprints/{blueprint}/entities"] ?? 0, 0, "per-entity fallback used")
        try assertConverges()
    }

    func testTokensExpiringEarlyAreRenewed() throws {
        port.setTokenLifetime(3600)
        inject(FakePortFault(pathContains: "/entities/bulk", count: 3, action: .expireTokens))
        inject(FakePortFault(pathContains: "/bulk/entities/delete", count: 1, action: .expireTokens))
        let first = try mirrorctl(["sync", "--json"])
        assertStatus(first, 0)
        XCTAssertEqual(count(first, "port", "failed"), 0)
        XCTAssertGreaterThanOrEqual(port.requestLog.filter { $0.status == 401 }.count, 3)
        // Deletes renew too.
        let victim = try XCTUnwrap(untargeted(blueprint: "component").first.flatMap { EntityRef(parsing: $0.identifier) })
        XCTAssertTrue(backstage.delete(victim))
        let second = try mirrorctl(["sync", "--json"])
        assertStatus(second, 0)
        try assertConverges()
    }

    func testConnectionResetsAndTruncatedAnswersFromPortAreRetried() throws {
        inject(FakePortFault(pathContains: "/entities/bulk", count: 2, action: .closeConnection(afterProcessing: false)))
        inject(FakePortFault(pathContains: "/entities/bulk", count: 2, action: .closeConnection(afterProcessing: true)))
        inject(FakePortFault(pathContains: "/entities/bulk", count: 1, action: .truncateBody(bytes: 5)))
        inject(FakePortFault(pathContains: "/access_token", count: 1, action: .closeConnection(afterProcessing: false)))
        let run = try mirrorctl(["sync", "--json"])
        assertStatus(run, 0)
        XCTAssertEqual(count(run, "port", "failed"), 0)
        XCTAssertEqual(count(run, "port", "pending"), 0)
        XCTAssertEqual(port.pendingFaults, 0, "every fault was hit")
        try assertConverges()
    }

    /// Several runs, each with a random mix of faults from both servers and catalog changes in
    /// between; whatever each run says, the final one converges.
    func testRandomFaultMixesAcrossRunsConverge() throws {
        var random = SystemRandomNumberGenerator()
        let rounds = Int(ProcessInfo.processInfo.environment["MIRRORCTL_FAULT_ROUNDS"] ?? "") ?? 3
        for round in 0..<rounds {
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                switch Int.random(in: 0..<7, using: &random) {
                case 0: inject(.status(503, retryAfter: 0, times: 1, matching: .path("by-query")), uses: 1)
                case 1: inject(.truncatedBody(bytes: nil, times: 1, matching: .path("by-query")), uses: 1)
                case 2: inject(.closeConnection(times: 1, matching: .path("by-query")), uses: 1)
                case 3: inject(FakePortFault(pathContains: "/entities/bulk", count: 1, action: .status(429, retryAfter: nil, rateLimitHeaders: false)))
                case 4: inject(FakePortFault(pathContains: "/entities/bulk", count: 1, action: .closeConnection(afterProcessing: Bool.random(using: &random))))
                case 5: inject(FakePortFault.payloadTooLargeOnBulk(count: 1))
                default: inject(FakePortFault(pathContains: "/entities/bulk", count: 1, action: .expireTokens))
                }
            }
            try mutateCatalog(round: round)
            let run = try mirrorctl(["sync", "--json", "--page-size", "20"])
            XCTAssertTrue([0, 3].contains(run.status), "round \(round): \(run.stdout) \(run.stderr)")
            if run.status != 0 { XCTAssertNotNil(run.json?["error"], run.stdout) }
        }
        try assertConverges()
    }

    /// One update, one delete and one new entity.
    func mutateCatalog(round: Int) throws {
        let components = backstage.allEntities.filter { $0["kind"] == "Component" }
        guard components.count > 2, case .object(var entity) = components[0], case .object(var metadata) = entity["metadata"] else { return }
        metadata["description"] = .string("round \(round)")
        entity["metadata"] = .object(metadata)
        try backstage.upsert(.object(entity))
        if let victim = untargeted(blueprint: "component").first(where: { !$0.identifier.hasPrefix("component:default/added-") }),
           let ref = EntityRef(parsing: victim.identifier) {
            _ = backstage.delete(ref)
        }
        try backstage.upsert(["apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                              "metadata": ["name": .string("added-\(round)"), "namespace": "default"],
                              "spec": ["type": "service", "lifecycle": "production", "owner": "group:default/nobody"]])
    }
}
