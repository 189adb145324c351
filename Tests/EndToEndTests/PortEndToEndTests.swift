import FakeServers
import Foundation
@testable import Store
import XCTest

/// The full loop: fake Backstage → mirrorctl (built binary) → fake Port.
final class PortEndToEndTests: EndToEndCase {
    var backstage: FakeBackstage!
    var port: FakePort!

    override func setUpWithError() throws {
        try super.setUpWithError()
        backstage = try FakeBackstage(entities: FakeBackstage.generateCatalog(count: 160, seed: 11))
        port = try FakePort.start(clientId: "client-id-e2e", clientSecret: "port-secret-e2e")
        environment["BACKSTAGE_URL"] = backstage.baseURL
        environment["PORT_BASE_URL"] = port.baseURL
        environment["PORT_CLIENT_ID"] = "client-id-e2e"
        environment["PORT_CLIENT_SECRET"] = "port-secret-e2e"
        assertStatus(try mirrorctl(["blueprints", "apply"]), 0)
        port.resetLog()
    }

    override func tearDownWithError() throws {
        backstage.stop()
        port.stop()
        try super.tearDownWithError()
    }

    func portCount(_ result: CommandResult, _ key: String) -> Int? {
        result.json?[path: ["port", key]]?.numberValue.map(Int.init)
    }

    /// Mirrored entities the built-in mapping turns into Port entities: one per entity of the 7 kinds.
    var expectedEntityCount: Int {
        let kinds: Set<String> = ["component", "api", "group", "user", "resource", "system", "domain"]
        return backstage.allEntities.filter { kinds.contains($0["kind"]?.stringValue?.lowercased() ?? "") }.count
    }

    func testBlueprintsApplyIsIdempotentAndStaged() throws {
        XCTAssertEqual(Set(port.blueprints.map(\.identifier)), ["user", "group", "domain", "system", "api", "resource", "component"])
        XCTAssertNotNil(port.blueprint("component")?.relations["providesApis"])
        let again = try mirrorctl(["blueprints", "apply", "--json"])
        assertStatus(again, 0)
        XCTAssertEqual(again.json?["created"], [])
    }

    func testFirstSyncCreatesTheMappedEntitiesSecondSendsNothing() throws {
        let first = try mirrorctl(["sync", "--json"])
        assertStatus(first, 0)
        XCTAssertEqual(portCount(first, "upserted"), expectedEntityCount)
        XCTAssertEqual(portCount(first, "failed"), 0)
        XCTAssertEqual(port.allEntities.filter { $0.createdBy.hasPrefix("client-id-e2e") }.count, expectedEntityCount)
        // Spot-check one entity against its source.
        let component = try XCTUnwrap(backstage.allEntities.first { $0["kind"] == "Component" })
        let ref = try XCTUnwrap(EntityRef(entity: component))
        let pushed = try XCTUnwrap(port.entity(blueprint: "component", identifier: ref.description))
        XCTAssertEqual(pushed.title, component[path: ["metadata", "title"]]?.stringValue ?? component[path: ["metadata", "name"]]?.stringValue)
        XCTAssertEqual(pushed.properties["type"], component[path: ["spec", "type"]])
        XCTAssertTrue(port.requestLog.allSatisfy { ($0.userAgent ?? "").hasPrefix("mirrorctl/") })

        port.resetLog()
        let second = try mirrorctl(["sync", "--json"])
        assertStatus(second, 0)
        XCTAssertEqual(port.totalRequests, 0, "a no-change sync sends no Port request")
        XCTAssertEqual(portCount(second, "upserted"), 0)
        XCTAssertEqual(portCount(second, "unchanged"), expectedEntityCount)
        XCTAssertEqual(portCount(second, "pending"), 0)
    }

    func testOneChangeUpsertsOnlyTheAffectedEntityAndADeleteDeletesOnlyIt() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let component = try XCTUnwrap(backstage.allEntities.first { $0["kind"] == "Component" })
        guard case .object(var body) = component, case .object(var metadata) = body["metadata"] else { return XCTFail() }
        metadata["description"] = "now described"
        body["metadata"] = .object(metadata)
        try backstage.upsert(.object(body))
        let ref = try XCTUnwrap(EntityRef(entity: component))

        let diff = try mirrorctl(["diff", "--json"])
        assertStatus(diff, 0)
        XCTAssertEqual(diff.json?[path: ["port", "upserts"]],
                       [["blueprint": "component", "identifier": .string(ref.description), "change": "update",
                         "fields": [["path": "properties.description", "old": component[path: ["metadata", "description"]].map(JSONValue.init) ?? .null,
                                     "new": "now described"]]]])
        port.resetLog()
        let sync = try mirrorctl(["sync", "--json"])
        XCTAssertEqual(portCount(sync, "upserted"), 1)
        XCTAssertEqual(port.writeRequests, 1)
        XCTAssertEqual(port.entity(blueprint: "component", identifier: ref.description)?.properties["description"], "now described")

        // Delete an entity no other entity points at: exactly it goes.
        let targeted = Set(port.allEntities.flatMap { entity in
            entity.relations.values.flatMap { value -> [String] in
                if let text = value.stringValue { return [text] }
                return value.arrayValue?.compactMap(\.stringValue) ?? []
            }
        })
        let victim = try XCTUnwrap(port.entities(blueprint: "component").first { !targeted.contains($0.identifier) })
        let victimRef = try XCTUnwrap(EntityRef(parsing: victim.identifier))
        XCTAssertTrue(backstage.delete(victimRef))
        let before = port.allEntities.count
        port.resetLog()
        let deleting = try mirrorctl(["sync", "--json"])
        assertStatus(deleting, 0)
        XCTAssertEqual(portCount(deleting, "deleted"), 1)
        XCTAssertEqual(port.allEntities.count, before - 1)
        XCTAssertNil(port.entity(blueprint: "component", identifier: victim.identifier))
    }

    func testMappingChangeRePushesOnlyEntitiesWhoseOutputChanged() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let builtin = try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/builtin.yaml"), encoding: .utf8)
        // Only domains get a new title.
        let changed = builtin.replacingOccurrences(of: "blueprint: '\"domain\"'", with: "blueprint: '\"domain\"'\n        icon: '\"Cloud\"'")
        XCTAssertNotEqual(changed, builtin)
        let mapping = try writeFile("mapping.yaml", changed)
        port.resetLog()
        let sync = try mirrorctl(["sync", "--json"], env: ["MIRROR_MAPPING": mapping])
        assertStatus(sync, 0)
        let domains = backstage.allEntities.filter { $0["kind"] == "Domain" }.count
        XCTAssertGreaterThan(domains, 0)
        XCTAssertEqual(portCount(sync, "upserted"), domains)
        XCTAssertEqual(port.entities(blueprint: "domain").first?.icon, "Cloud")
    }

    func testRateLimitStormAndTokenExpiryStillComplete() throws {
        port.setRateLimit(limit: 3, period: 1, resetFormat: .secondsUntilReset, sendsRetryAfter: false)
        port.setTokenLifetime(2)
        port.injectFault(FakePortFault(pathContains: "/entities/bulk", count: 1, action: .expireTokens))
        let sync = try mirrorctl(["sync", "--json", "--concurrency", "2"], timeout: 300)
        assertStatus(sync, 0)
        XCTAssertEqual(portCount(sync, "upserted"), expectedEntityCount, sync.stderr)
        XCTAssertEqual(portCount(sync, "pending"), 0)
        XCTAssertGreaterThan(port.requestLog.filter { $0.status == 429 }.count, 0, "the storm happened")
    }

    func testARejectedEntityStaysPendingWhileTheOthersArePushed() throws {
        let component = try XCTUnwrap(backstage.allEntities.first { $0["kind"] == "Component" })
        let identifier = try XCTUnwrap(EntityRef(entity: component)).description
        port.forceFailures(identifiers: [identifier], status: 422, error: "blueprint_schema_mismatch", message: "the test refuses it")
        let first = try mirrorctl(["sync", "--json"])
        // Not everything planned reached Port: partial, with the reason.
        assertStatus(first, 3)
        XCTAssertEqual(first.json?["status"], "partial")
        XCTAssertEqual(first.json?["reasons"], ["push-rejected"])
        XCTAssertEqual(portCount(first, "failed"), 1)
        XCTAssertEqual(portCount(first, "pending"), 1)
        XCTAssertEqual(portCount(first, "upserted"), expectedEntityCount - 1)
        XCTAssertTrue(first.stderr.contains("the test refuses it"), first.stderr)
        let store = try MirrorStore(path: databasePath, readOnly: true)
        XCTAssertEqual(try store.db.row("SELECT status, last_error FROM ledger WHERE identifier = ?", [.text(identifier)])?.string(0), "rejected")
        port.clearForcedFailures()
        port.resetLog()
        let second = try mirrorctl(["sync", "--json"])
        assertStatus(second, 0)
        XCTAssertEqual(second.json?["reasons"], [])
        XCTAssertEqual(portCount(second, "upserted"), 1)
        XCTAssertEqual(portCount(second, "pending"), 0)
        XCTAssertNotNil(port.entity(blueprint: "component", identifier: identifier))
    }

    func testWithoutCredentialsTheRunIsMirrorOnlyThenTheFirstSyncWithThemPushesAll() throws {
        let offline = try mirrorctl(["sync", "--json"], env: ["PORT_CLIENT_ID": "", "PORT_CLIENT_SECRET": ""])
        assertStatus(offline, 0)
        XCTAssertEqual(offline.json?[path: ["port", "skipped"]], true)
        XCTAssertEqual(portCount(offline, "pending"), expectedEntityCount)
        XCTAssertEqual(port.totalRequests, 0)
        let online = try mirrorctl(["sync", "--json"])
        XCTAssertEqual(online.json?[path: ["port", "skipped"]], false)
        XCTAssertEqual(portCount(online, "upserted"), expectedEntityCount)
    }

    func testMassDeleteIsRefusedAboveTheThresholdUnlessAllowed() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        for entity in backstage.allEntities where entity["kind"] != "Domain" {
            if let ref = EntityRef(entity: entity) { _ = backstage.delete(ref) }
        }
        let refused = try mirrorctl(["sync", "--json"])
        assertStatus(refused, 3)
        XCTAssertEqual(refused.json?[path: ["port", "deletesSkipped"]], true)
        XCTAssertTrue(refused.stderr.contains("entityDeletionThreshold"), refused.stderr)
        XCTAssertEqual(portCount(refused, "deleted"), 0)
        let allowed = try mirrorctl(["sync", "--json", "--allow-mass-delete"])
        assertStatus(allowed, 0)
        XCTAssertGreaterThan(portCount(allowed, "deleted") ?? 0, expectedEntityCount / 2)
    }
}
