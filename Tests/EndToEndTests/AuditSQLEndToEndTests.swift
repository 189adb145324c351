import FakeServers
import Fetch
import Foundation
@testable import Store
import XCTest

/// The README's audit SQL against a real mirror (two syncs of the example catalog, one entity
/// edited in between, one push refused by Port), and the deployment examples under deploy/.
final class AuditSQLEndToEndTests: EndToEndCase {
    var readme: String {
        get throws { try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8) }
    }

    /// The ```sql blocks of the README section "Querying the mirror for audit".
    func auditQueries() throws -> [String] {
        let text = try readme
        let start = try XCTUnwrap(text.range(of: "## Querying the mirror for audit"))
        let rest = text[start.upperBound...]
        let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
        var queries: [String] = []
        var current: [Substring]?
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```sql") {
                current = []
            } else if line.hasPrefix("```"), let lines = current {
                queries.append(lines.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return queries
    }

    func testTheREADMEsAuditQueriesRunAgainstARealMirror() throws {
        // A private copy of the example catalog, so an entity can be edited between syncs.
        let catalog = directory.appendingPathComponent("catalog")
        try FileManager.default.copyItem(at: EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog"), to: catalog)
        let port = try FakePort.start(clientId: "audit-client", clientSecret: "audit-secret")
        defer { port.stop() }
        port.createPermissiveBlueprints(["component", "group", "user", "system", "domain", "api", "resource"])
        environment["BACKSTAGE_URL"] = "file:" + catalog.path
        environment["PORT_BASE_URL"] = port.baseURL
        environment["PORT_CLIENT_ID"] = "audit-client"
        environment["PORT_CLIENT_SECRET"] = "audit-secret"
        port.forceFailures(identifiers: ["component:default/catalog-service"], status: 422, message: "refused by the audit test")
        // Port refuses one entity each time: the runs are partial (push-rejected).
        assertStatus(try mirrorctl(["sync"]), 3)
        let file = catalog.appendingPathComponent("components/storefront.yaml")
        let original = try String(contentsOf: file, encoding: .utf8)
        // web-shop (the file's first entity) gets a new description and owner; the owner change
        // also moves an ownerOf relation from team-web to team-platform.
        let edited = original.replacingOccurrences(of: "The server-rendered shop front at shop.example.com.",
                                                   with: "The shop front, now described by the audit test.")
        let owner = try XCTUnwrap(edited.range(of: "owner: team-web"))
        try Data(edited.replacingCharacters(in: owner, with: "owner: team-platform").utf8).write(to: file)
        assertStatus(try mirrorctl(["sync"]), 3)

        let queries = try auditQueries()
        XCTAssertGreaterThanOrEqual(queries.count, 5, "the README's examples")
        let store = try MirrorStore(path: databasePath, readOnly: true)
        var results: [String: [Row]] = [:]
        for query in queries {
            let rows = try store.db.rows(query)
            XCTAssertFalse(rows.isEmpty, "no rows from:\n\(query)")
            results[query] = rows
        }
        // Spot checks that the examples answer their questions.
        let history = try XCTUnwrap(results.first { $0.key.contains("v_entity_history") }?.value)
        XCTAssertEqual(history.map { $0.string(2) }, ["created", "updated"])
        XCTAssertEqual(history.last?.string(3), "The shop front, now described by the audit test.")
        let failures = try XCTUnwrap(results.first { $0.key.contains("v_push_failures") }?.value)
        XCTAssertTrue(failures.contains { $0.string(2) == "component:default/catalog-service"
            && ($0.string(5) ?? "").contains("refused by the audit test") }, "\(failures.map(\.values))")
        XCTAssertEqual(failures.first?.int(6), 1, "still pending")
        let pending = try XCTUnwrap(results.first { $0.key.contains("v_pending") }?.value)
        XCTAssertEqual(pending.compactMap { $0.string(1) }, ["component:default/catalog-service"])
        let recent = try XCTUnwrap(results.first { $0.key.contains("FROM v_changes") && $0.key.contains("-1 day") }?.value)
        XCTAssertTrue(recent.contains { $0.string(1) == "updated" && $0.string(2) == "component:default/web-shop" })
        let runs = try XCTUnwrap(results.first { $0.key.contains("FROM v_runs") }?.value)
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(runs.first?.int(5), 3, "the second run updated web-shop and the two groups whose ownerOf moved")
        let owners = try XCTUnwrap(results.first { $0.key.contains("v_field_changes") }?.value)
        XCTAssertEqual(owners.map { row in [0, 2, 3, 4, 5, 6].map { row.string($0) } },
                       [["2", "component:default/web-shop", "component", "spec.owner", #""team-web""#, #""team-platform""#]])
    }

    func testDeploymentExamplesAreValid() throws {
        // The examples read secrets from mounted files; here the environment stands in for them.
        environment["BACKSTAGE_TOKEN"] = "token"
        environment["PORT_CLIENT_ID"] = "id"
        environment["PORT_CLIENT_SECRET"] = "secret"
        environment.removeValue(forKey: "MIRROR_DB")
        let deploy = EndToEndCase.repositoryRoot.appendingPathComponent("deploy")
        // The example config file is accepted as it is.
        let shown = try mirrorctl(["config", "show", "--json", "--config", deploy.appendingPathComponent("mirrorctl.yaml").path])
        assertStatus(shown, 0)
        XCTAssertTrue(shown.stdout.contains("/var/lib/mirrorctl/mirror.db"), shown.stdout)
        // Every Kubernetes manifest parses; the ConfigMap's config and mapping work.
        let folder = deploy.appendingPathComponent("kubernetes")
        var kinds: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where name.hasSuffix(".yaml") {
            for document in try YAML.loadDocuments(path: folder.appendingPathComponent(name).path) {
                let manifest = try document.toJSON()
                kinds.append(manifest["kind"]?.stringValue ?? "?")
                for container in manifest[path: ["spec", "template", "spec", "containers"]]?.arrayValue
                    ?? manifest[path: ["spec", "jobTemplate", "spec", "template", "spec", "containers"]]?.arrayValue ?? [] {
                    let command = try XCTUnwrap(container["args"]?.arrayValue?.first?.stringValue)
                    assertStatus(try mirrorctl([command, "--help"]), 0)
                }
                guard manifest["kind"] == "ConfigMap", let data = manifest["data"] else { continue }
                let config = try writeFile("mirrorctl.yaml", try XCTUnwrap(data["mirrorctl.yaml"]?.stringValue))
                _ = try writeFile("mapping.yaml", try XCTUnwrap(data["mapping.yaml"]?.stringValue))
                assertStatus(try mirrorctl(["config", "show", "--config", config]), 0)
                let entity = try writeFile("entity.json", #"{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "x"}, "spec": {"type": "service", "lifecycle": "production", "owner": "team"}}"#)
                let trial = try mirrorctl(["mapping", "test", "--config", config, "--file", entity, "--json"])
                assertStatus(trial, 0)
            }
        }
        XCTAssertEqual(Set(kinds), ["ConfigMap", "CronJob", "Deployment", "PersistentVolumeClaim", "Secret"])
    }
}
