@testable import Store
import XCTest

final class MirrorStoreTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mirrorctl-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    var path: String { directory.appendingPathComponent("mirror.db").path }

    func entity(_ name: String, kind: String = "Component", description: String = "d", uid: String? = nil) throws -> SnapshotEntity {
        let body: JSONValue = ["kind": .string(kind), "metadata": ["name": .string(name), "uid": .string(uid ?? "uid-\(name)"),
                                                                    "description": .string(description), "etag": "x"]]
        return try SnapshotEntity(item: JQValue(body))
    }

    /// Writes one run over `entities`, every kind complete unless listed in `incomplete`.
    @discardableResult
    func sync(_ store: MirrorStore, _ entities: [SnapshotEntity], kinds: [String] = ["component"],
              incomplete: Set<String> = []) throws -> SnapshotWriter {
        let writer = try SnapshotWriter(store: store, command: "sync", source: "test", kinds: kinds,
                                        startedAt: Timestamp.now(), index: try store.loadIndex())
        for entity in entities { try writer.record(entity) }
        for kind in kinds {
            try writer.finishKind(KindOutcome(kind: kind, complete: !incomplete.contains(kind), fetched: 0,
                                              error: incomplete.contains(kind) ? "boom" : nil))
        }
        try writer.commit(RunOutcome(status: incomplete.isEmpty ? .succeeded : .partial, reasons: incomplete.isEmpty ? [] : [.kindIncomplete]), error: nil)
        return writer
    }

    func testEveryMigrationFileIsRegisteredInOrder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        XCTAssertEqual(files.map { String($0.dropLast(4)) }, Migrator.migrations.map(\.identifier))
        for (file, migration) in zip(files, Migrator.migrations) {
            XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8), migration.sql)
        }
    }

    func testFileIsPrivateAndWAL() throws {
        _ = try MirrorStore(path: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        let store = try MirrorStore(path: path)
        XCTAssertEqual(try store.db.row("PRAGMA journal_mode")?.string(0), "wal")
    }

    /// Every index of the schema, as `sqlite_master` holds it.
    func indexes(_ store: MirrorStore) throws -> [String] {
        try store.db.rows("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
            .map { "\($0.string("name") ?? ""): \($0.string("sql") ?? "")" }
    }

    /// A first sync sets the secondary indexes of the tables it fills aside during its walk and
    /// rebuilds them: after a commit, and after a rollback, the schema is the migrations' own.
    func testFirstSyncRebuildsTheIndexesItSetAside() throws {
        let store = try MirrorStore(path: path)
        let schema = try indexes(store)
        XCTAssertTrue(schema.contains { $0.hasPrefix("desired_targets_target: CREATE INDEX") })

        let abandoned = try SnapshotWriter(store: store, command: "sync", source: "test", kinds: ["component"],
                                           startedAt: Timestamp.now(), index: try store.loadIndex())
        try abandoned.record(try entity("a"))
        XCTAssertFalse(try indexes(store).contains { $0.hasPrefix("entities_kind:") }, "set aside during the walk")
        abandoned.rollback()
        XCTAssertEqual(try indexes(store), schema)

        let writer = try SnapshotWriter(store: store, command: "sync", source: "test", kinds: ["component"],
                                        startedAt: Timestamp.now(), index: try store.loadIndex())
        try writer.record(try entity("a"))
        try writer.record(try entity("b"))
        try writer.finishWalk()
        XCTAssertEqual(try indexes(store), schema)
        XCTAssertEqual(try writer.changes().map(\.ref.description), ["component:default/a", "component:default/b"])
        try writer.commit(RunOutcome(status: .succeeded, reasons: []), error: nil)
        XCTAssertEqual(try indexes(store), schema)
        XCTAssertEqual(try store.db.integrityCheck(), "ok")

        // A later run (the mirror is no longer empty) keeps every index throughout.
        let second = try SnapshotWriter(store: store, command: "sync", source: "test", kinds: ["component"],
                                        startedAt: Timestamp.now(), index: try store.loadIndex())
        XCTAssertEqual(try indexes(store), schema)
        second.rollback()
    }

    func testFirstSyncCreatesSecondIsUnchangedThenUpdateDeleteCreate() throws {
        let store = try MirrorStore(path: path)
        let first = try sync(store, [try entity("a"), try entity("b"), try entity("c")])
        XCTAssertEqual(first.differ.counts.created, 3)
        let second = try sync(store, [try entity("a"), try entity("b"), try entity("c")])
        XCTAssertEqual(second.differ.counts.unchanged, 3)
        // Unchanged rows are not re-stamped; the view says they were seen by run 2.
        XCTAssertEqual(try store.db.row("SELECT last_seen_run FROM entities WHERE ref = 'component:default/a'")?.int(0), 1)
        XCTAssertEqual(try store.db.row("SELECT last_seen_run FROM v_entities WHERE ref = 'component:default/a'")?.int(0), 2)
        XCTAssertEqual(second.differ.counts.created + second.differ.counts.updated + second.differ.counts.deleted, 0)
        let third = try sync(store, [try entity("a", description: "new"), try entity("c"), try entity("d")])
        XCTAssertEqual(third.differ.counts.updated, 1)
        XCTAssertEqual(third.differ.counts.deleted, 1)
        XCTAssertEqual(third.differ.counts.created, 1)
        let ref = try XCTUnwrap(EntityRef(parsing: "component:default/a"))
        XCTAssertEqual(try store.history(ref: ref).map(\.change), [.created, .updated])
        let b = try XCTUnwrap(EntityRef(parsing: "component:default/b"))
        XCTAssertEqual(try store.history(ref: b).map(\.change), [.created, .deleted])
        // Past versions are reconstructable.
        XCTAssertTrue(try XCTUnwrap(store.version(of: ref, atRun: 2)).body.contains(#""description":"d""#))
        XCTAssertTrue(try XCTUnwrap(store.version(of: ref, atRun: 3)).body.contains(#""description":"new""#))
        XCTAssertNotNil(try store.version(of: b, atRun: 2))
        XCTAssertNil(try store.version(of: b, atRun: 3))
        // One body per content hash: three syncs of 'c' stored it once.
        XCTAssertEqual(try store.db.row("SELECT count(*) FROM blobs")?.int(0), 5)
        XCTAssertEqual(try store.runs().map(\.id), [3, 2, 1])
    }

    func testIncompleteKindDeletesNothing() throws {
        let store = try MirrorStore(path: path)
        try sync(store, [try entity("a"), try entity("u", kind: "User")], kinds: ["component", "user"])
        let writer = try sync(store, [try entity("a")], kinds: ["component", "user"], incomplete: ["user"])
        XCTAssertEqual(writer.differ.counts.deleted, 0)
        XCTAssertEqual(try store.loadIndex().count, 2)
    }

    func testDuplicateRefInOneWalkCountsOnceAndLastCopyWins() throws {
        let store = try MirrorStore(path: path)
        try sync(store, [try entity("a", uid: "old")])
        let writer = try sync(store, [try entity("a", uid: "old"), try entity("a", uid: "new")])
        XCTAssertEqual(writer.differ.counts.fetched, 1)
        XCTAssertEqual(writer.differ.counts.updated, 1)
        XCTAssertEqual(writer.differ.counts.unchanged, 0)
        XCTAssertEqual(try store.loadIndex()["component:default/a"]?.uid, "new")
    }

    func testAbandonedRunChangesNothing() throws {
        let store = try MirrorStore(path: path)
        try sync(store, [try entity("a")])
        do {
            let writer = try SnapshotWriter(store: store, command: "sync", source: "t", kinds: ["component"],
                                            startedAt: Timestamp.now(), index: try store.loadIndex())
            try writer.record(try entity("b"))
            try writer.record(try entity("a", description: "changed"))
            // Dropped without commit, as a crash would.
        }
        XCTAssertEqual(try store.loadIndex().count, 1)
        XCTAssertEqual(try store.runs().count, 1)
        XCTAssertEqual(try store.db.integrityCheck(), "ok")
    }

    func testCorruptFileIsAClearError() throws {
        try Data("this is not a database, just text that is long enough to be a header".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try MirrorStore(path: path)) { error in
            XCTAssertTrue("\(error)".contains("not a usable mirrorctl database"), "\(error)")
        }
    }

    func testNewerDatabaseIsRefused() throws {
        let store = try MirrorStore(path: path)
        try store.db.run("INSERT INTO schema_migrations VALUES ('9999_future')")
        XCTAssertThrowsError(try MirrorStore(path: path)) { error in
            XCTAssertTrue("\(error)".contains("newer mirrorctl"), "\(error)")
        }
    }
}
