import FakeServers
import Foundation
@testable import Store
import XCTest

/// A sync maps changed entities on the walk, from the parse the walk already has; after a
/// mapping change it re-maps everything from the stored bodies. Both paths must leave exactly the
/// same desired Port state: a re-map from the database after every kind of walk (first sync,
/// changes, deletions, a scan's by-ref fetches) finds nothing to re-push.
final class WalkMappingEndToEndTests: PortBackedCase {
    override var catalog: [FakeJSON] { FakeBackstage.generateCatalog(count: 240, seed: 21) }

    /// The desired state as rows of text: every desired entity with its body hash, and every relation target.
    func desiredState() throws -> [String] {
        let store = try MirrorStore(path: databasePath, readOnly: true)
        let entities = try store.db.rows("SELECT blueprint, identifier, source_ref, hash FROM desired ORDER BY blueprint, identifier")
        let targets = try store.db.rows("SELECT blueprint, identifier, target FROM desired_targets ORDER BY blueprint, identifier, target")
        return entities.map { "\($0.string(0) ?? "")/\($0.string(1) ?? "") ← \($0.string(2) ?? "") \($0.string(3) ?? "")" }
            + targets.map { "\($0.string(0) ?? "")/\($0.string(1) ?? "") → \($0.string(2) ?? "")" }
    }

    /// The run that last re-mapped the whole mirror.
    func remappedRun() throws -> Int? {
        try MirrorStore(path: databasePath, readOnly: true).db.row("SELECT run_id FROM mapping_state WHERE id = 1")?.int(0)
    }

    /// Re-maps the whole mirror from the database (the built-in mapping with a comment added: a
    /// new mapping hash, the same output) and checks the desired state didn't move.
    func assertRemapFromDatabaseChangesNothing(_ round: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let walked = try desiredState()
        let builtin = try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/builtin.yaml"), encoding: .utf8)
        let mapping = try writeFile("mapping-\(round).yaml", builtin + "\n# round \(round)\n")
        let sync = try mirrorctl(["sync", "--json"], env: ["MIRROR_MAPPING": mapping])
        assertStatus(sync, 0, file: file, line: line)
        XCTAssertEqual(try remappedRun(), sync.json?["run"]?.numberValue.map(Int.init), "the run re-mapped everything", file: file, line: line)
        XCTAssertEqual(sync.json?[path: ["port", "upserted"]]?.numberValue, 0, sync.stdout, file: file, line: line)
        XCTAssertEqual(try desiredState(), walked, "round \(round)", file: file, line: line)
    }

    func testWalkMappedDesiredStateEqualsAFullRemapFromTheDatabase() throws {
        // First sync: every entity mapped on the walk.
        let first = try mirrorctl(["sync", "--json"])
        assertStatus(first, 0)
        XCTAssertGreaterThan(try desiredState().count, 200)
        try assertRemapFromDatabaseChangesNothing(1)

        // Updates, a deletion and a new entity, walked with the remapped mapping's hash in place:
        // the walk maps the changed ones (full walk) ...
        let mapping = directory.appendingPathComponent("mapping-1.yaml").path
        XCTAssertGreaterThan(backstage.mutateDescriptions(percent: 10, seed: 5), 5)
        let victim = try XCTUnwrap(backstage.allEntities.first { $0["kind"] == "Component" })
        let victimRef = try XCTUnwrap(EntityRef(entity: victim))
        XCTAssertTrue(backstage.delete(victimRef))
        var added = victim
        if case .object(var members) = added, case .object(var metadata)? = members["metadata"] {
            metadata["name"] = .string("walk-mapped-newcomer")
            metadata["uid"] = .string("walk-mapped-newcomer-uid")
            members["metadata"] = .object(metadata)
            added = .object(members)
        }
        _ = try backstage.upsert(added)
        let remapped = try remappedRun()
        let changed = try mirrorctl(["sync", "--json", "--full"], env: ["MIRROR_MAPPING": mapping])
        assertStatus(changed, 0)
        XCTAssertEqual(try remappedRun(), remapped, "mapped on the walk, not re-mapped")
        XCTAssertGreaterThan(changed.json?[path: ["port", "upserted"]]?.numberValue ?? 0, 5)
        let state = try desiredState()
        XCTAssertFalse(state.contains { $0.contains("← \(victimRef.description) ") }, "the deleted source maps to nothing")
        XCTAssertTrue(state.contains { $0.contains("walk-mapped-newcomer") })
        try assertRemapFromDatabaseChangesNothing(2)

        // ... and so does an etag-first scan, for the bodies it fetches by ref.
        let mapping2 = directory.appendingPathComponent("mapping-2.yaml").path
        XCTAssertGreaterThan(backstage.mutateDescriptions(percent: 10, seed: 6), 5)
        let scanned = try mirrorctl(["sync", "--json"], env: ["MIRROR_MAPPING": mapping2])
        assertStatus(scanned, 0)
        XCTAssertGreaterThan(scanned.json?[path: ["port", "upserted"]]?.numberValue ?? 0, 0)
        try assertRemapFromDatabaseChangesNothing(3)
    }
}
