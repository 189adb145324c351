import FakeServers
import Foundation
import Store
import XCTest

/// One writer per database: a second sync exits 5 at once or waits with `--wait`; readers, the
/// `sqlite3` shell and `diff` keep working while a sync holds the database.
final class WriterLockEndToEndTests: PortBackedCase {
    /// A sync slowed down by the fake Backstage (every page answered late), started in the background.
    func startSlowSync(delay: Double = 0.25) throws -> Process {
        backstage.injectFault(.delay(delay, times: 100_000))
        let process = try startMirrorctl(["sync", "--page-size", "5", "--concurrency", "1", "--full"])
        waitUntilHoldingTheLock(process)
        return process
    }

    func testReadersTheShellAndDiffKeepWorkingWhileASlowSyncRuns() throws {
        assertStatus(try mirrorctl(["sync", "--kind", "group"]), 0)
        let group = try XCTUnwrap(backstage.allEntities.first { $0["kind"] == "Group" }.flatMap(EntityRef.init(entity:)))
        let sync = try startSlowSync()

        let runs = try mirrorctl(["runs", "--json"], timeout: 10)
        assertStatus(runs, 0)
        XCTAssertEqual(runs.json?.arrayValue?.count, 1, "readers see the last commit, not the run in progress")
        let shell = try sqlite3("select count(*) from runs")
        XCTAssertEqual(shell.status, 0, shell.stderr)
        XCTAssertEqual(shell.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "1")
        assertStatus(try mirrorctl(["history", group.description, "--json"], timeout: 10), 0)
        assertStatus(try mirrorctl(["show", group.description, "--json"], timeout: 10), 0)
        let status = try mirrorctl(["status", "--json"], timeout: 10)
        XCTAssertFalse([4, 5].contains(status.status), status.stderr)
        // diff takes no lock and works on a copy of the last commit: it neither waits nor fails.
        let diff = try mirrorctl(["diff", "--kind", "group", "--page-size", "500", "--json"], timeout: 30)
        assertStatus(diff, 0)
        XCTAssertEqual(diff.json?["run"], .null)
        XCTAssertEqual(diff.json?[path: ["source", "unchanged"]]?.numberValue.map(Int.init),
                       backstage.allEntities.filter { $0["kind"] == "Group" }.count)
        XCTAssertTrue(sync.isRunning, "every reader above ran while the sync held the database")

        // While the sync writes, its WAL and shared-memory files are as private as the database.
        for suffix in ["", "-wal", "-shm", ".lock"] where FileManager.default.fileExists(atPath: databasePath + suffix) {
            let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: databasePath + suffix)[.posixPermissions] as? Int)
            XCTAssertEqual(mode & 0o077, 0, "\(suffix): mode \(String(mode, radix: 8))")
        }
        XCTAssertEqual(finish(sync), 0)
        XCTAssertEqual(try sqlite3("select count(*) from runs").stdout.trimmingCharacters(in: .whitespacesAndNewlines), "2")
        XCTAssertEqual(try sqlite3("select count(*) from runs where command = 'diff'").stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0")
    }

    func testASecondSyncExitsFiveAtOnceAndWaitWaitsWithoutPushingAnythingTwice() throws {
        let first = try startSlowSync()

        let started = Date()
        let refused = try mirrorctl(["sync", "--json"], timeout: 20)
        assertStatus(refused, 5)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "refused at once, not after a busy timeout")
        XCTAssertTrue(refused.stderr.contains("another mirrorctl sync holds \(databasePath) (pid \(first.processIdentifier), since "),
                      refused.stderr)
        XCTAssertTrue(refused.stderr.contains("use --wait"), refused.stderr)
        XCTAssertEqual(refused.stdout, "", "no half report on stdout")

        // --wait: waits while the first sync walks (let it speed up in a moment), then runs.
        let backstage = self.backstage!
        DispatchQueue.global().asyncAfter(deadline: .now() + 1) { backstage.clearFaults() }
        let waited = try mirrorctl(["sync", "--wait", "--json"], timeout: 120)
        assertStatus(waited, 0)
        XCTAssertTrue(waited.stderr.contains("waiting for mirrorctl sync (pid \(first.processIdentifier)"), waited.stderr)
        XCTAssertEqual(finish(first), 0)
        XCTAssertEqual(waited.json?["run"], 2, "the first sync committed run 1; the refused one recorded nothing")
        XCTAssertEqual(waited.json?[path: ["port", "upserted"]], 0, "the first sync pushed everything")
        XCTAssertEqual(waited.json?[path: ["port", "requests"]], 0)

        // Nothing was pushed twice: one bulk write per batch of ≤20 entities of a blueprint.
        let perBlueprint = Dictionary(grouping: port.allEntities, by: \.blueprint).mapValues(\.count)
        XCTAssertGreaterThan(perBlueprint.values.reduce(0, +), 50)
        XCTAssertEqual(port.writeRequests, perBlueprint.values.map { ($0 + 19) / 20 }.reduce(0, +))
        let runs = try mirrorctl(["runs", "--json"])
        XCTAssertEqual(runs.json?.arrayValue?.compactMap { $0["status"]?.stringValue }, ["succeeded", "succeeded"])
    }

    func testWaitGivesUpAtTheTimeoutWithExitFive() throws {
        let first = try startSlowSync(delay: 0.5)
        let started = Date()
        let result = try mirrorctl(["sync", "--wait", "--timeout", "1s"], timeout: 20)
        assertStatus(result, 5)
        XCTAssertTrue(result.stderr.contains("still holds \(databasePath) (pid \(first.processIdentifier)"), result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 6)
        kill(first.processIdentifier, SIGKILL)
        _ = finish(first)
    }

    func testPruneTakesTheLockToo() throws {
        assertStatus(try mirrorctl(["sync", "--kind", "group"]), 0)
        let held = try WriterLock(database: databasePath, command: "sync")
        let refused = try mirrorctl(["prune", "--keep-runs", "1"])
        assertStatus(refused, 5)
        XCTAssertTrue(refused.stderr.contains("another mirrorctl sync holds"), refused.stderr)
        held.release()
        assertStatus(try mirrorctl(["prune", "--keep-runs", "1"]), 0)
    }
}
