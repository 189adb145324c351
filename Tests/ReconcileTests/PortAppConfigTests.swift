import Fetch
import Foundation
@testable import Reconcile
import Store
import XCTest

/// Parsing port-app-config YAML: the model, Ocean's defaults, and messages naming file, line and key.
final class PortAppConfigTests: XCTestCase {
    private typealias Support = MappingTestSupport

    private func parseError(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> MappingConfigError? {
        do {
            _ = try PortAppConfig.parse(yaml: yaml, file: "mapping.yaml")
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testFullConfig() throws {
        let config = try Support.config("""
            createMissingRelatedEntities: false
            deleteDependentEntities: false
            enableMergeEntity: false
            entityDeletionThreshold: 0.5
            resources:
              - kind: component
                selector:
                  query: .spec.type == "service"
                port:
                  entity:
                    mappings:
                      identifier: .metadata.name
                      title: .metadata.title
                      blueprint: '"service"'
                      icon: '"Cloud"'
                      team: .spec.owner
                      properties:
                        zeta: .z
                        alpha: .a
                        mid: .m
                      relations:
                        second: .b
                        first: .a
            """)
        XCTAssertFalse(config.createMissingRelatedEntities)
        XCTAssertFalse(config.deleteDependentEntities)
        XCTAssertFalse(config.enableMergeEntity)
        XCTAssertEqual(config.entityDeletionThreshold, 0.5)
        let resource = try XCTUnwrap(config.resources.first)
        XCTAssertEqual(resource.kind, "component")
        XCTAssertEqual(resource.selectorQuery.text, #".spec.type == "service""#)
        XCTAssertEqual(resource.selectorQuery.location, SourceLocation(file: "mapping.yaml", line: 8, column: 14))
        let mappings = resource.mappings
        XCTAssertEqual(mappings.identifier.text, ".metadata.name")
        XCTAssertEqual(mappings.title?.text, ".metadata.title")
        XCTAssertEqual(mappings.blueprint.text, #""service""#)
        XCTAssertEqual(mappings.icon?.text, #""Cloud""#)
        XCTAssertEqual(mappings.team?.text, ".spec.owner")
        XCTAssertEqual(mappings.properties?.map(\.name), ["zeta", "alpha", "mid"], "order as written")
        XCTAssertEqual(mappings.relations?.map(\.name), ["second", "first"])
        XCTAssertEqual(mappings.properties?[1].expression.location?.line, 19)
    }

    func testOceanDefaults() throws {
        let config = try Support.config(Support.single("identifier: .a\nblueprint: .b"))
        XCTAssertTrue(config.createMissingRelatedEntities)
        XCTAssertTrue(config.deleteDependentEntities)
        XCTAssertTrue(config.enableMergeEntity)
        XCTAssertEqual(config.entityDeletionThreshold, 0.9)
        XCTAssertNil(config.resources[0].mappings.title)
        XCTAssertNil(config.resources[0].mappings.properties)
        XCTAssertNil(config.resources[0].mappings.relations)
        let empty = try Support.config("resources: []")
        XCTAssertEqual(empty.resources, [])
    }

    func testWrongTypeNamesLineAndKeyPath() {
        let yaml = """
            resources:
              - kind: component
                selector:
                  query: 'true'
              - kind: api
                selector:
                  query: 'true'
                port:
                  entity:
                    mappings:
                      identifier: .metadata.identifier
                      blueprint: '"api"'
                      properties:
                        lifecycle: .spec.lifecycle
                        type:
                          nested: .spec.type
            """
        // resources[0] lacks `port`: reported first, at the resource.
        XCTAssertEqual(parseError(yaml)?.description, "mapping.yaml:2: resources[0]: missing required key `port`")
        let fixed = yaml.replacingOccurrences(of: "      query: 'true'\n  - kind: api",
                                              with: "      query: 'true'\n    port: {entity: {mappings: {identifier: .a, blueprint: .b}}}\n  - kind: api")
        XCTAssertEqual(parseError(fixed)?.description,
                       "mapping.yaml:16: resources[1].port.entity.mappings.properties.type: expected a jq expression string, got a mapping")
    }

    func testUnknownKeysAreErrors() {
        let typo = Support.single("identifer: .a\nblueprint: .b")
        XCTAssertEqual(parseError(typo)?.description,
                       "mapping.yaml:8: resources[0].port.entity.mappings.identifer: unknown key `identifer` (expected "
                           + "`identifier`, `title`, `blueprint`, `icon`, `team`, `properties`, `relations`)")
        let top = "resources: []\nresync: true\n"
        XCTAssertEqual(parseError(top)?.description,
                       "mapping.yaml:2: resync: unknown key `resync` (expected `resources`, `createMissingRelatedEntities`, "
                           + "`deleteDependentEntities`, `enableMergeEntity`, `entityDeletionThreshold`)")
        let selector = """
            resources:
              - kind: x
                selector: {query: 'true', filter: 'y'}
                port: {entity: {mappings: {identifier: .a, blueprint: .b}}}
            """
        XCTAssertEqual(parseError(selector)?.path, "resources[0].selector.filter")
    }

    func testUnsupportedOceanFeatures() {
        let itemsToParse = """
            resources:
              - kind: x
                selector: {query: 'true'}
                port:
                  itemsToParse: .spec.items
                  entity: {mappings: {identifier: .a, blueprint: .b}}
            """
        let error = parseError(itemsToParse)
        XCTAssertEqual(error?.location?.line, 5)
        XCTAssertEqual(error?.path, "resources[0].port.itemsToParse")
        XCTAssertTrue(error?.message.contains("not supported") ?? false)

        let searchIdentifier = Support.single("""
            identifier:
              combinator: and
              rules: []
            blueprint: .b
            """)
        XCTAssertTrue(parseError(searchIdentifier)?.message.contains("search identifiers") ?? false)

        let searchRelation = Support.single("""
            identifier: .a
            blueprint: .b
            relations:
              owner:
                combinator: and
                rules: []
            """)
        XCTAssertEqual(parseError(searchRelation)?.path, "resources[0].port.entity.mappings.relations.owner")

        let list = """
            resources:
              - kind: x
                selector: {query: 'true'}
                port: {entity: {mappings: [{identifier: .a, blueprint: .b}]}}
            """
        XCTAssertTrue(parseError(list)?.message.contains("list of mappings") ?? false)
    }

    func testMissingKeys() {
        XCTAssertEqual(parseError(Support.single("blueprint: .b"))?.description,
                       "mapping.yaml:7: resources[0].port.entity.mappings: missing required key `identifier`")
        XCTAssertEqual(parseError(Support.single("identifier: .a"))?.message, "missing required key `blueprint`")
        XCTAssertEqual(parseError("createMissingRelatedEntities: true\n")?.message, "missing required key `resources`")
        let noQuery = """
            resources:
              - kind: x
                selector: {}
                port: {entity: {mappings: {identifier: .a, blueprint: .b}}}
            """
        XCTAssertEqual(parseError(noQuery)?.path, "resources[0].selector")
        let noKind = """
            resources:
              - selector: {query: 'true'}
                port: {entity: {mappings: {identifier: .a, blueprint: .b}}}
            """
        XCTAssertEqual(parseError(noKind)?.message, "missing required key `kind`")
    }

    func testExpressionValues() throws {
        // Bare scalars are expressions; null and empty are not.
        let scalars = try Support.config(Support.single("identifier: .a\nblueprint: .b\ntitle: 42\nicon: true"))
        XCTAssertEqual(scalars.resources[0].mappings.title?.text, "42")
        XCTAssertEqual(scalars.resources[0].mappings.icon?.text, "true")
        XCTAssertEqual(parseError(Support.single("identifier: .a\nblueprint: .b\ntitle:"))?.message,
                       "expected a jq expression string, got null")
        XCTAssertEqual(parseError(Support.single("identifier: .a\nblueprint: ~"))?.message,
                       "expected a jq expression string, got null")
        XCTAssertEqual(parseError(Support.single("identifier: .a\nblueprint: '  '"))?.message, "empty jq expression")
        XCTAssertEqual(parseError(Support.single("identifier: [.a]\nblueprint: .b"))?.message,
                       "expected a jq expression string, got a sequence")
        // `properties:` with nothing under it is an empty set.
        let empty = try Support.config(Support.single("identifier: .a\nblueprint: .b\nproperties:"))
        XCTAssertEqual(empty.resources[0].mappings.properties, [])
    }

    func testThresholdAndSwitches() {
        XCTAssertEqual(parseError("entityDeletionThreshold: 1.5\nresources: []")?.description,
                       "mapping.yaml:1: entityDeletionThreshold: must be between 0 and 1, got 1.5")
        XCTAssertEqual(parseError("entityDeletionThreshold: -0.1\nresources: []")?.message, "must be between 0 and 1, got -0.1")
        XCTAssertEqual(parseError("entityDeletionThreshold: '0.5'\nresources: []")?.message,
                       "expected a number between 0 and 1, got a string")
        XCTAssertEqual(parseError("entityDeletionThreshold: .nan\nresources: []")?.message,
                       "expected a number between 0 and 1, got a number")
        XCTAssertEqual(parseError("resources: []\nenableMergeEntity: yes")?.description,
                       "mapping.yaml:2: enableMergeEntity: expected true or false, got a string")
        XCTAssertNoThrow(try Support.config("entityDeletionThreshold: 0\nresources: []"))
        XCTAssertNoThrow(try Support.config("entityDeletionThreshold: 1\nresources: []"))
        XCTAssertThrowsError(try PortAppConfig(resources: [], entityDeletionThreshold: 1.01))
        XCTAssertThrowsError(try PortAppConfig(resources: [], entityDeletionThreshold: .nan))
    }

    func testDocumentLevelErrors() {
        XCTAssertEqual(parseError("")?.message, "the file is empty; expected a mapping with `resources`")
        XCTAssertEqual(parseError("- a\n- b\n")?.description, "mapping.yaml:1: expected a mapping, got a sequence")
        XCTAssertEqual(parseError("resources: []\n---\nresources: []\n")?.message, "expected one YAML document, found 2")
        let syntax = parseError("resources:\n  - kind: [unclosed\n")
        XCTAssertEqual(syntax?.location?.file, "mapping.yaml")
        XCTAssertGreaterThan(syntax?.location?.line ?? 0, 0)
        let duplicate = parseError("resources: []\nresources: []\n")
        XCTAssertEqual(duplicate?.location?.line, 2)
        XCTAssertTrue(duplicate?.message.contains("duplicate") ?? false)
        XCTAssertTrue(parseError("resources: {}")?.description.contains("resources: expected a sequence of resources") ?? false)
    }

    func testLoadFromFile() throws {
        let path = Support.repositoryRoot.appendingPathComponent("examples/mappings/builtin.yaml").path
        let config = try PortAppConfig.load(path: path)
        XCTAssertEqual(config, try Support.config(BuiltinMapping.yaml))
        XCTAssertThrowsError(try PortAppConfig.load(path: "/nonexistent/mapping.yaml")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/mapping.yaml: no such file")
        }
    }

    func testParseFromJSONMapsLikeYAML() throws {
        let node = try YAMLForTests.root(BuiltinMapping.yaml)
        let json = try node.toJSON()
        let fromJSON = try PortAppConfig.parse(json: json, source: "port integration config")
        let fromYAML = try Support.config(BuiltinMapping.yaml)
        XCTAssertEqual(fromJSON.resources.count, fromYAML.resources.count)
        XCTAssertEqual(fromJSON.entityDeletionThreshold, 0.9)
        let jsonMapping = try CompiledMapping(fromJSON)
        let yamlMapping = try CompiledMapping(fromYAML)
        for entity in try Support.fixture() {
            let ref = try Support.ref(of: entity)
            // Same bodies; only the order of relationTargets follows the (sorted) JSON key order.
            XCTAssertEqual(jsonMapping.map(entity, ref: ref).compactMap(\.entity?.canonical.hash),
                           yamlMapping.map(entity, ref: ref).compactMap(\.entity?.canonical.hash), "\(ref)")
        }
        XCTAssertThrowsError(try PortAppConfig.parse(json: ["resources": [["kind": 1]]], source: "port")) { error in
            XCTAssertEqual("\(error)", "port: resources[0]: missing required key `selector`")
        }
    }
}


/// Access to the YAML loader for tests that need the node tree.
enum YAMLForTests {
    static func root(_ text: String) throws -> YAMLNode {
        try XCTUnwrap(try YAML.parseDocuments(text, file: "test.yaml").first)
    }
}
