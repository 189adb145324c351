import FakeServers
import Foundation
@testable import Store
import XCTest

/// `watch` and `status` through the built binary: intervals, signals, overlapping slow runs,
/// back-off, and the health a probe sees.
final class WatchEndToEndTests: EndToEndCase {
    var backstage: FakeBackstage!

    override func setUpWithError() throws {
        try super.setUpWithError()
        backstage = try FakeBackstage(entities: FakeBackstage.generateCatalog(count: 40, seed: 3))
        environment["BACKSTAGE_URL"] = backstage.baseURL
    }

    override func tearDownWithError() throws {
        backstage.stop()
        try super.tearDownWithError()
    }

    /// A running `mirrorctl watch` whose stdout and stderr go to files.
    struct Watcher {
        let process: Process
        let stdout: URL
        let stderr: URL

        var logLines: [JSONValue] {
            ((try? String(contentsOf: stderr, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? CanonicalJSON.parse(String($0))
            }
        }

        func events(_ name: String) -> [JSONValue] { logLines.filter { $0["event"]?.stringValue == name } }

        func stop(signal: Int32 = SIGTERM, within seconds: Double = 20) -> Int32? {
            kill(process.processIdentifier, signal)
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning {
                process.terminate()
                return nil
            }
            return process.terminationStatus
        }
    }

    func startWatch(_ arguments: [String]) throws -> Watcher {
        let (process, out, err) = try launchMirrorctl(["watch", "--log-format", "json"] + arguments)
        return Watcher(process: process, stdout: out, stderr: err)
    }

    /// Committed runs, oldest first (read-only, as a probe would).
    func committedRuns() throws -> [(id: Int, status: String, started: String, finished: String?)] {
        // Before the first run has created and migrated the database there is nothing to read.
        guard FileManager.default.fileExists(atPath: databasePath),
              let store = try? MirrorStore(path: databasePath, readOnly: true),
              let rows = try? store.db.rows("SELECT id, status, started_at, finished_at FROM runs ORDER BY id")
        else { return [] }
        return rows.map {
            ($0.int(0) ?? 0, $0.string(1) ?? "", $0.string(2) ?? "", $0.string(3))
        }
    }

    func testWatchSyncsOnTheIntervalLogsOneLinePerRunAndStopsOnSIGTERM() throws {
        let watcher = try startWatch(["--interval", "200ms", "--json"])
        try waitFor("three runs") { try committedRuns().count >= 3 }
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(watcher.stop(), 0)
        let finished = watcher.events("run.finished")
        let runs = try committedRuns()
        XCTAssertEqual(finished.count, runs.count, "one line per run")
        XCTAssertEqual(finished.compactMap { $0["run"]?.numberValue.map(Int.init) }, runs.map(\.id))
        XCTAssertTrue(runs.allSatisfy { $0.status == "succeeded" })
        for line in watcher.logLines {
            for key in ["time", "level", "run", "event", "fields"] { XCTAssertNotNil(line[key], "\(key) missing in \(line)") }
        }
        XCTAssertEqual(finished.first?[path: ["fields", "source", "created"]], 40)
        XCTAssertEqual(finished.last?[path: ["fields", "source", "unchanged"]], 40)
        XCTAssertEqual(watcher.events("watch.stopped").count, 1)
        // --json: each run's sync object on stdout, one per line.
        let stdout = try String(contentsOf: watcher.stdout, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(stdout.count, runs.count)
        XCTAssertEqual(try CanonicalJSON.parse(String(stdout[0]))["status"], "succeeded")
        // Starts follow the interval: ticks are 200 ms apart. A run records its start after its
        // process has started and opened the database, which varies by tens of milliseconds, so
        // allow that jitter; back-to-back runs (a queued tick) would be far closer.
        let starts = runs.compactMap { Timestamp.date($0.started) }
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            XCTAssertGreaterThanOrEqual(later.timeIntervalSince(earlier), 0.12)
        }
    }

    /// Stopping a watcher, again and again, at whatever point its runs have reached, always ends
    /// it cleanly. (Its child's output used to be read by a dispatch `readabilityHandler`, whose
    /// teardown crashed the watcher in libdispatch about once in 40 stops.)
    func testRepeatedStopsAlwaysExitCleanly() throws {
        for round in 0..<12 {
            let watcher = try startWatch(["--interval", "100ms"])
            waitFor("a run to finish") { !watcher.events("run.finished").isEmpty }
            Thread.sleep(forTimeInterval: Double(round % 4) * 0.04)
            XCTAssertEqual(watcher.stop(), 0, "round \(round): \(watcher.logLines.suffix(3))")
            XCTAssertEqual(watcher.events("watch.stopped").count, 1, "round \(round)")
        }
    }

    func testSIGTERMInTheMiddleOfARunLetsItFinishThenExits() throws {
        backstage.injectFault(.delay(0.15, times: 10_000))
        let watcher = try startWatch(["--interval", "30s"])
        waitFor("the walk to start") { backstage.stats.requests > 0 }
        let signalled = Date()
        XCTAssertEqual(watcher.stop(), 0)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 15)
        XCTAssertEqual(watcher.events("watch.stopping").count, 1)
        let runs = try committedRuns()
        XCTAssertEqual(runs.map(\.status), ["succeeded"], "the run in progress finished and committed")
        XCTAssertEqual(watcher.events("run.finished").count, 1)
    }

    func testSIGTERMPastTheGraceAbandonsTheRunAndLeavesNothingHalfWritten() throws {
        backstage.injectFault(.delay(0.3, times: 10_000))
        let watcher = try startWatch(["--interval", "30s", "--grace", "0"])
        waitFor("the walk to start") { backstage.stats.requests > 0 }
        let signalled = Date()
        XCTAssertEqual(watcher.stop(), 0)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5, "abandoned at once")
        XCTAssertEqual(watcher.events("run.abandoned").count, 1)
        XCTAssertEqual(try committedRuns().count, 0, "the abandoned walk committed nothing")
        let store = try MirrorStore(path: databasePath)
        XCTAssertEqual(try store.db.integrityCheck(), "ok")
        XCTAssertEqual(try store.db.row("SELECT count(*) FROM entities")?.int(0), 0)
        backstage.clearFaults()
        assertStatus(try mirrorctl(["sync"]), 0)
        assertStatus(try mirrorctl(["status"]), 0)
    }

    func testAnOverlappingSlowRunSkipsTicksInsteadOfQueueingThem() throws {
        backstage.injectFault(.delay(0.1, times: 10_000))
        let watcher = try startWatch(["--interval", "150ms", "--page-size", "10"])
        try waitFor("two runs") { try committedRuns().count >= 2 }
        XCTAssertEqual(watcher.stop(), 0)
        let runs = try committedRuns()
        XCTAssertGreaterThan(watcher.events("watch.tick.skipped").count, 0, "ticks inside a slow run are skipped")
        XCTAssertGreaterThan(watcher.events("watch.tick.skipped").first?[path: ["fields", "skipped"]]?.numberValue ?? 0, 0)
        // Never two runs at once: each starts after the previous one finished.
        for (earlier, later) in zip(runs, runs.dropFirst()) {
            let finished = try XCTUnwrap(earlier.finished.flatMap(Timestamp.date))
            let started = try XCTUnwrap(Timestamp.date(later.started))
            XCTAssertGreaterThanOrEqual(started, finished)
        }
        XCTAssertEqual(watcher.events("run.finished").count, runs.count)
    }

    func testConsecutiveFailuresBackOffThenASuccessResetsTheInterval() throws {
        backstage.injectFault(.status(403, times: 1_000_000))
        let watcher = try startWatch(["--interval", "100ms", "--max-backoff", "400ms", "--kind", "Component"])
        waitFor("three back-offs") { watcher.events("watch.backoff").count >= 3 }
        let waits = watcher.events("watch.backoff").compactMap { $0[path: ["fields", "waitSeconds"]]?.numberValue }
        XCTAssertEqual(Array(waits.prefix(3)), [0.2, 0.4, 0.4])
        backstage.clearFaults()
        try waitFor("a successful run") { try committedRuns().contains { $0.status == "succeeded" } }
        XCTAssertEqual(watcher.stop(), 0)
        let failed = watcher.events("run.finished").filter { $0[path: ["fields", "status"]] == "failed" }
        XCTAssertGreaterThanOrEqual(failed.count, 3)
        XCTAssertEqual(failed.first?["level"], "warn")
    }

    func testOnceIsSync() throws {
        let once = try mirrorctl(["watch", "--once", "--json"])
        assertStatus(once, 0)
        XCTAssertEqual(once.json?["run"], 1)
        XCTAssertEqual(once.json?[path: ["source", "created"]], 40)
        backstage.injectFault(.status(403, times: 1_000_000))
        let failed = try mirrorctl(["watch", "--once", "--json"])
        assertStatus(failed, 1)
        XCTAssertEqual(failed.json?["status"], "failed")
    }

    func testWatchRejectsABadConfigurationBeforeTheFirstRun() throws {
        assertStatus(try mirrorctl(["watch", "--interval", "soon"]), 2)
        let mapping = try writeFile("bad.yaml", "resources: [{kind: component, selector: {query: 'true'}, port: {entity: {mappings: {identifier: '.metadata.name |', blueprint: '\"x\"'}}}}]\n")
        let result = try mirrorctl(["watch", "--mapping", mapping])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("identifier"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: databasePath))
    }

    // MARK: status

    func testStatusIsHealthyAfterASyncAndReportsAge() throws {
        assertStatus(try mirrorctl(["status"]), 4)  // no database yet
        assertStatus(try mirrorctl(["sync"]), 0)
        let status = try mirrorctl(["status", "--json"])
        assertStatus(status, 0)
        XCTAssertEqual(status.json?["healthy"], true)
        XCTAssertEqual(status.json?[path: ["lastRun", "run"]], 1)
        XCTAssertEqual(status.json?[path: ["lastRun", "status"]], "succeeded")
        XCTAssertEqual(status.json?["pending"], 40, "mirror-only: everything is pending for Port")
        XCTAssertEqual(status.json?["drift"], .null)
        let human = try mirrorctl(["status"])
        XCTAssertTrue(human.stdout.contains("health         ok") || human.stdout.contains("ok"), human.stdout)

        Thread.sleep(forTimeInterval: 0.3)
        let stale = try mirrorctl(["status", "--max-age", "100ms", "--json"])
        assertStatus(stale, 1)
        XCTAssertEqual(stale.json?["verdict"], "stale")
        assertStatus(try mirrorctl(["status"], env: ["MIRROR_MAX_AGE": "1h"]), 0)
    }

    func testStatusIsUnhealthyAfterAFailedOrPartialRun() throws {
        backstage.injectFault(.status(403, times: 1_000_000))
        assertStatus(try mirrorctl(["sync", "--kind", "Component"]), 1)
        let failed = try mirrorctl(["status", "--json"])
        assertStatus(failed, 1)
        XCTAssertEqual(failed.json?["verdict"], "failed")
        XCTAssertTrue(failed.json?["problem"]?.stringValue?.contains("failed") == true)

        backstage.clearFaults()
        backstage.injectFault(.failAfterPage(0, status: 403, kind: "User"))
        assertStatus(try mirrorctl(["sync"]), 3)
        let partial = try mirrorctl(["status"])
        assertStatus(partial, 3)
        XCTAssertTrue(partial.stdout.contains("partial"), partial.stdout)
        XCTAssertEqual(try mirrorctl(["status", "--json"]).json?["lastSuccess"], .null)
    }
}

extension WatchEndToEndTests {
    func testATickThatFindsTheWriterLockHeldIsSkippedNotFailed() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        var lock: WriterLock? = try WriterLock(database: databasePath, command: "test")
        let watcher = try startWatch(["--interval", "100ms"])
        waitFor("a skipped tick") { watcher.events("watch.tick.skipped").count >= 2 }
        XCTAssertEqual(watcher.events("watch.backoff").count, 0, "a held lock is not a failure")
        XCTAssertEqual(try committedRuns().count, 1)
        lock?.release()
        lock = nil
        try waitFor("a run once the lock is free") { try committedRuns().count >= 2 }
        XCTAssertEqual(watcher.stop(), 0)
    }
}
