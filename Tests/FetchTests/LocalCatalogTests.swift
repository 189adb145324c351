import Fetch
import Foundation
import Store
import XCTest

final class LocalCatalogTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("local-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes `text` to `name` (relative to the temp folder) and returns the absolute path.
    @discardableResult
    private func write(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.standardizedFileURL.path
    }

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

    private let component = """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: svc
        spec:
          type: service
          lifecycle: production
          owner: team
        """

    // MARK: - The bundled example catalog

    func testExampleCatalogLoads() throws {
        let entities = try LocalCatalog(path: examplesPath).load()
        var kinds: [String: Int] = [:]
        for entity in entities { kinds[entity["kind"]?.stringValue ?? "?", default: 0] += 1 }
        XCTAssertEqual(kinds, ["Domain": 3, "System": 3, "Component": 8, "API": 4, "Resource": 2, "Group": 4, "User": 8])

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
        XCTAssertEqual(fromIndex.count, 32)
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
        try write("outside/more/team.yaml", "kind: Group\nmetadata: {name: team}\nspec: {type: team, children: []}\n")
        try write("root/index.yaml", """
            kind: Location
            metadata: {name: index}
            spec:
              target: ../outside/svc.yaml
              targets: [../outside/more/*.yaml, ./other.yaml, ../outside/svc.yaml]
            """)
        try write("root/other.yaml", "kind: Location\nmetadata: {name: other}\nspec: {targets: [./index.yaml, ../outside/gone.yaml], presence: optional}\n")
        let entities = try byRef(LocalCatalog(path: folder.appendingPathComponent("root").path).load())
        XCTAssertEqual(Set(entities.keys), ["component:default/svc", "group:default/team"])
        XCTAssertEqual(entities["component:default/svc"]?[path: ["metadata", "annotations", "backstage.io/managed-by-location"]]?.stringValue,
                       "file:" + outside.appendingPathComponent("svc.yaml").standardizedFileURL.path)
    }

    // MARK: - Errors

    func testMissingPath() {
        let path = folder.appendingPathComponent("nope").path
        XCTAssertEqual(loadError(path), .missingPath(path))
        XCTAssertEqual(loadError(path)?.description, "\(path): no such file or directory")
    }

    func testUnreadableFile() throws {
        let link = folder.appendingPathComponent("dangling.yaml")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/nonexistent/target.yaml")
        guard case .unreadable(let file, _)? = loadError() else { return XCTFail("expected unreadable") }
        XCTAssertEqual(file, link.path)
    }

    func testUnreadablePermissions() throws {
        try XCTSkipIf(getuid() == 0, "root reads files regardless of mode")
        let file = try write("locked.yaml", component)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: file)
        guard case .unreadable(let reported, _)? = loadError() else { return XCTFail("expected unreadable") }
        XCTAssertEqual(reported, file)
    }

    func testYAMLErrorNamesFileAndLine() throws {
        try write("a-good.yaml", component)
        let bad = try write("b-bad.yaml", component + "\n---\nkind: Group\nmetadata:\n  name: x\n   oops: y\n")
        guard case .yaml(let error)? = loadError() else { return XCTFail("expected a YAML error") }
        XCTAssertEqual(error.file, bad)
        XCTAssertEqual(error.line, 13)
        XCTAssertTrue(loadError()?.description.hasPrefix("\(bad):13:") ?? false)
    }

    func testDuplicateKeyIsAYAMLError() throws {
        let bad = try write("dup.yaml", component + "\nkind: Group\n")
        guard case .yaml(let error)? = loadError() else { return XCTFail("expected a YAML error") }
        XCTAssertEqual(error.file, bad)
        XCTAssertEqual(error.line, 9)
        XCTAssertTrue(error.message.contains("duplicate key \"kind\""))
    }

    func testDocumentThatIsNotAMapping() throws {
        let file = try write("list.yaml", component + "\n---\n- just\n- a list\n")
        guard case .invalidDescriptor(let error)? = loadError() else { return XCTFail("expected invalidDescriptor") }
        XCTAssertEqual(error.file, file)
        XCTAssertEqual(error.document, 2)
        XCTAssertEqual(error.line, 10)
        XCTAssertEqual(error.reason, .notAMapping(found: "array"))
        XCTAssertEqual(loadError()?.description, "\(file):10: document 2: a descriptor must be a mapping, found array")
    }

    func testMissingKindAndName() throws {
        let file = try write("nokind.yaml", "apiVersion: backstage.io/v1alpha1\nmetadata:\n  name: x\n")
        guard case .invalidDescriptor(let noKind)? = loadError() else { return XCTFail("expected invalidDescriptor") }
        XCTAssertEqual(noKind.file, file)
        XCTAssertEqual(noKind.reason, .missingField("kind"))

        try write("nokind.yaml", "kind: Component\nmetadata:\n  title: x\n")
        guard case .invalidDescriptor(let noName)? = loadError() else { return XCTFail("expected invalidDescriptor") }
        XCTAssertEqual(noName.reason, .missingField("metadata.name"))
        XCTAssertEqual(noName.document, 1)
    }

    func testDuplicateEntityAcrossFilesNamesBoth() throws {
        let first = try write("a/svc.yaml", component)
        let second = try write("b/svc-again.yaml", component.replacingOccurrences(of: "name: svc", with: "name: SVC"))
        guard case .invalidDescriptor(let error)? = loadError() else { return XCTFail("expected invalidDescriptor") }
        XCTAssertEqual(error.file, second)
        XCTAssertEqual(error.reason, .duplicateEntity(ref: "component:default/svc", firstFile: first, firstDocument: 1))
        let text = loadError()?.description ?? ""
        XCTAssertTrue(text.contains(first) && text.contains(second), text)
    }

    func testMissingLocationTarget() throws {
        let file = try write("index.yaml", "kind: Location\nmetadata: {name: index}\nspec:\n  targets: [./missing.yaml]\n")
        guard case .locationTarget(let reported, let document, _, let target, let reason)? = loadError() else {
            return XCTFail("expected locationTarget")
        }
        XCTAssertEqual(reported, file)
        XCTAssertEqual(document, 1)
        XCTAssertEqual(target, "./missing.yaml")
        XCTAssertTrue(reason.contains("no such file"), reason)
    }

    func testRemoteLocationTargetIsRefused() throws {
        try write("index.yaml", "kind: Location\nmetadata: {name: index}\nspec:\n  type: url\n  target: https://example.com/catalog-info.yaml\n")
        guard case .locationTarget(_, _, _, _, let reason)? = loadError() else { return XCTFail("expected locationTarget") }
        XCTAssertTrue(reason.contains("remote"), reason)
    }
}
