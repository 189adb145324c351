import FakeServers
import Foundation
@testable import Store
import XCTest

/// Issue 12, "audit you can read": on a mirror with several runs of creates, updates (nested
/// fields, arrays, annotations with dots and slashes) and deletes, the field lists of `diff`,
/// `diff --from/--to`, `history --json` and `v_field_changes`, `export --at` against the catalog as
/// it was, errors for runs and times that name no state, and read-only use.
final class AuditTrailEndToEndTests: EndToEndCase {
    var backstage: FakeBackstage!
    /// The catalog as each run saw it: ref → entity as stored (no etag).
    var catalogAfterRun: [Int: [String: JSONValue]] = [:]

    override func setUpWithError() throws {
        try super.setUpWithError()
        let entities: [JSONValue] = [
            component("web", owner: "team-a", tags: ["a", "b"], annotations: ["backstage.io/techdocs-ref": "dir:."],
                      deployment: ["replicas": 2, "region": "eu"]),
            component("gone", owner: "team-a", tags: [], annotations: [:], deployment: [:]),
            ["apiVersion": "backstage.io/v1alpha1", "kind": "Group",
             "metadata": ["name": "team-a", "namespace": "default"], "spec": ["type": "team", "children": []]],
        ]
        backstage = try FakeBackstage(entities: entities.map(FakeJSON.init))
        environment["BACKSTAGE_URL"] = backstage.baseURL
    }

    override func tearDownWithError() throws {
        backstage.stop()
        try super.tearDownWithError()
    }

    func component(_ name: String, owner: String, tags: [JSONValue], annotations: [String: JSONValue],
                   deployment: [String: JSONValue], lifecycle: String = "production") -> JSONValue {
        ["apiVersion": "backstage.io/v1alpha1", "kind": "Component",
         "metadata": ["name": .string(name), "namespace": "default", "tags": .array(tags), "annotations": .object(annotations)],
         "spec": ["type": "service", "lifecycle": .string(lifecycle), "owner": .string(owner), "deployment": .object(deployment)]]
    }

    /// Syncs and records the catalog this run mirrored.
    func sync(_ run: Int) throws {
        let result = try mirrorctl(["sync", "--json"])
        assertStatus(result, 0)
        XCTAssertEqual(result.json?["run"], .number(Double(run)))
        var catalog: [String: JSONValue] = [:]
        for entity in backstage.allEntities.map(JSONValue.init) {
            guard let ref = EntityRef(entity: entity), case .object(var body) = entity,
                  case .object(var metadata) = body["metadata"] else { continue }
            metadata.removeValue(forKey: "etag")
            body["metadata"] = .object(metadata)
            catalog[ref.description] = .object(body)
        }
        catalogAfterRun[run] = catalog
    }

    /// Runs 1–3: run 2 updates `web` (owner, an annotation with dots and a slash, a nested field,
    /// an array grown by one), deletes `gone` and creates `fresh`; run 3 updates `fresh` only.
    func buildHistory() throws {
        try sync(1)
        let web = JSONValue(try XCTUnwrap(backstage.entity(EntityRef(kind: "component", namespace: "default", name: "web"))))
        guard case .object(var body) = web, case .object(var metadata) = body["metadata"], case .object(var spec) = body["spec"] else {
            return XCTFail("web is an object")
        }
        metadata["annotations"] = ["backstage.io/techdocs-ref": "url:https://github.com/acme/web"]
        metadata["tags"] = ["a", "c", "d"]
        metadata.removeValue(forKey: "etag")
        spec["owner"] = "team-b"
        spec["deployment"] = ["replicas": 3, "region": "eu"]
        body["metadata"] = .object(metadata)
        body["spec"] = .object(spec)
        try backstage.upsert(FakeJSON(.object(body)))
        XCTAssertTrue(backstage.delete(EntityRef(kind: "component", namespace: "default", name: "gone")))
        try backstage.upsert(FakeJSON(component("fresh", owner: "team-a", tags: ["new"], annotations: [:], deployment: [:],
                                       lifecycle: "experimental")))
    }

    /// What run 2 changed in `web`, as every command must list it.
    let webFields: JSONValue = [
        ["path": #"metadata.annotations["backstage.io/techdocs-ref"]"#, "old": "dir:.", "new": "url:https://github.com/acme/web"],
        ["path": "metadata.tags[1]", "old": "b", "new": "c"],
        ["path": "metadata.tags[2]", "old": nil, "new": "d"],
        ["path": "spec.deployment.replicas", "old": 2, "new": 3],
        ["path": "spec.owner", "old": "team-a", "new": "team-b"],
    ]

    func paths(_ fields: JSONValue?) -> [String] {
        fields?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
    }

    func changes(_ result: CommandResult) -> [String: JSONValue] {
        var byRef: [String: JSONValue] = [:]
        for change in result.json?["changes"]?.arrayValue ?? [] {
            if let ref = change["ref"]?.stringValue { byRef[ref] = change }
        }
        return byRef
    }

    func testDiffHistoryAndTheSQLViewListTheSameFields() throws {
        try buildHistory()
        // The live diff, before run 2.
        let diff = try mirrorctl(["diff", "--json"])
        assertStatus(diff, 0)
        let live = changes(diff)
        XCTAssertEqual(Set(live.keys), ["component:default/web", "component:default/gone", "component:default/fresh"])
        XCTAssertEqual(live["component:default/web"]?["change"], "updated")
        XCTAssertEqual(live["component:default/web"]?["fields"], webFields)
        XCTAssertEqual(live["component:default/gone"]?["change"], "deleted")
        XCTAssertEqual(paths(live["component:default/gone"]?["fields"]),
                       ["apiVersion", "kind", "metadata.annotations", "metadata.name", "metadata.namespace", "metadata.tags",
                        "metadata.uid", "spec.deployment", "spec.lifecycle", "spec.owner", "spec.type"],
                       "a deletion lists every leaf it had, empty objects and arrays included")
        XCTAssertTrue(live["component:default/gone"]?["fields"]?.arrayValue?.allSatisfy { $0["new"] == .null } ?? false)
        XCTAssertEqual(paths(live["component:default/fresh"]?["fields"]),
                       ["apiVersion", "kind", "metadata.annotations", "metadata.name", "metadata.namespace", "metadata.tags[0]",
                        "metadata.uid", "spec.deployment", "spec.lifecycle", "spec.owner", "spec.type"])
        let text = try mirrorctl(["diff"])
        XCTAssertTrue(text.stdout.contains(#"    metadata.annotations["backstage.io/techdocs-ref"]: "dir:." → "url:https://github.com/acme/web""#), text.stdout)
        XCTAssertTrue(text.stdout.contains(#"    metadata.tags[2]: (absent) → "d""#), text.stdout)
        try sync(2)

        try backstage.upsert(FakeJSON(component("fresh", owner: "team-a", tags: ["new"], annotations: [:], deployment: [:])))
        try sync(3)

        // Offline comparisons read the same bodies: the same field lists.
        let oneToTwo = try mirrorctl(["diff", "--from", "1", "--to", "2", "--json"])
        assertStatus(oneToTwo, 0)
        XCTAssertEqual(oneToTwo.json?["changes"], diff.json?["changes"], "diff --from 1 --to 2 is what diff showed before run 2")
        XCTAssertEqual(oneToTwo.json?["source"], ["created": 1, "updated": 1, "deleted": 1])
        let sinceTwo = try mirrorctl(["diff", "--from", "2", "--json"])
        assertStatus(sinceTwo, 0)
        XCTAssertEqual(sinceTwo.json?["to"], 3, "--to defaults to the latest run")
        XCTAssertEqual(sinceTwo.json?["changes"], [["ref": "component:default/fresh", "change": "updated",
                                                     "fields": [["path": "spec.lifecycle", "old": "experimental", "new": "production"]]]])
        let backwards = try mirrorctl(["diff", "--from", "3", "--to", "1", "--json"])
        XCTAssertEqual(changes(backwards)["component:default/gone"]?["change"], "created")
        let sinceRunOneByTime = try mirrorctl(["diff", "--from", try XCTUnwrap(runStart(1)), "--to", "2", "--json"])
        XCTAssertEqual(sinceRunOneByTime.json?["changes"], oneToTwo.json?["changes"], "a time names the run started at or before it")

        // history --json: every version with its fields.
        let history = try mirrorctl(["history", "component:default/web", "--json"])
        assertStatus(history, 0)
        let versions = history.json?.arrayValue ?? []
        XCTAssertEqual(versions.map { $0["run"] }, [1, 2])
        XCTAssertEqual(versions.map { $0["change"] }, ["created", "updated"])
        XCTAssertEqual(versions.last?["fields"], webFields)
        XCTAssertEqual(versions.last.map { Set($0.objectValue?.keys ?? [:].keys) }, ["run", "change", "hash", "at", "fields"])
        let patch = try mirrorctl(["history", "component:default/web", "--patch"])
        XCTAssertTrue(patch.stdout.contains("    spec.deployment.replicas: 2 → 3"), patch.stdout)
        let plain = try mirrorctl(["history", "component:default/web"])
        XCTAssertTrue(plain.stdout.contains("\n    spec.owner\n"), plain.stdout)

        // The SQL view answers the same, row for row (old and new as JSON text, absent as NULL).
        let store = try MirrorStore(path: databasePath, readOnly: true)
        let rows = try store.db.rows("""
            SELECT path, old, new FROM v_field_changes WHERE ref = 'component:default/web' AND run = 2 ORDER BY path
            """)
        let expected = (webFields.arrayValue ?? []).map { field in
            [field["path"]?.stringValue, field["old"].flatMap { $0.isNull ? nil : CanonicalJSON.string($0) },
             field["new"].flatMap { $0.isNull ? nil : CanonicalJSON.string($0) }]
        }
        XCTAssertEqual(rows.map { [$0.string(0), $0.string(1), $0.string(2)] }, expected)
        for ref in ["component:default/gone", "component:default/fresh"] {
            let viewPaths = try store.db.rows("SELECT path FROM v_field_changes WHERE ref = ? AND run = 2 ORDER BY path",
                                              [.text(ref)]).compactMap { $0.string(0) }
            XCTAssertEqual(viewPaths, paths(live[ref]?["fields"]), ref)
        }
        let owners = try store.db.rows("""
            SELECT run, ref, kind, old, new FROM v_field_changes
            WHERE path = 'spec.owner' AND change = 'updated' AND at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
            """)
        XCTAssertEqual(owners.map { [$0.string(0), $0.string(1), $0.string(2), $0.string(3), $0.string(4)] },
                       [["2", "component:default/web", "component", #""team-a""#, #""team-b""#]])
    }

    func runStart(_ run: Int) throws -> String? {
        try mirrorctl(["runs", "--json"]).json?.arrayValue?.first { $0["run"] == .number(Double(run)) }?["startedAt"]?.stringValue
    }

    func exported(_ arguments: [String]) throws -> [String: JSONValue] {
        let result = try mirrorctl(["export"] + arguments)
        assertStatus(result, 0)
        var entities: [String: JSONValue] = [:]
        for line in result.stdout.split(separator: "\n") {
            let entity = try CanonicalJSON.parse(String(line))
            XCTAssertEqual(CanonicalJSON.string(entity), String(line), "each line is canonical JSON")
            entities[try XCTUnwrap(EntityRef(entity: entity)).description] = entity
        }
        return entities
    }

    func testExportAndShowTravelInTimeAndRefuseRunsThatDoNotExist() throws {
        try buildHistory()
        try sync(2)
        for run in [1, 2] {
            XCTAssertEqual(try exported(["--at", String(run)]), catalogAfterRun[run], "export --at \(run) is the catalog run \(run) mirrored")
        }
        XCTAssertEqual(try exported([]), catalogAfterRun[2])
        XCTAssertEqual(try exported(["--at", "2", "--kind", "Group"]), catalogAfterRun[2]?.filter { $0.key.hasPrefix("group:") })
        let file = directory.appendingPathComponent("run1.jsonl").path
        assertStatus(try mirrorctl(["export", "--at", "1", "--out", file]), 0)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), try mirrorctl(["export", "--at", "1"]).stdout)
        XCTAssertEqual(try exported(["--at", "0s"]), catalogAfterRun[2], "a duration back from now")

        let old = try mirrorctl(["show", "component:default/web", "--at", "1"])
        assertStatus(old, 0)
        XCTAssertTrue(old.stdout.contains(#""backstage.io/techdocs-ref" : "dir:.""#), old.stdout)
        let now = try mirrorctl(["show", "component:default/web"])
        XCTAssertTrue(now.stdout.contains("https://github.com/acme/web"), "no escaped slashes: \(now.stdout)")

        // Runs and times that name no state: exit 2, naming the valid range; never a fallback.
        let range = "runs go from 1 ("
        for arguments in [["show", "component:default/web", "--at", "99"], ["export", "--at", "3"],
                          ["export", "--at", "2000-01-01T00:00:00Z"], ["diff", "--from", "3650d"],
                          ["diff", "--from", "1", "--to", "7"], ["show", "component:default/web", "--at", "2999-01-01T00:00:00Z"]] {
            let refused = try mirrorctl(arguments)
            assertStatus(refused, 2)
            XCTAssertTrue(refused.stderr.contains(range) && refused.stderr.contains("to 2 ("), "\(arguments): \(refused.stderr)")
            XCTAssertEqual(refused.stdout, "", "\(arguments) printed nothing")
        }
        XCTAssertTrue(try mirrorctl(["export", "--at", "3"]).stderr.contains("there is no run 3"))
        XCTAssertTrue(try mirrorctl(["export", "--at", "2000-01-01T00:00:00Z"]).stderr.contains("is before the first run"))
        assertStatus(try mirrorctl(["export", "--at", "yesterday"]), 2)
        assertStatus(try mirrorctl(["diff", "--to", "1"]), 2)
        // Unknown refs: exit 1 in show and history alike.
        for command in ["show", "history"] {
            let unknown = try mirrorctl([command, "component:default/never-there"])
            assertStatus(unknown, 1)
            XCTAssertTrue(unknown.stderr.contains("not in the mirror"), unknown.stderr)
        }
        // Deleted since: show says so, history still has it.
        assertStatus(try mirrorctl(["show", "component:default/gone"]), 1)
        assertStatus(try mirrorctl(["history", "component:default/gone"]), 0)
    }

    func testTheRunsTableKeepsOneLinePerRow() throws {
        try sync(1)
        let failed = try mirrorctl(["sync", "--backstage-url", "http://127.0.0.1:9", "--max-retries", "0"])
        assertStatus(failed, 1)
        let error = try XCTUnwrap(try mirrorctl(["runs", "--json"]).json?.arrayValue?.first?["error"]?.stringValue)
        XCTAssertGreaterThan(error.count, 100, "a long error: every kind failed")
        let lines = try mirrorctl(["runs"]).stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "a header and one line per run: \(lines)")
        XCTAssertTrue(lines[1].contains("failed") && lines[1].hasSuffix("source-unreachable (+1)"), "one short reason: \(lines[1])")
    }

    /// The audit commands a read-only user runs, each expected to succeed.
    let readers: [[String]] = [
        ["runs"], ["runs", "--json"], ["history", "component:default/web", "--json"], ["show", "component:default/web", "--at", "1"],
        ["export", "--at", "1"], ["diff", "--from", "1", "--json"], ["status", "--json"], ["mapping", "lint", "--json"],
    ]

    func runAs(nobody: Bool, _ arguments: [String]) throws -> CommandResult {
        guard nobody else { return try mirrorctl(arguments) }
        let setpriv = "/usr/bin/setpriv"
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv) else {
            throw XCTSkip("needs root and \(setpriv) to run mirrorctl as an unprivileged user")
        }
        return try run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", EndToEndCase.binary.path] + arguments,
                       environment: environment)
    }

    func assertReadersWork(asNobody: Bool, runs: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        for arguments in readers {
            let result = try runAs(nobody: asNobody, arguments)
            // status: 0 healthy, 1 stale; mapping lint: 1 when it has findings. Never 2, 4 or 5.
            XCTAssertTrue(result.status == 0 || (result.status == 1 && ["status", "mapping"].contains(arguments[0])),
                          "\(arguments) exited \(result.status): \(result.stderr)", file: file, line: line)
            XCTAssertFalse(result.stderr.contains("database"), "\(arguments): \(result.stderr)", file: file, line: line)
            XCTAssertFalse(result.stdout.isEmpty, "\(arguments) printed nothing", file: file, line: line)
        }
        let listed = try runAs(nobody: asNobody, ["runs", "--json"]).json?.arrayValue?.count
        XCTAssertEqual(listed, runs, "the last commit is what readers see", file: file, line: line)
    }

    /// As the user `nobody` (tests run as root, whom permission bits don't stop): the database
    /// mode 0444 in a folder mode 0555, no `-wal`/`-shm` next to it, so SQLite can't create them
    /// and the file is read `immutable=1`. The file's bytes and mtime are unchanged afterwards.
    func testAuditCommandsWorkOnAFileAndFolderTheUserCannotWrite() throws {
        try buildHistory()
        try sync(2)
        let folder = directory.path
        let before = try Data(contentsOf: URL(fileURLWithPath: databasePath))
        let modified = try FileManager.default.attributesOfItem(atPath: databasePath)[.modificationDate] as? Date
        XCTAssertFalse(FileManager.default.fileExists(atPath: databasePath + "-wal"), "the last sync checkpointed and removed its log")
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: databasePath)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder) }

        try assertReadersWork(asNobody: true, runs: 2)
        let lines = try runAs(nobody: true, ["export", "--at", "1"]).stdout.split(separator: "\n")
        let entities = try lines.map { line in try CanonicalJSON.parse(String(line)) }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: try entities.map { (try XCTUnwrap(EntityRef(entity: $0)).description, $0) }),
                       catalogAfterRun[1])
        XCTAssertEqual(try runAs(nobody: true, ["sync"]).status, 4, "a user who can't write can't sync either (control)")

        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: databasePath)), before, "not a byte written")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: databasePath)[.modificationDate] as? Date, modified)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), entries.sorted(), "no file created next to it")

        // Commits in a log the user can't read: an error naming it, never the older state in the file.
        let writer = try Database(path: databasePath)
        try writer.execute("PRAGMA wal_autocheckpoint = 0; CREATE TABLE audit_probe (x); INSERT INTO audit_probe VALUES (1)")
        for suffix in ["-wal", "-shm"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: databasePath + suffix)
        }
        let refused = try runAs(nobody: true, ["runs"])
        XCTAssertEqual(refused.status, 4, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("cannot open for reading") && refused.stderr.contains(databasePath + "-wal"), refused.stderr)
        try writer.close()
    }

    /// While a sync holds the writer lock and writes: readers (root, and `nobody` given read
    /// access to the `-wal` and `-shm` the sync keeps open) see the last commit through SQLite's
    /// read-only WAL access, and never wait.
    func testAuditCommandsWorkWhileASyncHoldsTheWriterLock() throws {
        try buildHistory()
        try sync(2)
        backstage.injectFault(.delay(1.5, times: 100_000))
        let sync = try startMirrorctl(["sync", "--page-size", "1", "--concurrency", "1", "--full"])
        defer { if sync.isRunning { sync.terminate() } }
        waitUntilHoldingTheLock(sync)
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: databasePath + "-shm") && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }

        try assertReadersWork(asNobody: false, runs: 2)
        for suffix in ["", "-wal", "-shm"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: databasePath + suffix)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path) }
        try assertReadersWork(asNobody: true, runs: 2)
        XCTAssertTrue(sync.isRunning, "every reader above ran while the sync held the database")
        backstage.clearFaults()
        XCTAssertEqual(finish(sync), 0)
    }
}
