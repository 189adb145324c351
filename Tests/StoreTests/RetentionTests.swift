import Foundation
@testable import Store
import XCTest

/// `Retention.prune`: what goes, what stays, and that `show --at` answers the same for kept runs.
final class RetentionTests: TemporaryDirectoryCase {
    var store: MirrorStore!

    override func setUpWithError() throws {
        try super.setUpWithError()
        store = try MirrorStore(path: directory.appendingPathComponent("mirror.db").path)
    }

    override func tearDownWithError() throws {
        store = nil
        try super.tearDownWithError()
    }

    /// A component whose body is `{"kind":"Component","metadata":{"name":…},"v":version}`.
    func component(_ name: String, _ version: Int) -> SnapshotEntity {
        let body = #"{"kind":"Component","metadata":{"name":"\#(name)","namespace":"default"},"v":\#(version)}"#
        return SnapshotEntity(ref: EntityRef(kind: "component", namespace: "default", name: name), uid: "uid-\(name)",
                              etag: "e\(version)", body: CanonicalBody(Array(body.utf8)))
    }

    /// One committed run that saw exactly `entities` (a complete walk: the rest is deleted), or
    /// whose walk failed before its first page (`failed`).
    @discardableResult
    func run(_ entities: [SnapshotEntity], failed: Bool = false) throws -> Int {
        let writer = try SnapshotWriter(store: store, command: "sync", source: "test", kinds: ["component"],
                                        startedAt: Timestamp.now(), index: try store.loadIndex())
        for entity in entities { try writer.record(entity) }
        try writer.finishKind(KindOutcome(kind: "component", complete: !failed, fetched: entities.count, error: failed ? "down" : nil))
        try writer.commit(RunOutcome(status: failed ? .failed : .succeeded, reasons: failed ? [.sourceUnreachable] : []), error: failed ? "down" : nil)
        return writer.runID
    }

    func desired(_ source: String, _ version: Int, run: Int) throws {
        let body = #"{"identifier":"\#(source)","v":\#(version)}"#
        try DesiredState(store: store).replace(sourceRef: source, with: [
            DesiredEntity(blueprint: "component", identifier: source, sourceRef: source, canonical: CanonicalBody(Array(body.utf8)), targets: []),
        ], run: run)
    }

    func ref(_ name: String) -> EntityRef { EntityRef(kind: "component", namespace: "default", name: name) }

    func count(_ table: String) throws -> Int { try store.db.row("SELECT count(*) FROM \(table)")?.int(0) ?? -1 }

    /// Six runs: a changes in 2, 4 and 6 (and is pushed in 2), b in 5, c is deleted and d created
    /// in 4, and run 3's walk failed at once (it has a run_kinds row, nothing else).
    func buildHistory() throws {
        try run([component("a", 1), component("b", 1), component("c", 1)])
        let second = try run([component("a", 2), component("b", 1), component("c", 1)])
        try desired("component:default/a", 1, run: second)
        let ledger = Ledger(store: store)
        let upserts = try ledger.plannedUpserts()
        try ledger.markSending(upserts, run: second)
        for upsert in upserts { try ledger.recordUpsert(upsert, outcome: .acked, run: second) }
        try run([], failed: true)
        let fourth = try run([component("a", 3), component("b", 1), component("d", 1)])
        try desired("component:default/a", 2, run: fourth)
        try run([component("a", 3), component("b", 2), component("d", 1)])
        try run([component("a", 4), component("b", 2), component("d", 1)])
        try store.db.run("INSERT INTO blobs (hash, body) VALUES ('orphan', '{}')")
    }

    /// Every ref's version at every run from `from` on, and now.
    func versions(from: Int) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in ["a", "b", "c", "d"] {
            for run in Array(from...6).map(Optional.some) + [nil] {
                result["\(name)@\(run.map(String.init) ?? "now")"] = try store.version(of: ref(name), atRun: run)?.body ?? "absent"
            }
        }
        return result
    }

    func testKeepRunsKeepsBaselinesAnchorsAndReferencedBodiesOnly() throws {
        try buildHistory()
        let before = try versions(from: 5)
        let report = try Retention(store: store).prune(.keepRuns(2))

        XCTAssertEqual(report.historyFromRun, 5)
        XCTAssertEqual(report.changesDeleted, 4, "a@1, a@2, c@1 and c's deletion in 4")
        XCTAssertEqual(report.baselines, 3, "a@4, b@1, d@4")
        XCTAssertEqual(report.pushesDeleted, 1)
        XCTAssertEqual(report.runsDeleted, 1, "only the failed run 3 is referenced by nothing")
        XCTAssertEqual(report.anchorRuns, [1, 2, 4], "b's baseline and first sightings, the ledger, a's and d's baselines")
        XCTAssertEqual(report.blobsDeleted, 3, "a@1's and c's bodies and the orphan")
        XCTAssertEqual(try versions(from: 5), before, "show --at answers the same for every kept run")

        XCTAssertEqual(try store.history(ref: ref("a")).map(\.run), [4, 6])
        XCTAssertEqual(try store.history(ref: ref("b")).map(\.run), [1, 5])
        XCTAssertEqual(try store.history(ref: ref("c")).count, 0)
        XCTAssertEqual(try store.runs(limit: 10).map(\.id), [6, 5, 4, 2, 1])
        XCTAssertEqual(try count("pushes"), 0)
        // Every hash anything still names has its body: the kept events' old and new bodies,
        // the current entities, the desired state and what Port acknowledged (a's first mapping).
        let missing = try store.db.row("""
            SELECT count(*) FROM (SELECT old_hash AS h FROM changes UNION SELECT new_hash FROM changes UNION
                SELECT hash FROM entities UNION SELECT hash FROM desired UNION SELECT acked_hash FROM ledger)
            WHERE h IS NOT NULL AND h NOT IN (SELECT hash FROM blobs)
            """)?.int(0)
        XCTAssertEqual(missing, 0)
        XCTAssertNotNil(try store.db.row("SELECT 1 FROM ledger l JOIN blobs b ON b.hash = l.acked_hash"))
        XCTAssertEqual(try store.db.rows("PRAGMA foreign_key_check").count, 0)
        XCTAssertEqual(try store.db.integrityCheck(), "ok")
        XCTAssertEqual(try Retention(store: store).historyFloor(), 5)
        XCTAssertEqual(try store.db.row("PRAGMA foreign_keys")?.int(0), 1, "foreign keys are back on")

        // Pruning again with the same policy finds nothing more; the mirror keeps working.
        let again = try Retention(store: store).prune(.keepRuns(2))
        XCTAssertEqual([again.changesDeleted, again.runsDeleted, again.blobsDeleted, again.pushesDeleted], [0, 0, 0, 0])
        let next = try run([component("a", 4), component("b", 2), component("e", 1)])
        XCTAssertEqual(try store.version(of: ref("e"), atRun: next)?.run, next)
        XCTAssertEqual(try store.version(of: ref("d"), atRun: next)?.body, nil)
    }

    func testDryRunReportsTheSameAndChangesNothing() throws {
        try buildHistory()
        let counts = try ["runs", "changes", "pushes", "blobs", "run_kinds"].map(count)
        let dry = try Retention(store: store).prune(.keepRuns(2), dryRun: true)
        XCTAssertTrue(dry.dryRun)
        XCTAssertEqual(try ["runs", "changes", "pushes", "blobs", "run_kinds"].map(count), counts)
        XCTAssertNil(try Retention(store: store).historyFloor())
        var real = try Retention(store: store).prune(.keepRuns(2))
        real.dryRun = true
        XCTAssertEqual(real, dry)
    }

    func testKeepDaysKeepsRecentRunsAndAlwaysTheNewest() throws {
        try buildHistory()
        let now = Date()
        // Runs 1–4 started 40 days ago, 5 and 6 yesterday.
        try store.db.run("UPDATE runs SET started_at = ? WHERE id <= 4", [.text(Timestamp.string(now.addingTimeInterval(-40 * 86_400)))])
        try store.db.run("UPDATE runs SET started_at = ? WHERE id > 4", [.text(Timestamp.string(now.addingTimeInterval(-86_400)))])
        XCTAssertEqual(try Retention(store: store).prune(.keepDays(30), now: now, dryRun: true).historyFromRun, 5)
        XCTAssertEqual(try Retention(store: store).prune(.keepDays(60), now: now, dryRun: true).historyFromRun, 1)
        let report = try Retention(store: store).prune(.keepDays(0), now: now)
        XCTAssertEqual(report.historyFromRun, 6, "nothing is recent: the newest run is still kept")
        XCTAssertEqual(try store.version(of: ref("a"), atRun: 6)?.body.contains(#""v":4"#), true)
        XCTAssertEqual(try store.version(of: ref("b"), atRun: nil)?.run, 5)
    }

    func testKeepingMoreRunsThanExistPrunesNothing() throws {
        try buildHistory()
        let report = try Retention(store: store).prune(.keepRuns(100))
        XCTAssertEqual(report.historyFromRun, 1)
        XCTAssertEqual([report.changesDeleted, report.runsDeleted, report.pushesDeleted], [0, 0, 0])
        XCTAssertEqual(report.blobsDeleted, 1, "only the orphan")
    }

    func testAnEmptyMirrorHasNothingToPrune() throws {
        let report = try Retention(store: store).prune(.keepRuns(1))
        XCTAssertNil(report.historyFromRun)
        XCTAssertNil(try Retention(store: store).historyFloor())
    }

    func testVacuumGivesPagesBack() throws {
        try buildHistory()
        try store.db.execute("BEGIN")
        for index in 0..<2_000 {
            try store.db.run("INSERT INTO blobs (hash, body) VALUES (?, ?)", [.text("junk-\(index)"), .text(String(repeating: "x", count: 2_000))])
        }
        try store.db.execute("COMMIT")
        let report = try Retention(store: store).prune(.keepRuns(2))
        XCTAssertEqual(report.blobsDeleted, 2_003)
        let sizes = try Retention(store: store).vacuum()
        XCTAssertLessThan(sizes.after, sizes.before / 2)
        XCTAssertEqual(try store.db.integrityCheck(), "ok")
    }
}
