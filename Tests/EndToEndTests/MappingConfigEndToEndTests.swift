import FakeServers
import Foundation
@testable import Store
import XCTest

/// Mapping files and `init` through the binary: configuration errors stop a run before anything
/// is fetched, with the file, line and field named.
final class MappingConfigEndToEndTests: EndToEndCase {
    var backstage: FakeBackstage!

    override func setUpWithError() throws {
        try super.setUpWithError()
        backstage = try FakeBackstage(entities: FakeBackstage.generateCatalog(count: 50, seed: 3))
        environment["BACKSTAGE_URL"] = backstage.baseURL
    }

    override func tearDownWithError() throws {
        backstage.stop()
        try super.tearDownWithError()
    }

    /// A one-resource mapping of components; `fields` are more lines under `mappings:`.
    func componentMapping(identifier: String = ".metadata.identifier", _ fields: String = "") -> String {
        """
        resources:
          - kind: component
            selector:
              query: 'true'
            port:
              entity:
                mappings:
                  identifier: \(identifier)
                  blueprint: '"component"'

        """ + fields.split(separator: "\n").map { "          \($0)\n" }.joined()
    }

    func testAJqSyntaxErrorIsAConfigurationErrorBeforeAnythingIsFetched() throws {
        let mapping = try writeFile("broken.yaml", componentMapping("properties:\n  type: .spec.type | ]]"))
        let result = try mirrorctl(["sync", "--mapping", mapping])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("broken.yaml"), result.stderr)
        XCTAssertTrue(result.stderr.contains("resources[0]") && result.stderr.contains("properties.type"), result.stderr)
        XCTAssertTrue(result.stderr.contains(".spec.type | ]]"), result.stderr)
        XCTAssertEqual(backstage.stats.requests, 0, "nothing is fetched with a broken mapping")
        XCTAssertFalse(FileManager.default.fileExists(atPath: databasePath), "nothing is written either")
    }

    /// A sync records the mapping program it compiled, so later syncs skip the ~60 ms check;
    /// a diff records nothing, and a program never recorded is still checked up front.
    func testSyncsRecordTheCompiledProgramAndStillCheckNewOnes() throws {
        func recorded() throws -> Int {
            let store = try MirrorStore(path: databasePath, readOnly: true)
            return try store.db.row("SELECT count(*) FROM compiled_mappings")?.int(0) ?? -1
        }
        assertStatus(try mirrorctl(["diff"]), 0)
        assertStatus(try mirrorctl(["sync"]), 0)
        XCTAssertEqual(try recorded(), 1)
        assertStatus(try mirrorctl(["sync"]), 0)
        XCTAssertEqual(try recorded(), 1, "the same program is recorded once")
        let good = try writeFile("good.yaml", componentMapping(identifier: ".metadata.name"))
        assertStatus(try mirrorctl(["diff", "--mapping", good]), 0)
        XCTAssertEqual(try recorded(), 1, "a diff writes nothing")
        assertStatus(try mirrorctl(["sync", "--mapping", good]), 0)
        XCTAssertEqual(try recorded(), 2)
        let broken = try writeFile("broken.yaml", componentMapping(identifier: ".metadata.name", "title: .metadata.name |"))
        backstage.resetStats()
        let result = try mirrorctl(["sync", "--mapping", broken])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("title"), result.stderr)
        XCTAssertEqual(backstage.stats.requests, 0, "refused before anything is fetched")
        XCTAssertEqual(try recorded(), 2)
    }

    func testYAMLAndSchemaErrorsNameFileLineAndKey() throws {
        let badYAML = try writeFile("bad.yaml", "resources:\n  - kind: component\n   selector: [\n")
        var result = try mirrorctl(["diff", "--mapping", badYAML])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("bad.yaml:"), result.stderr)

        let unknownKey = try writeFile("unknown.yaml", """
            entityDeletionThreshold: 1.5
            resources: []
            """)
        result = try mirrorctl(["diff", "--mapping", unknownKey])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("unknown.yaml:1") && result.stderr.contains("entityDeletionThreshold"), result.stderr)

        result = try mirrorctl(["diff", "--mapping", directory.appendingPathComponent("missing.yaml").path])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("missing.yaml"), result.stderr)
    }

    func testTheOceanDefaultMappingReproducesOceansQuirks() throws {
        let mapping = EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/ocean-default.yaml").path
        let port = try FakePort.start(clientId: "id-1", clientSecret: "secret-1", configuration: {
            var configuration = FakePortConfiguration()
            configuration.autoBlueprints = true
            return configuration
        }())
        defer { port.stop() }
        let env = ["PORT_BASE_URL": port.baseURL, "PORT_CLIENT_ID": "id-1", "PORT_CLIENT_SECRET": "secret-1",
                   "MIRROR_MAPPING": mapping]
        let sync = try mirrorctl(["sync", "--json"], env: env)
        assertStatus(sync, 0)
        let component = try XCTUnwrap(port.entities(blueprint: "component").first { entity in
            (backstage.entity(try! XCTUnwrap(EntityRef(parsing: entity.identifier)))?["relations"]?.arrayValue ?? [])
                .filter { $0["type"] == "providesApi" }.count > 1
        }, "a component providing several APIs")
        XCTAssertNotNil(component.relations["providesApis"]?.stringValue, "Ocean keeps only the first target: a string, not an array")
        XCTAssertEqual(component.relations["subcomponentOf"] ?? .null, .null, "Backstage emits partOf, never subcomponentOf")
    }

    func testInitWritesTheStarterFilesAndAppliesBlueprints() throws {
        let port = try FakePort.start(clientId: "id-2", clientSecret: "secret-2")
        defer { port.stop() }
        let folder = directory.appendingPathComponent("starter").path
        let result = try mirrorctl(["init", "--dir", folder],
                                   env: ["PORT_BASE_URL": port.baseURL, "PORT_CLIENT_ID": "id-2", "PORT_CLIENT_SECRET": "secret-2"])
        assertStatus(result, 0)
        XCTAssertEqual(Set(port.blueprints.map(\.identifier)), ["user", "group", "domain", "system", "api", "resource", "component"])
        let mapping = try String(contentsOfFile: folder + "/mapping.yaml", encoding: .utf8)
        XCTAssertEqual(mapping, try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/builtin.yaml"), encoding: .utf8))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/mirrorctl.yaml"))
        // The written mapping works as is.
        assertStatus(try mirrorctl(["diff", "--mapping", folder + "/mapping.yaml"]), 0)
        // Running it again refuses to overwrite the files; with --force it rewrites them and
        // changes nothing in Port.
        let env = ["PORT_BASE_URL": port.baseURL, "PORT_CLIENT_ID": "id-2", "PORT_CLIENT_SECRET": "secret-2"]
        assertStatus(try mirrorctl(["init", "--dir", folder], env: env), 2)
        let again = try mirrorctl(["init", "--dir", folder, "--force"], env: env)
        assertStatus(again, 0)
        XCTAssertTrue(again.stdout.contains("0 created"), again.stdout)
    }
}
