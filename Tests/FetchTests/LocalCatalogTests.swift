import Fetch
import Foundation
import Store
import XCTest

final class LocalCatalogTests: DescriptorFolderCase {
    private var examplesPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/catalog").path
    }

    private func byRef(_ entities: [JSONValue]) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for entity in entities { out[try XCTUnwrap(EntityRef(entity: entity)).description] = entity }
        return out
    }

    private func relations(_ entity: JSONValue?, _ type: String) -> [String] {
        (entity?["relations"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == type }.compactMap { $0["targetRef"]?.stringValue }
    }

    private func loadError(_ path: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> LocalCatalogError? {
        do {
            _ = try LocalCatalog(path: path ?? folder.path).load()
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }


    // MARK: - The bundled example catalog

    func testExampleCatalogLoads() throws {
        let entities = try LocalCatalog(path: examplesPath).load()
        var kinds: [String: Int] = [:]
        for entity in entities { kinds[entity["kind"]?.stringValue ?? "?", default: 0] += 1 }
        XCTAssertEqual(kinds, ["Domain": 3, "System": 3, "Component": 8, "API": 4, "Resource": 2, "Group": 4, "User": 8, "Location": 1])

        let all = try byRef(entities)
        XCTAssertEqual(all.count, entities.count, "refs are unique")
        XCTAssertEqual(relations(all["component:default/web-shop"], "consumesApi"), ["api:default/catalog-api", "api:default/checkout-grpc"])
        XCTAssertEqual(relations(all["component:default/web-shop"], "dependsOn"), ["component:default/cart-service", "component:default/ui-kit"])
        XCTAssertEqual(relations(all["api:default/catalog-api"], "apiConsumedBy"), ["component:default/cart-service", "component:default/web-shop"])
        XCTAssertEqual(relations(all["api:default/catalog-api"], "apiProvidedBy"), ["component:default/catalog-service"])
        XCTAssertEqual(relations(all["component:default/payment-gateway"], "hasPart"), ["component:default/fraud-scorer"])
        XCTAssertEqual(relations(all["component:default/fraud-scorer"], "ownedBy"), ["user:default/carla.mendes"])
        XCTAssertEqual(relations(all["user:default/carla.mendes"], "ownerOf"), ["component:default/fraud-scorer"])
        XCTAssertEqual(relations(all["domain:default/platform"], "ownedBy"), ["user:default/erin.kowalski"])
        XCTAssertEqual(relations(all["group:default/acme"], "parentOf"),
                       ["group:default/team-payments", "group:default/team-platform", "group:default/team-web"])
        XCTAssertEqual(relations(all["group:default/team-web"], "childOf"), ["group:default/acme"])
        // Membership written on both sides appears once; the ops user is reached across namespaces.
        XCTAssertEqual(relations(all["group:default/team-platform"], "hasMember"),
                       ["user:default/erin.kowalski", "user:default/farid.haddad", "user:ops/sam.rivera"])
        XCTAssertEqual(relations(all["user:ops/sam.rivera"], "memberOf"), ["group:default/team-platform"])
        XCTAssertEqual(relations(all["group:default/team-payments"], "hasMember"), ["user:default/carla.mendes", "user:default/dev.patel"])
        XCTAssertEqual(relations(all["resource:default/invoice-archive"], "dependencyOf"), ["component:default/checkout-service"])
        XCTAssertEqual(relations(all["component:default/checkout-service"], "dependsOn"),
                       ["component:default/payment-gateway", "resource:default/invoice-archive"])

        let api = try XCTUnwrap(all["api:default/catalog-api"])
        XCTAssertTrue(api[path: ["spec", "definition"]]?.stringValue?.hasPrefix("openapi: \"3.0.3\"\n") ?? false)
        let expectedLocation = "file:" + URL(fileURLWithPath: examplesPath).appendingPathComponent("apis/catalog-api.yaml").standardizedFileURL.path
        XCTAssertEqual(api[path: ["metadata", "annotations", "backstage.io/managed-by-location"]]?.stringValue, expectedLocation)
        XCTAssertEqual(all["component:default/cart-service"]?[path: ["metadata", "labels", "example.com/tier"]], "2")
        XCTAssertEqual(all["user:ops/sam.rivera"]?[path: ["spec", "profile", "email"]], "sam.rivera@example.com")

        // Reloading gives the same uids and etags.
        let again = try byRef(LocalCatalog(path: examplesPath).load())
        for (ref, entity) in all {
            XCTAssertEqual(again[ref]?["metadata"]?["uid"], entity["metadata"]?["uid"], ref)
            XCTAssertEqual(again[ref]?["metadata"]?["etag"], entity["metadata"]?["etag"], ref)
        }
    }

    func testExampleCatalogThroughItsLocationFile() throws {
        // Starting from the Location file alone reaches every entity through its targets.
        let fromIndex = try LocalCatalog(path: examplesPath + "/all.yaml").load()
        XCTAssertEqual(fromIndex.count, 33)
    }

    // MARK: - Reading

    func testSingleFileMultiDocumentAndYmlExtension() throws {
        let file = try write("one.yml", component + "\n---\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team\nspec:\n  type: team\n  children: []\n")
        let entities = try byRef(LocalCatalog(path: file).load())
        XCTAssertEqual(Set(entities.keys), ["component:default/svc", "group:default/team"])
        XCTAssertEqual(relations(entities["group:default/team"], "ownerOf"), ["component:default/svc"])
        XCTAssertEqual(entities["group:default/team"]?[path: ["metadata", "annotations", "backstage.io/managed-by-location"]]?.stringValue, "file:\(file)")
    }

    func testFolderIsReadRecursivelySkippingHiddenAndNonYAML() throws {
        try write("a/b/c/svc.yaml", component)
        try write("a/notes.txt", "kind: [not yaml at all")
        try write(".git/config.yaml", "kind: [broken")
        try write("a/.hidden.yaml", "kind: [broken")
        let entities = try LocalCatalog(path: folder.path).load()
        XCTAssertEqual(entities.count, 1)
    }

    func testLocationTargetsAreFollowedOnceWithCycles() throws {
        let outside = folder.appendingPathComponent("outside")
        try write("outside/svc.yaml", component)
        try write("outside/more/team.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team}\nspec: {type: team, children: []}\n")
        try write("root/index.yaml", """
            apiVersion: backstage.io/v1alpha1
            kind: Location
            metadata: {name: index}
            spec:
              target: ../outside/svc.yaml
              targets: [../outside/more/*.yaml, ./other.yaml, ../outside/svc.yaml]
            """)
        try write("root/other.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: other}\nspec: {targets: [./index.yaml, ../outside/gone.yaml], presence: optional}\n")
        let entities = try byRef(LocalCatalog(path: folder.appendingPathComponent("root").path).load())
        XCTAssertEqual(Set(entities.keys), ["component:default/svc", "group:default/team", "location:default/index", "location:default/other"])
        XCTAssertEqual(entities["component:default/svc"]?[path: ["metadata", "annotations", "backstage.io/managed-by-origin-location"]]?.stringValue,
                       "file:" + folder.appendingPathComponent("root").standardizedFileURL.path)
        XCTAssertEqual(entities["component:default/svc"]?[path: ["metadata", "annotations", "backstage.io/managed-by-location"]]?.stringValue,
                       "file:" + outside.appendingPathComponent("svc.yaml").standardizedFileURL.path)
    }

    // MARK: - Problems: one per file or document, the rest still read

    private func read(_ path: String? = nil) throws -> LocalCatalogRead {
        try LocalCatalog(path: path ?? folder.path).read()
    }

    func testMissingPath() {
        let path = folder.appendingPathComponent("nope").path
        XCTAssertEqual(loadError(path), .missingPath(path))
        XCTAssertEqual(loadError(path)?.description, "\(path): no such file or directory")
    }

    func testUnreadableFileIsAProblemOfThatFileOnly() throws {
        try write("good.yaml", component)
        let link = folder.appendingPathComponent("dangling.yaml")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/nonexistent/target.yaml")
        let result = try read()
        XCTAssertEqual(result.entities.count, 1)
        XCTAssertEqual(result.problems, [DescriptorProblem(file: link.path, line: 0, reason: .unreadable("no such file"))])
        XCTAssertEqual(result.problems.first?.description, "\(link.path): cannot be read: no such file")
    }

    func testUnreadablePermissions() throws {
        try XCTSkipIf(getuid() == 0, "root reads files regardless of mode")
        let file = try write("locked.yaml", component)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: file)
        XCTAssertEqual(try read().problems.map(\.file), [file])
    }

    func testYAMLErrorStopsOnlyItsDocument() throws {
        try write("a-good.yaml", component)
        let bad = try write("b-bad.yaml", component.replacingOccurrences(of: "svc", with: "before") + "\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: x\n   oops: y\n---\n" + component.replacingOccurrences(of: "svc", with: "after"))
        let result = try read()
        XCTAssertEqual(Set(try byRef(result.entities).keys), ["component:default/svc", "component:default/before", "component:default/after"])
        XCTAssertEqual(result.problems.count, 1)
        XCTAssertEqual(result.problems.first?.file, bad)
        XCTAssertEqual(result.problems.first?.line, 14)
        XCTAssertTrue(result.problems.first?.description.hasPrefix("\(bad):14: YAML error: mapping values are not allowed") ?? false,
                      result.problems.first?.description ?? "")
    }

    func testDuplicateKeyIsAYAMLError() throws {
        let bad = try write("dup.yaml", component + "\nkind: Group\n")
        let problem = try XCTUnwrap(read().problems.first)
        XCTAssertEqual(problem.file, bad)
        XCTAssertEqual(problem.line, 9)
        XCTAssertTrue(problem.message.contains("duplicate key \"kind\""), problem.message)
    }

    func testDocumentThatIsNotAMappingInAnEntryFile() throws {
        let file = try write("list.yaml", component + "\n---\n- just\n- a list\n")
        let result = try read(file)
        XCTAssertEqual(result.entities.count, 1)
        XCTAssertEqual(result.problems.map(\.description), ["\(file):10: a descriptor must be a mapping, found array"])
        // In a folder, a document that is not an entity is skipped, not a problem.
        XCTAssertEqual(try read().problems, [])
        XCTAssertEqual(try read().skipped.count, 1)
    }

    func testMissingKindAndNameInAnEntryFile() throws {
        let file = try write("nokind.yaml", "apiVersion: backstage.io/v1alpha1\nmetadata:\n  name: x\n---\nkind: Component\napiVersion: backstage.io/v1alpha1\nmetadata:\n  title: x\n")
        XCTAssertEqual(try read(file).problems.map(\.description), [
            "\(file):1: kind is required",
            "\(file):5: metadata.name is required",
        ])
    }

    func testDuplicateEntityAcrossFilesNamesBoth() throws {
        let first = try write("a/svc.yaml", component)
        let second = try write("b/svc-again.yaml", component.replacingOccurrences(of: "name: svc", with: "name: SVC"))
        let result = try read()
        XCTAssertEqual(result.entities.count, 1)
        XCTAssertEqual(result.entities.first?[path: ["metadata", "annotations", "backstage.io/managed-by-location"]]?.stringValue, "file:\(first)")
        XCTAssertEqual(result.problems, [DescriptorProblem(file: second, line: 1, entity: "component:default/SVC",
                                                           reason: .duplicate(ref: "component:default/svc", firstFile: first, firstLine: 1))])
        XCTAssertEqual(result.problems.first?.description,
                       "\(second):1: component:default/SVC: component:default/svc is already defined in \(first):1; the first definition is kept")
    }

    func testMissingLocationTargetFailsThatLocationOnly() throws {
        try write("here.yaml", component)
        let file = try write("index.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: index}\nspec:\n  targets: [./missing.yaml, ./here.yaml]\n")
        let result = try read(file)
        XCTAssertEqual(Set(try byRef(result.entities).keys), ["location:default/index", "component:default/svc"])
        XCTAssertEqual(result.problems.map(\.description), [
            "\(file):1: location:default/index: Location target \"./missing.yaml\": no such file \(folder.standardizedFileURL.path)/missing.yaml",
        ])
    }

    func testURLLocationTargetIsANoticeNotAProblem() throws {
        let file = try write("index.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: index}\nspec:\n  type: url\n  target: https://example.com/catalog-info.yaml\n")
        let result = try read(file)
        XCTAssertEqual(result.problems, [])
        XCTAssertEqual(result.notices, ["\(file):1: location:default/index: url target https://example.com/catalog-info.yaml is not fetched by a file: source"])
        XCTAssertEqual(result.entities.count, 1)
    }
}
