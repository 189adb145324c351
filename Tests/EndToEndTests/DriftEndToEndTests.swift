import FakeServers
import Foundation
@testable import Store
import XCTest

/// Drift repair: entities edited or deleted in Port by hand are found by `verify` (and by
/// `sync --verify` / `--verify-every`) and pushed again; entities mirrorctl did not create are left alone.
final class DriftEndToEndTests: PortBackedCase {
    func testVerifyRepairsEditedAndDeletedEntitiesAndLeavesForeignOnesAlone() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let expected = PortState(port)
        let owned = try ownedCount()

        // Right after a sync Port matches: Port's normalization (team and many-relations as arrays,
        // nulls) is not drift, and nothing is written.
        port.resetLog()
        let searches = RequestRecorder()
        port.injectFault(FakePortFault(pathContains: "/entities/search", count: 1, action: .delay(seconds: 0)) { request in
            searches.record(request)
            return false
        })
        let clean = try mirrorctl(["verify", "--json"])
        assertStatus(clean, 0)
        XCTAssertEqual(clean.json?["verify"], ["checked": .number(Double(owned)), "drifted": 0, "missing": 0, "repaired": 0])
        XCTAssertEqual(port.writeRequests, 0)
        // One paged search per owned blueprint, asking only for the mapped fields.
        XCTAssertEqual(Set(searches.requests.map(\.path)), Set(Set(port.allEntities.map(\.blueprint)).map { "/v1/blueprints/\($0)/entities/search" }))
        let include = searches.requests.compactMap { request -> [String]? in
            (try? CanonicalJSON.parse(Array(request.body)))?["include"]?.arrayValue?.compactMap(\.stringValue)
        }.first { $0.contains("properties.lifecycle") } ?? []
        XCTAssertTrue(include.contains("$identifier") && include.contains("$title") && include.contains("relations.owningGroup"), "\(include)")
        XCTAssertFalse(include.contains { $0.contains("createdAt") || $0 == "properties" })
        port.clearFaults()

        let candidates = untargeted(blueprint: "component")
        XCTAssertGreaterThanOrEqual(candidates.count, 3)
        let edited = candidates[0].identifier
        let deleted = candidates[1].identifier
        let extended = candidates[2].identifier
        XCTAssertTrue(port.editEntity(blueprint: "component", identifier: edited) { entity in
            entity.title = "renamed by hand"
            entity.properties["type"] = "edited-by-hand"
        })
        XCTAssertTrue(port.deleteEntity(blueprint: "component", identifier: deleted))
        // A property mirrorctl does not send is someone else's business.
        XCTAssertTrue(port.editEntity(blueprint: "component", identifier: extended) { $0.properties["costCenter"] = "cc-42" })
        // So is an entity mirrorctl never created.
        try port.upsertEntity(blueprint: "component", ["identifier": "hand-made", "title": "made in the UI"], clientId: "someone")

        port.resetLog()
        let repair = try mirrorctl(["verify", "--json"])
        assertStatus(repair, 0)
        XCTAssertEqual(repair.json?["verify"], ["checked": .number(Double(owned)), "drifted": 1, "missing": 1, "repaired": 2])
        XCTAssertEqual(count(repair, "port", "upserted"), 2)
        XCTAssertTrue(repair.stderr.contains(edited) && repair.stderr.contains("properties.type"), repair.stderr)

        XCTAssertEqual(port.entity(blueprint: "component", identifier: edited)?.title, expected.entities["component/\(edited)"]?["title"]?.stringValue)
        XCTAssertNotNil(port.entity(blueprint: "component", identifier: deleted))
        XCTAssertEqual(port.entity(blueprint: "component", identifier: extended)?.properties["costCenter"], "cc-42")
        XCTAssertEqual(port.entity(blueprint: "component", identifier: "hand-made")?.title, "made in the UI")
        var withoutForeign = PortState(port)
        withoutForeign.entities["component/hand-made"] = nil
        if case .object(var body) = withoutForeign.entities["component/\(extended)"], case .object(var properties) = body["properties"] {
            properties["costCenter"] = nil
            body["properties"] = .object(properties)
            withoutForeign.entities["component/\(extended)"] = .object(body)
        }
        XCTAssertEqual(withoutForeign, expected, withoutForeign.differences(from: expected))
        try assertLedgerMatchesPort()

        // The repair holds: nothing to do next time.
        port.resetLog()
        let again = try mirrorctl(["verify", "--json"])
        XCTAssertEqual(again.json?["verify"], ["checked": .number(Double(owned)), "drifted": 0, "missing": 0, "repaired": 0])
        XCTAssertEqual(port.writeRequests, 0)

        // verify runs are recorded like any run.
        let runs = try mirrorctl(["runs", "--json"])
        XCTAssertEqual(runs.json?.arrayValue?.first?["command"], "verify")
    }

    func testSyncVerifiesOnRequestAndOnScheduleAndReportsItInItsJSON() throws {
        // The first sync with Port verifies at once (never verified); nothing is owned yet.
        let first = try mirrorctl(["sync", "--json"])
        assertStatus(first, 0)
        XCTAssertEqual(first.json?["verify"], ["checked": 0, "drifted": 0, "missing": 0, "repaired": 0])
        let victim = try XCTUnwrap(untargeted(blueprint: "component").first).identifier
        XCTAssertTrue(port.deleteEntity(blueprint: "component", identifier: victim))

        // Within --verify-every (24 h by default) a sync doesn't look: no search, no repair.
        port.resetLog()
        let quiet = try mirrorctl(["sync", "--json"])
        assertStatus(quiet, 0)
        XCTAssertNil(quiet.json?["verify"])
        XCTAssertEqual(port.totalRequests, 0)
        XCTAssertNil(port.entity(blueprint: "component", identifier: victim))

        // --verify-every 0 never verifies on its own.
        try backdateVerifications(hours: 48)
        let never = try mirrorctl(["sync", "--json", "--verify-every", "0"])
        XCTAssertNil(never.json?["verify"])

        // --verify does, and repairs in the same run's push.
        let asked = try mirrorctl(["sync", "--json", "--verify", "--verify-every", "0"])
        assertStatus(asked, 0)
        XCTAssertEqual(asked.json?[path: ["verify", "missing"]], 1)
        XCTAssertEqual(asked.json?[path: ["verify", "repaired"]], 1)
        XCTAssertEqual(count(asked, "port", "upserted"), 1)
        XCTAssertNotNil(port.entity(blueprint: "component", identifier: victim))

        // Once the last verification is older than --verify-every, the next sync verifies by itself.
        XCTAssertTrue(port.editEntity(blueprint: "component", identifier: victim) { $0.title = "edited" })
        try backdateVerifications(hours: 3)
        let scheduled = try mirrorctl(["sync", "--verify-every", "2"])
        assertStatus(scheduled, 0)
        XCTAssertTrue(scheduled.stdout.contains("verify: \(try ownedCount()) checked, 1 drifted, 0 missing, 1 repaired"), scheduled.stdout + scheduled.stderr)
        XCTAssertNotEqual(port.entity(blueprint: "component", identifier: victim)?.title, "edited")
        try assertLedgerMatchesPort()
    }

    func testAnUnreadableBlueprintIsReportedAndNothingIsTakenForMissing() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        try backdateVerifications(hours: 48)
        port.injectFault(FakePortFault(pathContains: "/blueprints/component/entities/search", count: 1, action: .status(400)))
        port.resetLog()
        let result = try mirrorctl(["verify", "--json"])
        assertStatus(result, 3)
        XCTAssertEqual(result.json?["status"], "partial")
        XCTAssertEqual(result.json?[path: ["verify", "missing"]], 0)
        XCTAssertEqual(result.json?[path: ["verify", "errors"]]?.arrayValue?.count, 1)
        XCTAssertTrue(result.stderr.contains("blueprint component"), result.stderr)
        XCTAssertEqual(port.writeRequests, 0)
        // An incomplete verification does not count for --verify-every: the next sync verifies
        // (the last complete one is 48 hours old).
        let next = try mirrorctl(["sync", "--json"])
        XCTAssertEqual(next.json?[path: ["verify", "drifted"]], 0)
    }

    func testRefusedCredentialsStopTheVerificationAtTheFirstBlueprint() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        port.resetLog()
        let result = try mirrorctl(["verify", "--json"], env: ["PORT_CLIENT_SECRET": "not-the-secret"])
        assertStatus(result, 1)
        XCTAssertEqual(result.json?["status"], "failed")
        XCTAssertEqual(result.json?[path: ["verify", "checked"]], 0)
        let errors = result.json?[path: ["verify", "errors"]]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertEqual(errors.count, 2, "\(errors)")
        XCTAssertTrue(errors.last?.hasPrefix("not verified: ") == true, "\(errors)")
        XCTAssertEqual(port.requestLog.filter { $0.path.hasSuffix("/entities/search") }.count, 0)
        XCTAssertFalse(result.stdout.contains("not-the-secret") || result.stderr.contains("not-the-secret"))
    }

    func testVerifyNeedsCredentialsAndADatabase() throws {
        let noDatabase = try mirrorctl(["verify"])
        assertStatus(noDatabase, 4)
        XCTAssertTrue(noDatabase.stderr.contains("no such database"), noDatabase.stderr)
        assertStatus(try mirrorctl(["sync"]), 0)
        let noCredentials = try mirrorctl(["verify"], env: ["PORT_CLIENT_ID": "", "PORT_CLIENT_SECRET": ""])
        assertStatus(noCredentials, 2)
        XCTAssertTrue(noCredentials.stderr.contains("PORT_CLIENT_ID"), noCredentials.stderr)
        let badSchedule = try mirrorctl(["sync", "--verify-every", "soon"])
        assertStatus(badSchedule, 2)
        XCTAssertTrue(badSchedule.stderr.contains("--verify-every"), badSchedule.stderr)
    }

    /// Entities mirrorctl owns in Port (the ledger), not counting related entities Port made up.
    private func ownedCount() throws -> Int {
        try MirrorStore(path: databasePath, readOnly: true).db.row("SELECT count(*) FROM ledger")?.int(0) ?? 0
    }

    /// Moves every verification `hours` into the past.
    private func backdateVerifications(hours: Double) throws {
        let store = try MirrorStore(path: databasePath)
        try store.db.run("UPDATE verifications SET finished_at = ?", [.text(Timestamp.string(Date().addingTimeInterval(-hours * 3600)))])
    }
}

/// Keeps the requests a fault rule's matcher saw (the rule itself never matches).
final class RequestRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [HTTPRequest] = []

    func record(_ request: HTTPRequest) { lock.withLock { seen.append(request) } }

    var requests: [HTTPRequest] { lock.withLock { seen } }
}
