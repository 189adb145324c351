import FakeServers
import Foundation
@testable import Store
import XCTest

/// `mapping test` and `mapping lint` against a mirror of the example catalog, and
/// `--mapping port:ID` against the fake Port.
final class MappingEndToEndTests: EndToEndCase {
    var catalogURL: String { "file:" + EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog").path }
    var oceanDefault: String { EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/ocean-default.yaml").path }

    override func setUpWithError() throws {
        try super.setUpWithError()
        environment["BACKSTAGE_URL"] = catalogURL
        assertStatus(try mirrorctl(["sync"]), 0)
    }

    /// A group of the example catalog with several members (Ocean's default keeps only the first).
    func groupWithMembers() throws -> String {
        let store = try MirrorStore(path: databasePath, readOnly: true)
        let refs = try store.db.rows("SELECT ref FROM entities WHERE kind = 'group' ORDER BY ref").compactMap { $0.string(0) }
        for ref in refs {
            let body = try XCTUnwrap(try store.currentBody(of: XCTUnwrap(EntityRef(parsing: ref))))
            let relations = try CanonicalJSON.parse(body.bytes)["relations"]?.arrayValue ?? []
            if relations.filter({ $0["type"] == "hasMember" }).count > 1 { return ref }
        }
        throw XCTSkip("no group with several members in the example catalog")
    }

    func testMappingTestShowsTheMappedEntityFromTheMirror() throws {
        let ref = try groupWithMembers()
        let human = try mirrorctl(["mapping", "test", ref])
        assertStatus(human, 0)
        XCTAssertTrue(human.stdout.contains("identifier: \"\(ref)\""), human.stdout)
        XCTAssertTrue(human.stdout.contains("blueprint: \"group\""), human.stdout)
        XCTAssertTrue(human.stdout.contains("relations:"), human.stdout)

        let json = try mirrorctl(["mapping", "test", ref, "--json"])
        assertStatus(json, 0)
        let result = try XCTUnwrap(json.json?["results"]?.arrayValue?.first)
        XCTAssertEqual(result["outcome"], "mapped")
        XCTAssertEqual(result[path: ["entity", "identifier"]], .string(ref))
        XCTAssertEqual(result[path: ["entity", "relations", "members"]]?.arrayValue?.count ?? 0 > 1, true,
                       "the built-in mapping keeps every member")
        XCTAssertEqual(result["multipleOutputs"], [])
    }

    func testMappingTestWithOceansDefaultShowsTheTruncatedRelation() throws {
        let ref = try groupWithMembers()
        let result = try mirrorctl(["mapping", "test", ref, "--mapping", oceanDefault, "--json"])
        assertStatus(result, 0)
        let first = try XCTUnwrap(result.json?["results"]?.arrayValue?.first)
        XCTAssertEqual(first[path: ["entity", "relations", "members"]]?.stringValue?.hasPrefix("user:"), true, "one member only")
        let multiple = first["multipleOutputs"]?.arrayValue ?? []
        XCTAssertTrue(multiple.contains { $0["field"] == "relations.members" && ($0["outputs"]?.numberValue ?? 0) > 1 }, "\(multiple)")
        let human = try mirrorctl(["mapping", "test", ref, "--mapping", oceanDefault])
        XCTAssertTrue(human.stdout.contains("relations.members"), human.stdout)
        XCTAssertTrue(human.stdout.contains("only the first is kept"), human.stdout)
    }

    func testMappingTestOnAFileShowsEveryNullWarning() throws {
        let entity = try writeFile("entity.json", """
            {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
             "metadata": {"name": "lonely", "namespace": "default"},
             "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/nobody"}}
            """)
        let mapping = try writeComponentMapping("mapping.yaml", mappings: """
            identifier: .metadata.identifier
            title: .metadata.title
            blueprint: '"component"'
            properties:
              type: .spec.type
              broken: .spec.type | tonumber
            relations:
              owners: '[.relations[]? | .targetRef]'
            """)
        let result = try mirrorctl(["mapping", "test", "--file", entity, "--mapping", mapping, "--json"])
        assertStatus(result, 0)
        let first = try XCTUnwrap(result.json?["results"]?.arrayValue?.first)
        XCTAssertEqual(first[path: ["entity", "identifier"]], "component:default/lonely")
        XCTAssertEqual(first[path: ["entity", "properties", "type"]], "service")
        let warned = Set((first["warnings"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue })
        XCTAssertEqual(warned, ["title", "properties.broken"])
        let human = try mirrorctl(["mapping", "test", "--file", entity, "--mapping", mapping])
        XCTAssertTrue(human.stdout.contains("warning: properties.broken"), human.stdout)
        XCTAssertTrue(human.stdout.contains("(sent as null)"), human.stdout)
    }

    func testMappingTestErrorsAreClear() throws {
        let missing = try mirrorctl(["mapping", "test", "component:default/does-not-exist"])
        assertStatus(missing, 1)
        XCTAssertTrue(missing.stderr.contains("not in the mirror"), missing.stderr)
        let garbage = try writeFile("garbage.json", "{ not json: [")
        let bad = try mirrorctl(["mapping", "test", "--file", garbage])
        assertStatus(bad, 2)
        XCTAssertTrue(bad.stderr.contains("garbage.json"), bad.stderr)
        assertStatus(try mirrorctl(["mapping", "test"]), 2)
        assertStatus(try mirrorctl(["mapping", "frobnicate"]), 2)
        // A kind the mapping does not read produces nothing: exit 1.
        let location = try writeFile("location.json", #"{"apiVersion": "backstage.io/v1alpha1", "kind": "Location", "metadata": {"name": "x"}, "spec": {}}"#)
        let unmapped = try mirrorctl(["mapping", "test", "--file", location])
        assertStatus(unmapped, 1)
        XCTAssertTrue(unmapped.stdout.contains("No resource"), unmapped.stdout)
    }

    func testLintFindsTheOceanDefaultMappingsManyRelationTruncation() throws {
        let result = try mirrorctl(["mapping", "lint", "--mapping", oceanDefault, "--json"])
        assertStatus(result, 1)
        let findings = result.json?["findings"]?.arrayValue ?? []
        let truncations = findings.filter { $0["rule"] == "multiple-outputs" }
        XCTAssertTrue(truncations.contains { $0["field"] == "relations.members" && $0["kind"] == "group" }, "\(truncations)")
        let members = try XCTUnwrap(truncations.first { $0["field"] == "relations.members" })
        XCTAssertTrue(members["suggestion"]?.stringValue?.contains("[.relations[]") == true, "\(members)")
        XCTAssertTrue(members["location"]?.stringValue?.contains("ocean-default.yaml:") == true, "\(members)")
        // Ocean's subcomponentOf is null for every entity (Backstage's relation is partOf).
        let subcomponent = findings.first { $0["rule"] == "always-null" && $0["field"] == "relations.subcomponentOf" }
        XCTAssertEqual(subcomponent?["count"]?.numberValue.map(Int.init),
                       result.json?["resources"]?.arrayValue?.first?["mapped"]?.numberValue.map(Int.init))
        let human = try mirrorctl(["mapping", "lint", "--mapping", oceanDefault])
        XCTAssertTrue(human.stdout.contains("multiple-outputs"), human.stdout)
        XCTAssertTrue(human.stdout.contains("fix: collect them"), human.stdout)
    }

    func testLintOfTheBuiltInMappingHasNoTruncationAndMatchesTheBuiltInBlueprints() throws {
        let result = try mirrorctl(["mapping", "lint", "--blueprints", "builtin", "--json"])
        let findings = result.json?["findings"]?.arrayValue ?? []
        XCTAssertEqual(result.json?["checkedSchemas"], true)
        XCTAssertFalse(findings.contains { $0["rule"] == "multiple-outputs" }, "\(findings)")
        XCTAssertFalse(findings.contains { $0["rule"] == "schema-mismatch" }, "\(findings)")
        XCTAssertFalse(findings.contains { $0["rule"] == "invalid-identifier" }, "\(findings)")
    }

    func testLintFindsSchemaMismatchesBadIdentifiersAndMissingTargets() throws {
        let mapping = try writeComponentMapping("mapping.yaml", header: "createMissingRelatedEntities: false\n", mappings: """
            identifier: '.metadata.name + " copy"'
            title: .metadata.name
            blueprint: '"component"'
            properties:
              type: '1'
              tags: .metadata.tags
              nonsense: .spec.type
            relations:
              system: '"system:default/nowhere"'
              providesApis: '.relations[0].targetRef'
            """)
        let result = try mirrorctl(["mapping", "lint", "--mapping", mapping, "--blueprints", "builtin", "--json"])
        assertStatus(result, 1)
        let findings = result.json?["findings"]?.arrayValue ?? []
        func has(_ rule: String, _ field: String, _ text: String) -> Bool {
            findings.contains { $0["rule"]?.stringValue == rule && $0["field"]?.stringValue == field
                && ($0["message"]?.stringValue ?? "").contains(text) }
        }
        XCTAssertTrue(has("schema-mismatch", "properties.type", "wants string"), "\(findings)")
        XCTAssertTrue(has("schema-mismatch", "properties.nonsense", "has no property"), "\(findings)")
        XCTAssertTrue(has("invalid-identifier", "identifier", "\" \""), "\(findings)")
        XCTAssertTrue(has("missing-target", "relations.system", "system"), "\(findings)")
        XCTAssertTrue(findings.contains { $0["rule"] == "missing-target" && ($0["suggestion"]?.stringValue ?? "").contains("refuse") })
        // providesApis is many in the built-in blueprint; a single identifier does not fit.
        XCTAssertTrue(has("schema-mismatch", "relations.providesApis", "wants an array"), "\(findings)")
    }

    func testPortManagedMappingIsReadFromTheIntegrationConfig() throws {
        let port = try FakePort.start(clientId: "mapping-client", clientSecret: "mapping-secret-value")
        defer { port.stop() }
        port.createPermissiveBlueprints(["component", "group", "user", "system", "domain", "api", "resource"])
        environment["PORT_BASE_URL"] = port.baseURL
        environment["PORT_CLIENT_ID"] = "mapping-client"
        environment["PORT_CLIENT_SECRET"] = "mapping-secret-value"
        let config: FakeJSON = ["resources": [[
            "kind": "component", "selector": ["query": "true"],
            "port": ["entity": ["mappings": [
                "identifier": ".metadata.name", "title": ".metadata.name", "blueprint": "\"component\"",
                "properties": ["lifecycle": ".spec.lifecycle"],
            ]]],
        ]]]
        port.setIntegration("mirror-backstage", config: config)

        let sync = try mirrorctl(["sync", "--mapping", "port:mirror-backstage", "--json"])
        assertStatus(sync, 0)
        let components = port.entities(blueprint: "component")
        XCTAssertGreaterThan(components.count, 0)
        XCTAssertTrue(components.allSatisfy { !$0.identifier.contains(":") }, "identifiers come from Port's mapping")
        XCTAssertEqual(port.allEntities.count, components.count, "only the kinds of Port's mapping")
        XCTAssertTrue(port.requestLog.contains { $0.route == "GET /v1/integration/{identifier}" })

        let trial = try mirrorctl(["mapping", "test", "--mapping", "port:mirror-backstage", "--json",
                                   try XCTUnwrap(port.entities(blueprint: "component").first.map { "component:default/\($0.identifier)" })])
        assertStatus(trial, 0)
        XCTAssertEqual(trial.json?["mapping"], "port:mirror-backstage")

        let missing = try mirrorctl(["sync", "--mapping", "port:nope"])
        assertStatus(missing, 2)
        XCTAssertTrue(missing.stderr.contains("no integration 'nope'"), missing.stderr)
        port.setIntegration("empty", config: [:])
        let empty = try mirrorctl(["mapping", "lint", "--mapping", "port:empty"])
        assertStatus(empty, 2)
        XCTAssertTrue(empty.stderr.contains("config is empty"), empty.stderr)
        XCTAssertFalse(missing.stderr.contains("mapping-secret-value") || sync.stdout.contains("mapping-secret-value"))
    }
}

extension EndToEndCase {
    /// Writes a one-resource mapping of kind component; `mappings` is the YAML under
    /// `port.entity.mappings`, indented by two spaces per level from column 0.
    func writeComponentMapping(_ name: String, header: String = "", mappings: String) throws -> String {
        let body = mappings.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "          " + $0 }.joined(separator: "\n")
        return try writeFile(name, header + """
            resources:
              - kind: component
                selector: {query: 'true'}
                port:
                  entity:
                    mappings:

            """ + body + "\n")
    }
}
