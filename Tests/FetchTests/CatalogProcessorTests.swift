import Fetch
import Foundation
import Store
import XCTest

final class CatalogProcessorTests: XCTestCase {
    private func entity(_ kind: String, _ name: String, namespace: String? = nil, spec: JSONValue = [:]) -> JSONValue {
        var metadata: [String: JSONValue] = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        return ["apiVersion": "backstage.io/v1alpha1", "kind": .string(kind), "metadata": .object(metadata), "spec": spec]
    }

    private func materialize(_ descriptors: [JSONValue], location: String = "file:/tmp/catalog.yaml") throws -> [String: JSONValue] {
        let inputs = descriptors.enumerated().map { index, body in
            CatalogDescriptor(body: body, location: location, file: "/tmp/catalog.yaml", line: index + 1)
        }
        var out: [String: JSONValue] = [:]
        let result = CatalogProcessor.materialize(inputs)
        XCTAssertEqual(result.problems, [])
        for entity in result.entities {
            out[try XCTUnwrap(EntityRef(entity: entity)).description] = entity
        }
        return out
    }

    private func relations(_ entity: JSONValue?) -> [String] {
        (entity?["relations"]?.arrayValue ?? []).map {
            "\($0["type"]?.stringValue ?? "?") \($0["targetRef"]?.stringValue ?? "?")"
        }
    }

    private func processorError(_ descriptors: [JSONValue], file: StaticString = #filePath, line: UInt = #line) -> DescriptorProblem? {
        let inputs = descriptors.enumerated().map { index, body in
            CatalogDescriptor(body: body, location: "file:/x.yaml", file: "/x.yaml", line: 10 * (index + 1))
        }
        let problems = CatalogProcessor.materialize(inputs).problems
        XCTAssertEqual(problems.count, 1, "\(problems)", file: file, line: line)
        return problems.first
    }

    func testComponentRelationsInBothDirections() throws {
        let entities = try materialize([
            entity("Component", "web", spec: [
                "owner": "team-a", "system": "shop", "subcomponentOf": "platform",
                "providesApis": ["web-api"], "consumesApis": ["api:pay-api"],
                "dependsOn": ["resource:db", "component:missing"], "dependencyOf": ["component:platform"],
            ]),
            entity("Group", "team-a", spec: ["type": "team", "children": []]),
            entity("System", "shop", spec: ["owner": "team-a"]),
            entity("Component", "platform", spec: ["owner": "team-a"]),
            entity("API", "web-api", spec: ["owner": "team-a"]),
            entity("API", "pay-api", spec: ["owner": "team-a"]),
            entity("Resource", "db", spec: ["owner": "team-a"]),
        ])
        XCTAssertEqual(relations(entities["component:default/web"]), [
            "consumesApi api:default/pay-api",
            "dependencyOf component:default/platform",
            "dependsOn component:default/missing",
            "dependsOn resource:default/db",
            "ownedBy group:default/team-a",
            "partOf component:default/platform",
            "partOf system:default/shop",
            "providesApi api:default/web-api",
        ])
        XCTAssertEqual(relations(entities["component:default/platform"]), [
            "dependsOn component:default/web",
            "hasPart component:default/web",
            "ownedBy group:default/team-a",
        ])
        XCTAssertEqual(relations(entities["api:default/web-api"]), ["apiProvidedBy component:default/web", "ownedBy group:default/team-a"])
        XCTAssertEqual(relations(entities["api:default/pay-api"]), ["apiConsumedBy component:default/web", "ownedBy group:default/team-a"])
        XCTAssertEqual(relations(entities["resource:default/db"]), ["dependencyOf component:default/web", "ownedBy group:default/team-a"])
        XCTAssertEqual(relations(entities["system:default/shop"]), ["hasPart component:default/web", "ownedBy group:default/team-a"])
        XCTAssertEqual(relations(entities["group:default/team-a"]), [
            "ownerOf api:default/pay-api", "ownerOf api:default/web-api", "ownerOf component:default/platform",
            "ownerOf component:default/web", "ownerOf resource:default/db", "ownerOf system:default/shop",
        ])
    }

    func testOtherKindsRelations() throws {
        let entities = try materialize([
            entity("Domain", "root", spec: ["owner": "user:boss"]),
            entity("Domain", "sub", spec: ["owner": "team", "subdomainOf": "root"]),
            entity("System", "sys", spec: ["owner": "team", "domain": "sub"]),
            entity("Group", "org", spec: ["type": "organization", "children": ["team"]]),
            entity("Group", "team", spec: ["type": "team", "parent": "org", "children": []]),
            entity("User", "boss", spec: ["memberOf": ["org"]]),
            ["apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": ["name": "tpl"], "spec": ["owner": "team"]],
        ])
        XCTAssertEqual(relations(entities["domain:default/root"]), ["hasPart domain:default/sub", "ownedBy user:default/boss"])
        XCTAssertEqual(relations(entities["domain:default/sub"]), ["hasPart system:default/sys", "ownedBy group:default/team", "partOf domain:default/root"])
        XCTAssertEqual(relations(entities["group:default/org"]), ["hasMember user:default/boss", "parentOf group:default/team"])
        XCTAssertEqual(relations(entities["group:default/team"]), [
            "childOf group:default/org",
            "ownerOf domain:default/sub", "ownerOf system:default/sys", "ownerOf template:default/tpl",
        ])
        XCTAssertEqual(relations(entities["user:default/boss"]), ["memberOf group:default/org", "ownerOf domain:default/root"])
        XCTAssertEqual(relations(entities["template:default/tpl"]), ["ownedBy group:default/team"])
    }

    func testRefsInheritTheReferringNamespace() throws {
        let entities = try materialize([
            entity("Component", "svc", namespace: "dev", spec: ["owner": "team-x", "system": "default/shop", "providesApis": ["api:prod/Orders"]]),
            entity("Group", "team-x", namespace: "dev"),
            entity("Group", "team-x"),
            entity("System", "shop"),
            entity("User", "guest", namespace: "dev", spec: ["memberOf": ["team-x", "group:default/team-x"]]),
        ])
        XCTAssertEqual(relations(entities["component:dev/svc"]), [
            "ownedBy group:dev/team-x", "partOf system:default/shop", "providesApi api:prod/orders",
        ])
        XCTAssertEqual(relations(entities["group:dev/team-x"]), ["hasMember user:dev/guest", "ownerOf component:dev/svc"])
        XCTAssertEqual(relations(entities["group:default/team-x"]), ["hasMember user:dev/guest"])
        XCTAssertEqual(relations(entities["system:default/shop"]), ["hasPart component:dev/svc"])
        XCTAssertEqual(entities["component:dev/svc"]?[path: ["metadata", "namespace"]], "dev")
    }

    func testMembershipFromBothSidesIsDeduplicatedAndSorted() throws {
        let entities = try materialize([
            entity("Group", "Team-B", spec: ["type": "team", "members": ["zed", "amy", "Amy"], "children": []]),
            entity("User", "amy", spec: ["memberOf": ["team-b", "group:team-b"]]),
            entity("User", "zed", spec: ["memberOf": ["team-b"]]),
        ])
        XCTAssertEqual(relations(entities["group:default/team-b"]), ["hasMember user:default/amy", "hasMember user:default/zed"])
        XCTAssertEqual(relations(entities["user:default/amy"]), ["memberOf group:default/team-b"])
        XCTAssertEqual(relations(entities["user:default/zed"]), ["memberOf group:default/team-b"])
        let relation = try XCTUnwrap(entities["user:default/amy"]?["relations"]?.arrayValue?.first?.objectValue)
        XCTAssertEqual(Set(relation.keys), ["type", "targetRef"])
    }

    func testDefaultsAnnotationsAndSkips() throws {
        let location = "file:/srv/catalog/team.yaml"
        let entities = try materialize([
            .null,
            entity("Location", "index", spec: ["targets": ["./a.yaml"]]),
            ["apiVersion": "backstage.io/v1alpha1", "kind": "Component",
             "metadata": ["name": "svc", "uid": "old", "etag": "old",
                          "annotations": ["example.com/x": "y", "backstage.io/managed-by-location": "file:/elsewhere.yaml"]],
             "spec": ["owner": "team"]],
        ], location: location)
        // Location descriptors are entities (without relations); the descriptor's own
        // managed-by value is overwritten, as Backstage does.
        XCTAssertEqual(entities.keys.sorted(), ["component:default/svc", "location:default/index"])
        XCTAssertEqual(entities["location:default/index"]?["relations"], [])
        let svc = try XCTUnwrap(entities["component:default/svc"])
        XCTAssertEqual(svc[path: ["metadata", "namespace"]], "default")
        XCTAssertEqual(svc[path: ["metadata", "annotations"]], [
            "example.com/x": "y",
            "backstage.io/managed-by-location": .string(location),
            "backstage.io/managed-by-origin-location": .string(location),
        ])
        XCTAssertNotEqual(svc[path: ["metadata", "uid"]], "old")
        XCTAssertNotEqual(svc[path: ["metadata", "etag"]], "old")
    }

    func testStableUIDs() throws {
        let input = [entity("Component", "svc", spec: ["owner": "team"]), entity("Group", "team")]
        let first = try materialize(input)
        let second = try materialize(input.reversed())
        let uid = try XCTUnwrap(first["component:default/svc"]?[path: ["metadata", "uid"]]?.stringValue)
        XCTAssertEqual(second["component:default/svc"]?[path: ["metadata", "uid"]]?.stringValue, uid)
        XCTAssertNotEqual(first["group:default/team"]?[path: ["metadata", "uid"]]?.stringValue, uid)
        let pattern = try NSRegularExpression(pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        XCTAssertEqual(pattern.numberOfMatches(in: uid, range: NSRange(uid.startIndex..., in: uid)), 1, uid)
        // The uid depends on the canonical ref only, so case in the source does not matter.
        XCTAssertEqual(CatalogProcessor.stableUID(for: EntityRef(kind: "Component", namespace: nil, name: "SVC")), uid)
        // The uid of a fixed ref never changes between releases (it is stored in mirrors).
        XCTAssertEqual(uid, "816910af-9b01-4423-8d64-da361ff75c63")
    }

    func testEtagChangesExactlyWhenContentChanges() throws {
        let base = [
            entity("Component", "web", spec: ["owner": "team", "consumesApis": ["orders"]]),
            entity("API", "orders", spec: ["owner": "team"]),
            entity("Group", "team"),
        ]
        func etag(_ entities: [String: JSONValue], _ ref: String) -> String? {
            entities[ref]?[path: ["metadata", "etag"]]?.stringValue
        }
        let first = try materialize(base)
        let again = try materialize(base)
        for ref in first.keys { XCTAssertEqual(etag(first, ref), etag(again, ref), ref) }
        XCTAssertEqual(etag(first, "api:default/orders")?.count, CatalogProcessor.etagLength)
        XCTAssertEqual(etag(first, "api:default/orders"), CatalogProcessor.etag(of: try XCTUnwrap(first["api:default/orders"])))

        // Changing the component's description changes only its etag.
        var edited = base
        edited[0] = ["apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                     "metadata": ["name": "web", "description": "new"],
                     "spec": ["owner": "team", "consumesApis": ["orders"]]]
        let afterEdit = try materialize(edited)
        XCTAssertNotEqual(etag(afterEdit, "component:default/web"), etag(first, "component:default/web"))
        XCTAssertEqual(etag(afterEdit, "api:default/orders"), etag(first, "api:default/orders"))
        XCTAssertEqual(etag(afterEdit, "group:default/team"), etag(first, "group:default/team"))

        // A new consumer changes the API's etag (its reverse relations), as Backstage's stitch does.
        let afterConsumer = try materialize(base + [entity("Component", "app", spec: ["owner": "team", "consumesApis": ["orders"]])])
        XCTAssertNotEqual(etag(afterConsumer, "api:default/orders"), etag(first, "api:default/orders"))
        XCTAssertEqual(etag(afterConsumer, "component:default/web"), etag(first, "component:default/web"))
    }

    func testProblemsDropOnlyTheirEntity() {
        let notAMapping = processorError([entity("Group", "a"), ["just", "a", "list"]])
        XCTAssertEqual(notAMapping, DescriptorProblem(file: "/x.yaml", line: 20, reason: .notAMapping(found: "array")))
        XCTAssertEqual(notAMapping?.description, "/x.yaml:20: a descriptor must be a mapping, found array")

        XCTAssertEqual(processorError([["metadata": ["name": "a"]]])?.reason, .invalid(field: "kind", rule: "must be a non-empty string"))
        XCTAssertEqual(processorError([["kind": "Component"]])?.reason, .invalid(field: "metadata.name", rule: "must be a non-empty string"))

        let duplicate = processorError([entity("Component", "Svc"), entity("Group", "svc"), entity("component", "svc")])
        XCTAssertEqual(duplicate?.line, 30)
        XCTAssertEqual(duplicate?.reason, .duplicate(ref: "component:default/svc", firstFile: "/x.yaml", firstLine: 10))

        let noKind = processorError([entity("Component", "svc", spec: ["owner": "t", "dependsOn": ["db"]])])
        XCTAssertEqual(noKind?.reason, .invalid(field: "spec.dependsOn[0]", rule: "\"db\" is not an entity ref (this field needs the kind, e.g. component:name)"))
        let badType = processorError([entity("Component", "svc", spec: ["owner": ["a": 1]])])
        XCTAssertEqual(badType?.reason, .invalid(field: "spec.owner", rule: "must be an entity ref string or a list of them, found object"))

        // An entity with an unusable ref is dropped whole: no reverse relation on its targets.
        let inputs = [entity("Component", "svc", spec: ["owner": "team", "dependsOn": ["db"]]), entity("Group", "team")]
            .enumerated().map { CatalogDescriptor(body: $0.element, location: "file:/x.yaml", file: "/x.yaml", line: $0.offset + 1) }
        let result = CatalogProcessor.materialize(inputs)
        XCTAssertEqual(result.entities.count, 1)
        XCTAssertEqual(relations(result.entities.first), [])
    }
}
