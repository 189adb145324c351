import FakeServers
import Foundation
@testable import Store
import XCTest

/// A fake Backstage and a fake Port with the default blueprints, wired into the environment, plus
/// the checks the reliability suites share: Port's state against a clean run's, the ledger against
/// Port, the history's shape and SQLite's integrity.
class PortBackedCase: EndToEndCase {
    var backstage: FakeBackstage!
    var port: FakePort!
    static let clientId = "client-id-reliability"
    static let clientSecret = "port-secret-reliability"

    /// The catalog the fake Backstage starts with.
    var catalog: [FakeJSON] { FakeBackstage.generateCatalog(count: 120, seed: 23) }

    override func setUpWithError() throws {
        try super.setUpWithError()
        backstage = try FakeBackstage(entities: catalog)
        port = try FakePort.start(clientId: PortBackedCase.clientId, clientSecret: PortBackedCase.clientSecret)
        environment["BACKSTAGE_URL"] = backstage.baseURL
        environment["PORT_BASE_URL"] = port.baseURL
        environment["PORT_CLIENT_ID"] = PortBackedCase.clientId
        environment["PORT_CLIENT_SECRET"] = PortBackedCase.clientSecret
        assertStatus(try mirrorctl(["blueprints", "apply"]), 0)
        port.resetLog()
    }

    override func tearDownWithError() throws {
        backstage?.stop()
        port?.stop()
        try super.tearDownWithError()
    }

    /// What an entity in Port says, without Port's bookkeeping (timestamps, authors).
    struct PortState: Equatable, CustomStringConvertible {
        var entities: [String: FakeJSON]

        init(_ port: FakePort) {
            var entities: [String: FakeJSON] = [:]
            for entity in port.allEntities {
                var body = entity.json.objectValue ?? [:]
                for key in ["createdAt", "createdBy", "updatedAt", "updatedBy"] { body[key] = nil }
                entities["\(entity.blueprint)/\(entity.identifier)"] = .object(body)
            }
            self.entities = entities
        }

        var description: String { "\(entities.count) entities" }

        /// Keys present on one side only, and keys whose bodies differ (at most `limit` of each).
        func differences(from other: PortState, limit: Int = 5) -> String {
            let mine = Set(entities.keys)
            let theirs = Set(other.entities.keys)
            let differing = mine.intersection(theirs).filter { entities[$0] != other.entities[$0] }.sorted()
            return "only here: \(mine.subtracting(theirs).sorted().prefix(limit)); only there: \(theirs.subtracting(mine).sorted().prefix(limit)); different: \(differing.prefix(limit).map { "\($0): \(entities[$0].map(FakeJSON.string) ?? "") vs \(other.entities[$0].map(FakeJSON.string) ?? "")" })"
        }
    }

    /// Port's state after one clean sync of the fake Backstage as it is now, into a fresh database
    /// and a fresh fake Port without faults.
    func cleanReference(extraArguments: [String] = [], env extra: [String: String] = [:]) throws -> PortState {
        let reference = try FakePort.start(clientId: PortBackedCase.clientId, clientSecret: PortBackedCase.clientSecret)
        defer { reference.stop() }
        let database = directory.appendingPathComponent("reference-\(UUID().uuidString).db").path
        let env = extra.merging(["PORT_BASE_URL": reference.baseURL, "MIRROR_DB": database]) { _, new in new }
        assertStatus(try mirrorctl(["blueprints", "apply"], env: env), 0)
        assertStatus(try mirrorctl(["sync"] + extraArguments, env: env), 0)
        return PortState(reference)
    }

    /// Asserts that the fake Port holds exactly what a clean run produces. The one allowed extra:
    /// a bare entity Port made up for a relation target (`createMissingRelatedEntities`) whose
    /// referrer is gone since; Port keeps it and mirrorctl doesn't own it (as Ocean).
    func assertConverged(to expected: PortState, file: StaticString = #filePath, line: UInt = #line) {
        var actual = PortState(port)
        for (key, body) in actual.entities where expected.entities[key] == nil && PortBackedCase.isPortMadeStub(body) {
            actual.entities[key] = nil
        }
        XCTAssertEqual(actual, expected, actual.differences(from: expected), file: file, line: line)
    }

    /// What Port creates for a missing relation target: its identifier as title, nothing else.
    static func isPortMadeStub(_ body: FakeJSON) -> Bool {
        body["properties"] == .object([:]) && body["relations"] == .object([:]) && body["team"] == .array([])
            && body["title"] != nil && body["title"] == body["identifier"]
    }

    /// Asserts the ledger says exactly what Port holds: every owned entity acknowledged in its
    /// desired form, present in Port with those fields, and nothing pending.
    func assertLedgerMatchesPort(file: StaticString = #filePath, line: UInt = #line) throws {
        let store = try MirrorStore(path: databasePath, readOnly: true)
        let rows = try store.db.rows("""
            SELECT l.blueprint, l.identifier, l.acked_hash, d.hash, b.body FROM ledger l
            LEFT JOIN desired d ON d.blueprint = l.blueprint AND d.identifier = l.identifier
            LEFT JOIN blobs b ON b.hash = l.acked_hash
            """)
        XCTAssertEqual(rows.count, try store.db.row("SELECT count(*) FROM desired")?.int(0), "ledger and desired state differ in size", file: file, line: line)
        var mismatches: [String] = []
        for row in rows {
            let key = "\(row.string(0) ?? "")/\(row.string(1) ?? "")"
            guard let acked = row.string(2), acked == row.string(3), let text = row.string(4),
                  let body = try? CanonicalJSON.parse(text) else {
                mismatches.append("\(key): not acknowledged in its desired form")
                continue
            }
            guard let entity = port.entity(blueprint: row.string(0) ?? "", identifier: row.string(1) ?? "") else {
                mismatches.append("\(key): missing in Port")
                continue
            }
            if body["title"]?.stringValue != entity.title { mismatches.append("\(key): title") }
            for (name, value) in body["properties"]?.objectValue ?? [:] where !value.isNull && entity.properties[name] != FakeJSON(value) {
                mismatches.append("\(key): properties.\(name)")
            }
        }
        XCTAssertEqual(mismatches.prefix(10), [], file: file, line: line)
    }

    /// Asserts the run and change history is well formed: run ids strictly increase in start
    /// order, no run is left `running`, and per ref the events alternate sensibly (a ref is created
    /// only when absent and updated or deleted only when present), with each event's old hash the
    /// previous event's new hash.
    func assertHistoryWellFormed(file: StaticString = #filePath, line: UInt = #line) throws {
        let store = try MirrorStore(path: databasePath, readOnly: true)
        let runs = try store.db.rows("SELECT id, started_at, status FROM runs ORDER BY id")
        var previousStart = ""
        for run in runs {
            let started = run.string(1) ?? ""
            XCTAssertGreaterThanOrEqual(started, previousStart, "run \(run.int(0) ?? 0) started before the one before it", file: file, line: line)
            previousStart = started
        }
        let stuck = try store.db.rows("SELECT id, command FROM runs WHERE status = 'running'")
        XCTAssertEqual(stuck.map { "\($0.int(0) ?? 0) \($0.string(1) ?? "")" }, [], "committed runs left 'running'", file: file, line: line)
        let events = try store.db.rows("SELECT ref, run_id, change, old_hash, new_hash FROM changes ORDER BY ref, run_id")
        var problems: [String] = []
        var currentRef = ""
        var present = false
        var lastHash: String?
        for event in events {
            let ref = event.string(0) ?? ""
            if ref != currentRef {
                currentRef = ref
                present = false
                lastHash = nil
            }
            let change = event.string(2) ?? ""
            switch change {
            case "created":
                if present { problems.append("\(ref): created twice without a delete (run \(event.int(1) ?? 0))") }
                present = true
            case "updated":
                if !present { problems.append("\(ref): updated while absent (run \(event.int(1) ?? 0))") }
                if event.string(3) != lastHash { problems.append("\(ref): update's old hash is not the previous hash") }
            case "deleted":
                if !present { problems.append("\(ref): deleted while absent (run \(event.int(1) ?? 0))") }
                present = false
            default:
                problems.append("\(ref): unknown change \(change)")
            }
            lastHash = event.string(4)
        }
        // What the history says now must be what the mirror holds.
        let mirrored = try store.db.rows("SELECT ref, hash FROM entities")
        let latest = try store.db.rows("""
            SELECT c.ref, c.new_hash FROM changes c
            WHERE c.run_id = (SELECT max(run_id) FROM changes WHERE ref = c.ref) AND c.change <> 'deleted'
            """)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: mirrored.map { ($0.string(0) ?? "", $0.string(1) ?? "") }),
                       Dictionary(uniqueKeysWithValues: latest.map { ($0.string(0) ?? "", $0.string(1) ?? "") }),
                       "the latest change per ref differs from the mirror", file: file, line: line)
        XCTAssertEqual(problems.prefix(10), [], file: file, line: line)
    }

    func assertIntegrity(file: StaticString = #filePath, line: UInt = #line) throws {
        let store = try MirrorStore(path: databasePath, readOnly: true)
        XCTAssertEqual(try store.db.integrityCheck(), "ok", file: file, line: line)
    }

    /// Port entities of `blueprint` that no Port entity's relation points at. Deleting their
    /// source leaves no relation target behind (a targeted one is kept in Port, as Ocean does, so
    /// it would differ from a clean run by design).
    func untargeted(blueprint: String) -> [FakePortEntity] {
        let targeted = Set(port.allEntities.flatMap { entity in
            entity.relations.values.flatMap { value -> [String] in
                if let text = value.stringValue { return [text] }
                return value.arrayValue?.compactMap(\.stringValue) ?? []
            }
        })
        return port.entities(blueprint: blueprint).filter { !targeted.contains($0.identifier) }
    }

    func count(_ result: CommandResult, _ path: String...) -> Int? {
        result.json?[path: path]?.numberValue.map(Int.init)
    }

    /// Figures the reliability script sums up: `RELIABILITY kills=… faults=… inputs=…`.
    static func reportFigures(kills: Int = 0, faults: Int = 0, inputs: Int = 0) {
        print("RELIABILITY kills=\(kills) faults=\(faults) inputs=\(inputs)")
    }
}
