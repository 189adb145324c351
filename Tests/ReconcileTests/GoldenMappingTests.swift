import Foundation
@testable import Reconcile
import Store
import XCTest

/// The fixture catalog through Ocean's seed mapping and the built-in mapping, against hand-written
/// expectations.
final class GoldenMappingTests: XCTestCase {
    private typealias Support = MappingTestSupport

    private func mapFixture(_ yaml: String, file: String) throws -> [String: MappingResult] {
        let mapping = try CompiledMapping(try PortAppConfig.parse(yaml: yaml, file: file))
        var results: [String: MappingResult] = [:]
        for entity in try Support.fixture() {
            let ref = try Support.ref(of: entity)
            let mapped = mapping.map(entity, ref: ref)
            if ref.kind == "location" {
                XCTAssertTrue(mapped.isEmpty, "no resource maps a Location")
                continue
            }
            XCTAssertEqual(mapped.count, 1, "\(ref)")
            if let result = mapped.first { results[ref.description] = result }
        }
        return results
    }

    private func assertGolden(_ results: [String: MappingResult], _ golden: [String: String],
                              file: StaticString = #filePath, line: UInt = #line) throws
    {
        XCTAssertEqual(Set(results.keys), Set(golden.keys), file: file, line: line)
        for (ref, expectedText) in golden.sorted(by: { $0.key < $1.key }) {
            let expected = try Support.json(expectedText)
            guard let entity = results[ref]?.entity else {
                XCTFail("\(ref): no entity: \(String(describing: results[ref]?.outcome))", file: file, line: line)
                continue
            }
            XCTAssertEqual(entity.body, expected,
                           "\(ref)\n got: \(Support.text(entity.body))\nwant: \(Support.text(expected))",
                           file: file, line: line)
            XCTAssertEqual(entity.identifier, ref, file: file, line: line)
            XCTAssertEqual(.string(entity.blueprint), expected["blueprint"], file: file, line: line)
            XCTAssertEqual(entity.canonical.bytes, CanonicalJSON.bytes(entity.body), "\(ref)", file: file, line: line)
            XCTAssertEqual(entity.canonical.hash, ContentHash(canonicalOf: entity.body), "\(ref)", file: file, line: line)
        }
    }

    func testOceanDefaultMappingMatchesGolden() throws {
        let results = try mapFixture(OceanDefaultMapping.yaml, file: "ocean-default.yaml")
        try assertGolden(results, GoldenEntities.oceanDefault)

        // Ocean records a "no output" for every relation with no matching target.
        let service = try XCTUnwrap(results["component:default/payments-service"])
        XCTAssertEqual(service.warnings.map(\.field), ["relations.owningUser", "relations.subcomponentOf"])
        for warning in service.warnings {
            XCTAssertEqual(warning.problem, .noOutput)
            XCTAssertEqual(warning.entity.description, "component:default/payments-service")
            XCTAssertEqual(warning.resourceIndex, 0)
        }
        XCTAssertTrue(service.warnings[1].expression.contains(#"select(.type == "subcomponentOf""#))
        let engineering = try XCTUnwrap(results["group:default/engineering"])
        XCTAssertEqual(engineering.warnings.map(\.field), ["relations.parent", "relations.members"])
    }

    func testBuiltinMappingMatchesGoldenWithoutWarnings() throws {
        let results = try mapFixture(BuiltinMapping.yaml, file: "builtin.yaml")
        try assertGolden(results, GoldenEntities.builtin)
        for (ref, result) in results {
            XCTAssertEqual(result.warnings, [], "\(ref): the built-in mapping yields a value for every field")
        }
    }

    func testRelationTargetsListEveryTargetInMappingOrder() throws {
        let results = try mapFixture(BuiltinMapping.yaml, file: "builtin.yaml")
        let service = try XCTUnwrap(results["component:default/payments-service"]?.entity)
        XCTAssertEqual(service.relationTargets, [
            RelationTarget(relation: "owningGroup", identifier: "group:default/payments-team"),
            RelationTarget(relation: "system", identifier: "system:default/checkout"),
            RelationTarget(relation: "providesApis", identifier: "api:default/payments-api"),
            RelationTarget(relation: "providesApis", identifier: "api:default/refunds-api"),
            RelationTarget(relation: "consumesApis", identifier: "api:finance/ledger-api"),
            RelationTarget(relation: "dependsOnComponent", identifier: "component:finance/ledger-service"),
            RelationTarget(relation: "dependsOnResource", identifier: "resource:default/payments-db"),
        ])
        let user = try XCTUnwrap(results["user:default/jdoe"]?.entity)
        XCTAssertEqual(user.relationTargets, [])
    }

    /// The mappings are compiled in from examples/mappings: a copied binary carries exactly those files.
    func testTheBinaryEmbedsTheExampleMappings() throws {
        let root = Support.repositoryRoot
        let builtin = try String(contentsOf: root.appendingPathComponent("examples/mappings/builtin.yaml"), encoding: .utf8)
        XCTAssertEqual(builtin, BuiltinMapping.yaml)
        let seed = try String(contentsOf: root.appendingPathComponent("examples/mappings/ocean-default.yaml"),
                              encoding: .utf8)
        XCTAssertEqual(seed, OceanDefaultMapping.yaml)
    }

    func testBuiltinMappingConfig() throws {
        let config = try PortAppConfig.parse(yaml: BuiltinMapping.yaml, file: "builtin.yaml")
        XCTAssertEqual(config.resources.map(\.kind), ["component", "API", "group", "user", "resource", "system", "domain"])
        XCTAssertTrue(config.createMissingRelatedEntities)
        XCTAssertTrue(config.deleteDependentEntities)
        XCTAssertTrue(config.enableMergeEntity)
        XCTAssertEqual(config.entityDeletionThreshold, 0.9)
    }

    func testBuiltinBlueprints() throws {
        let blueprints = BuiltinBlueprints.all
        XCTAssertEqual(blueprints.map { $0["identifier"]?.stringValue }, BuiltinBlueprints.identifiers)
        XCTAssertEqual(BuiltinBlueprints.identifiers, ["user", "group", "domain", "system", "api", "resource", "component"])
        let identifiers = Set(BuiltinBlueprints.identifiers)
        for blueprint in blueprints {
            let id = blueprint["identifier"]?.stringValue ?? "?"
            XCTAssertEqual(blueprint[path: ["schema", "required"]], [], id)
            XCTAssertEqual(blueprint["mirrorProperties"], [:], id)
            XCTAssertEqual(blueprint["calculationProperties"], [:], id)
            let properties = try XCTUnwrap(blueprint[path: ["schema", "properties"]]?.objectValue, id)
            for common in ["description", "labels", "annotations", "links", "tags"] {
                XCTAssertNotNil(properties[common], "\(id).\(common)")
            }
            XCTAssertEqual(properties["links"]?["items"], ["type": "string", "format": "url"])
            for (name, relation) in try XCTUnwrap(blueprint["relations"]?.objectValue, id) {
                XCTAssertEqual(relation["required"], false, "\(id).\(name)")
                XCTAssertNotNil(relation["many"]?.boolValue, "\(id).\(name)")
                XCTAssertTrue(identifiers.contains(relation["target"]?.stringValue ?? ""), "\(id).\(name)")
            }
        }
        // The built-in mapping's properties and relations all exist on the blueprints.
        let config = try PortAppConfig.parse(yaml: BuiltinMapping.yaml, file: "builtin.yaml")
        let byID = Dictionary(uniqueKeysWithValues: blueprints.map { ($0["identifier"]?.stringValue ?? "", $0) })
        for resource in config.resources {
            let id = resource.mappings.blueprint.text.replacingOccurrences(of: "\"", with: "")
            let blueprint = try XCTUnwrap(byID[id], id)
            for property in resource.mappings.properties ?? [] {
                XCTAssertNotNil(blueprint[path: ["schema", "properties", property.name]], "\(id).\(property.name)")
            }
            for relation in resource.mappings.relations ?? [] {
                XCTAssertNotNil(blueprint[path: ["relations", relation.name]], "\(id).\(relation.name)")
            }
        }
        let component = try XCTUnwrap(byID["component"])
        XCTAssertEqual(component[path: ["relations", "providesApis"]],
                       ["title": "Provides APIs", "target": "api", "required": false, "many": true])
        XCTAssertEqual(component[path: ["relations", "system", "many"]], false)
    }
}
