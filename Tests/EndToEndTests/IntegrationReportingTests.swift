import FakeServers
import Foundation
import Store
import XCTest

/// `--integration-id`: each sync reports its state to Port's integration as Ocean does
/// (`PATCH /v1/integration/{id}/resync-state`, running then completed/failed) and names the
/// integration in its User-Agent; a reporting failure is one warning, never a failed sync.
final class IntegrationReportingTests: PortBackedCase {
    let integration = "mirrorctl-prod"

    override var catalog: [FakeJSON] { FakeBackstage.generateCatalog(count: 60, seed: 5) }

    override func setUpWithError() throws {
        try super.setUpWithError()
        port.setIntegration(integration, config: ["resources": []])
    }

    var userAgent: String { "mirrorctl/backstage/\(try! XCTUnwrap(mirrorctlVersion))/\(integration)/exporter" }

    var mirrorctlVersion: String? {
        (try? mirrorctl(["version"]))?.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").last.map(String.init)
    }

    func testASyncReportsRunningThenCompletedWithItsCountsAndTheIntegrationsUserAgent() throws {
        let sync = try mirrorctl(["sync", "--integration-id", integration, "--json"])
        assertStatus(sync, 0)
        XCTAssertFalse(sync.stderr.contains("warning"), sync.stderr)
        let reports = port.resyncStateReports(integration).map(JSONValue.init)
        XCTAssertEqual(reports.map { $0["status"]?.stringValue }, ["running", "completed"])
        let start = try XCTUnwrap(reports[0]["lastResyncStart"]?.stringValue)
        XCTAssertEqual(reports[0]["lastResyncEnd"], .null)
        XCTAssertEqual(reports[1]["lastResyncStart"]?.stringValue, start)
        let end = try XCTUnwrap(reports[1]["lastResyncEnd"]?.stringValue)
        XCTAssertLessThanOrEqual(start, end)
        XCTAssertEqual(reports[1][path: ["counts", "run"]], sync.json?["run"])
        XCTAssertEqual(reports[1][path: ["counts", "source"]], sync.json?["source"])
        XCTAssertEqual(reports[1][path: ["counts", "port", "upserted"]], sync.json?[path: ["port", "upserted"]])
        // Port's integration now shows the last resync.
        let patches = port.requestLog.filter { $0.route == "PATCH /v1/integration/{identifier}/resync-state" }
        XCTAssertEqual(patches.count, 2)
        XCTAssertTrue(patches.allSatisfy { $0.status == 200 })
        // Every request to Port, entity writes included, names mirrorctl, its version and the integration.
        XCTAssertGreaterThan(port.requestLog.count, 3)
        for record in port.requestLog { XCTAssertEqual(record.userAgent, userAgent, record.route) }
    }

    func testTheConfigFileAndEnvironmentNameTheIntegrationToo() throws {
        let config = try writeFile("mirrorctl.yaml", "port:\n  integrationId: \(integration)\n")
        assertStatus(try mirrorctl(["--config", config, "sync"]), 0)
        XCTAssertEqual(port.resyncStateReports(integration).count, 2)
        assertStatus(try mirrorctl(["sync"], env: ["PORT_INTEGRATION_ID": integration]), 0)
        XCTAssertEqual(port.resyncStateReports(integration).count, 4)
        let shown = try mirrorctl(["--config", config, "config", "show", "--json"])
        let setting = shown.json?["settings"]?.arrayValue?.first { $0["name"] == "port.integrationId" }
        XCTAssertEqual(setting?["value"], .string(integration))
    }

    func testAFailedRunIsReportedFailed() throws {
        backstage.stop()
        let sync = try mirrorctl(["sync", "--integration-id", integration, "--max-retries", "0"])
        assertStatus(sync, 1)
        XCTAssertEqual(port.resyncStateReports(integration).map { $0["status"]?.stringValue }, ["running", "failed"])
        XCTAssertNotNil(port.resyncStateReports(integration).last?["lastResyncEnd"]?.stringValue)
    }

    func testReportingFailuresWarnOnceAndNeverFailTheSync() throws {
        port.removeIntegration(integration)
        let sync = try mirrorctl(["sync", "--integration-id", integration, "--json"])
        assertStatus(sync, 0)
        XCTAssertGreaterThan(sync.json?[path: ["port", "upserted"]]?.numberValue ?? 0, 0, "the sync pushed as usual")
        let warnings = sync.stderr.split(separator: "\n").filter { $0.contains("could not report") }
        XCTAssertEqual(warnings.count, 1, sync.stderr)
        XCTAssertTrue(warnings.first?.contains(integration) == true)
        XCTAssertFalse(sync.stderr.contains(PortBackedCase.clientSecret))
        XCTAssertEqual(port.requestLog.filter { $0.route.hasSuffix("resync-state") }.count, 1, "gave up after the first failure")
    }

    func testAPortThatRefusesTheCountsGetsOceansExactBody() throws {
        port.setStrictResyncState(true)
        let sync = try mirrorctl(["sync", "--integration-id", integration])
        assertStatus(sync, 0)
        XCTAssertFalse(sync.stderr.contains("could not report"), sync.stderr)
        let reports = port.resyncStateReports(integration).map(JSONValue.init)
        XCTAssertEqual(reports.map { $0["status"]?.stringValue }, ["running", "completed"])
        XCTAssertNil(reports[1]["counts"])
    }

    func testWithoutAnIntegrationIdNothingIsReported() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        XCTAssertTrue(port.resyncStateReports(integration).isEmpty)
        XCTAssertFalse(port.requestLog.isEmpty, "the sync reached Port")
        XCTAssertTrue(port.requestLog.allSatisfy { $0.userAgent == "mirrorctl/\(mirrorctlVersion ?? "")" })
        // A dry run reports nothing either.
        assertStatus(try mirrorctl(["sync", "--dry-run", "--integration-id", integration]), 0)
        XCTAssertTrue(port.resyncStateReports(integration).isEmpty)
    }
}
