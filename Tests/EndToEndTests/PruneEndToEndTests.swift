import FakeServers
import Foundation
@testable import Store
import XCTest

/// `mirrorctl prune`: old history goes, `show --at` for kept runs answers as before, and the
/// mirror keeps syncing.
final class PruneEndToEndTests: PortBackedCase {
    func describe(_ ref: EntityRef, _ text: String) throws {
        guard case .object(var entity) = backstage.allEntities.first(where: { EntityRef(entity: $0) == ref }),
              case .object(var metadata) = entity["metadata"] else { return XCTFail("no \(ref)") }
        metadata["description"] = .string(text)
        entity["metadata"] = .object(metadata)
        try backstage.upsert(.object(entity))
    }

    func testPruneKeepsShowAtForKeptRunsAndTheMirrorKeepsSyncing() throws {
        let components = backstage.allEntities.filter { $0["kind"] == "Component" }.compactMap(EntityRef.init(entity:))
        let edited = components[0]
        let untouched = components[1]
        assertStatus(try mirrorctl(["sync"]), 0)                                                   // run 1
        assertStatus(try mirrorctl(["sync", "--backstage-url", "http://127.0.0.1:9", "--max-retries", "0"]), 1)  // run 2: failed
        try describe(edited, "second")
        assertStatus(try mirrorctl(["sync"]), 0)                                                   // run 3
        try describe(edited, "third")
        assertStatus(try mirrorctl(["sync"]), 0)                                                   // run 4
        assertStatus(try mirrorctl(["sync"]), 0)                                                   // run 5
        var before: [String: String] = [:]
        for ref in [edited, untouched] {
            for run in ["4", "5"] { before["\(ref)@\(run)"] = try mirrorctl(["show", ref.description, "--at", run, "--json"]).stdout }
        }
        let historyBefore = try mirrorctl(["history", edited.description, "--json"]).json?.arrayValue ?? []
        XCTAssertEqual(historyBefore.count, 3)

        let dry = try mirrorctl(["prune", "--keep-runs", "2", "--dry-run", "--json"])
        assertStatus(dry, 0)
        XCTAssertEqual(dry.json?["dryRun"], true)
        XCTAssertEqual(try mirrorctl(["runs", "--json"]).json?.arrayValue?.count, 5, "a dry run removes nothing")

        let pruned = try mirrorctl(["prune", "--keep-runs", "2", "--vacuum", "--json"])
        assertStatus(pruned, 0)
        XCTAssertEqual(pruned.json?["historyFromRun"], 4)
        XCTAssertEqual(pruned.json?["runsDeleted"], 1, "the failed run 2")
        XCTAssertEqual(pruned.json?["anchorRuns"], [1, 3])
        XCTAssertEqual(pruned.json?["changesDeleted"], 1, "the edited entity's creation, superseded by its run-3 baseline")
        XCTAssertEqual(pruned.json?["vacuumed"], true)
        XCTAssertGreaterThan(pruned.json?["blobsDeleted"]?.numberValue ?? 0, 0)
        XCTAssertEqual(dry.json?["changesDeleted"], pruned.json?["changesDeleted"])

        for ref in [edited, untouched] {
            for run in ["4", "5"] {
                let now = try mirrorctl(["show", ref.description, "--at", run, "--json"])
                assertStatus(now, 0)
                XCTAssertEqual(now.stdout, before["\(ref)@\(run)"], "show \(ref) --at \(run)")
            }
        }
        let gone = try mirrorctl(["show", edited.description, "--at", "1"])
        assertStatus(gone, 1)
        XCTAssertTrue(gone.stderr.contains("run 1 was pruned: history is kept from run 4 on"), gone.stderr)
        XCTAssertEqual(try mirrorctl(["history", edited.description, "--json"]).json?.arrayValue?.compactMap { $0["run"]?.numberValue },
                       [3, 4])
        XCTAssertEqual(try mirrorctl(["runs", "--json"]).json?.arrayValue?.compactMap { $0["run"]?.numberValue }, [5, 4, 3, 1])
        let store = try MirrorStore(path: databasePath, readOnly: true)
        XCTAssertEqual(try store.db.integrityCheck(), "ok")
        XCTAssertEqual(try store.db.rows("PRAGMA foreign_key_check").count, 0)

        try describe(edited, "fourth")
        let after = try mirrorctl(["sync", "--json"])
        assertStatus(after, 0)
        XCTAssertEqual(after.json?[path: ["source", "updated"]], 1)
        XCTAssertEqual(after.json?["run"], 6)
        XCTAssertEqual(after.json?[path: ["port", "upserted"]], 1, "the ledger's acknowledged bodies survived: only the edit is pushed")
        XCTAssertEqual(after.json?[path: ["port", "pending"]], 0)
    }

    func testPruneNeedsExactlyOnePolicyAndAnExistingDatabase() throws {
        for arguments in [["prune"], ["prune", "--keep-runs", "1", "--keep-days", "7"], ["prune", "--keep-runs", "0"]] {
            let result = try mirrorctl(arguments)
            assertStatus(result, 2)
            XCTAssertTrue(result.stderr.contains("Usage: mirrorctl prune") || result.stderr.contains("--keep-runs"), result.stderr)
        }
        let missing = try mirrorctl(["prune", "--keep-days", "30"])
        assertStatus(missing, 4)
        XCTAssertTrue(missing.stderr.contains("no such database"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: databasePath), "prune creates nothing")
    }
}
