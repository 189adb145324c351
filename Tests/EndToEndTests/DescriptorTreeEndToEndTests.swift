import FakeServers
import Foundation
@testable import Store
import XCTest

/// A realistic repository checkout read by `file:` sources, as a new user points mirrorctl at one:
/// OpenAPI/AsyncAPI specs beside their API entities, a template with a `{{ }}` skeleton, a compose
/// file, a Helm chart, a Location with relative and URL targets, placeholders, a BOM, CRLF line
/// ends, a Latin-1 file, a JSON descriptor with surrogate-pair escapes — and a syntax error, an
/// invalid name, a lower-case kind, a duplicate and a missing target, each a problem of its own.
final class DescriptorTreeEndToEndTests: EndToEndCase {
    private var repo: URL!
    private var repoPath: String { repo.standardizedFileURL.path }

    override func setUpWithError() throws {
        try super.setUpWithError()
        repo = directory.appendingPathComponent("repo")
        try buildTree()
    }

    private func put(_ name: String, _ text: String) throws {
        try put(name, bytes: Array(text.utf8))
    }

    private func put(_ name: String, bytes: [UInt8]) throws {
        let url = repo.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    private func path(_ name: String) -> String { repoPath + "/" + name }

    /// An API descriptor document whose definition is the `$text` of `definition`.
    private func api(_ name: String, definition: String, spec: String = "") -> String {
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: \(name)\nspec:\n  type: openapi\n"
            + "  lifecycle: production\n  owner: team-a\n  definition:\n    $text: \(definition)\n\(spec)"
    }

    /// A Component descriptor document: 8 lines, so documents joined by `---` start every 9 lines.
    private func component(_ name: String, kind: String = "Component", lifecycle: String = "production",
                           owner: String = "team-a", metadata: String = "") -> String {
        "apiVersion: backstage.io/v1alpha1\nkind: \(kind)\nmetadata:\n  name: \(name)\n\(metadata)spec:\n"
            + "  type: service\n  lifecycle: \(lifecycle)\n  owner: \(owner)\n"
    }

    private func buildTree() throws {
        // A checkout: `/` in placeholders means its root, wherever the descriptor is.
        try put(".git/HEAD", "ref: refs/heads/main\n")
        try put("catalog-info.yaml", """
            apiVersion: backstage.io/v1alpha1
            kind: Location
            metadata:
              name: repo
              description: Everything in this repository
            spec:
              targets:
                - ./org.yaml
                - ./services/*/catalog-info.yaml
                - ./templates/service/template.yaml
                - https://github.com/acme/other-repo/blob/main/catalog-info.yaml
                - ./missing/catalog-info.yaml

            """)
        // A BOM and CRLF line ends, as an editor on Windows writes them.
        try put("org.yaml", bytes: [0xEF, 0xBB, 0xBF] + Array("""
            apiVersion: backstage.io/v1alpha1
            kind: Group
            metadata:
              name: team-a
              description: The orders team
            spec:
              type: team
              children: []
              members: [alice]
            ---
            apiVersion: backstage.io/v1alpha1
            kind: User
            metadata:
              name: alice
            spec:
              profile: {email: alice@example.com}
              memberOf: []

            """.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        try put("docker-compose.yaml", "services:\n  db:\n    image: postgres:16\n")
        try put("charts/app/templates/deployment.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{ include "app.fullname" . }}
            spec:
              replicas: {{ .Values.replicas }}

            """)
        try put("services/orders/catalog-info.yaml", """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: orders
              annotations:
                backstage.io/managed-by-location: url:https://spoofed.example.com/x.yaml
                backstage.io/techdocs-ref: dir:.
            spec:
              type: service
              lifecycle: production
              owner: team-a
              providesApis: [orders-api]
              dependsOn: [resource:orders-db]
            ---

            """ + api("orders-api", definition: "./openapi.yaml", spec: "  limits:\n    $json: /services/orders/limits.json\n"))
        try put("services/orders/openapi.yaml", "openapi: 3.0.3\ninfo:\n  title: Orders\n  version: 1.0.0\npaths: {}\n")
        try put("services/orders/limits.json", "{\"rps\": 100}\n")
        try put("services/orders/docs/mkdocs.yml", "site_name: Orders\nnav:\n  - Home: index.md\n")
        try put("services/orders-db/catalog-info.yaml", """
            apiVersion: backstage.io/v1alpha1
            kind: Resource
            metadata:
              name: orders-db
            spec:
              type: database
              owner: team-a

            """)
        // JSON, with an emoji written as a surrogate pair.
        try put("services/payments/catalog-info.yaml", """
            {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
             "metadata": {"name": "payments", "description": "Pays \\ud83d\\ude80 fast"},
             "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a"}}

            """)
        // Latin-1: "Café" with é as the single byte 0xE9.
        try put("services/legacy/catalog-info.yaml", bytes: Array("""
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: legacy
              description: Caf
            """.utf8) + [0xE9] + Array("\nspec:\n  type: service\n  lifecycle: deprecated\n  owner: team-a\n".utf8))
        try put("services/broken/catalog-info.yaml", component("broken-ok") + "---\n" + """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: broken
              description: "unterminated
            spec:
              owner: team-a

            """)
        try put("services/bad-name/catalog-info.yaml", [
            component("my service"), component("lower-kind", kind: "component"), component("two-owners", owner: "[team-a, team-b]"),
            """
            apiVersion: backstage.io/v1alpha1
            kind: API
            metadata:
              name: secrets-api
            spec:
              type: openapi
              lifecycle: production
              owner: team-a
              definition:
                $text: ../../../outside.txt

            """,
        ].joined(separator: "---\n"))
        try put("../outside.txt", "not for the catalog\n")
        try put("services/shipping/catalog-info.yaml", component("shipping", lifecycle: "experimental") + "---\n" + component("Orders", lifecycle: "experimental"))
        try put("templates/service/template.yaml", """
            apiVersion: scaffolder.backstage.io/v1beta3
            kind: Template
            metadata:
              name: new-service
            spec:
              owner: team-a
              type: service
              steps:
                - id: fetch
                  action: fetch:template
                  input:
                    url: ./skeleton
                    values:
                      name: ${{ parameters.name }}

            """)
        try put("templates/service/skeleton/catalog-info.yaml", """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: ${{ values.name | dump }}
            spec:
              type: service
              owner: {{ values.owner }}

            """)
    }

    /// The problems every read of this tree reports, in walk order.
    private var expectedProblems: [String] {
        [
            "\(path("catalog-info.yaml")):1: location:default/repo: Location target \"./missing/catalog-info.yaml\": no such file \(path("missing/catalog-info.yaml"))",
            "\(path("services/bad-name/catalog-info.yaml")):1: component:default/my service: metadata.name \"my service\" is not valid: expected 1-63 characters of [a-zA-Z0-9] separated by [-_.]",
            "\(path("services/bad-name/catalog-info.yaml")):10: component:default/lower-kind: kind \"component\" is not recognized: built-in kinds are case-sensitive, write Component",
            "\(path("services/bad-name/catalog-info.yaml")):19: component:default/two-owners: spec.owner must be a non-empty string for kind Component, found array",
            "\(path("services/bad-name/catalog-info.yaml")):28: api:default/secrets-api: Placeholder $text ../../../outside.txt: refused: \(directory.standardizedFileURL.path)/outside.txt is outside the source root \(repoPath)",
            "\(path("services/broken/catalog-info.yaml")):17: YAML error: found unexpected end of stream (while scanning a quoted scalar at line 14, column 16) (column 1)",
            "\(path("services/shipping/catalog-info.yaml")):10: component:default/Orders: component:default/orders is already defined in \(path("services/orders/catalog-info.yaml")):1; the first definition is kept",
        ]
    }

    private let kinds = ["--kind", "component", "--kind", "api", "--kind", "group", "--kind", "user", "--kind", "resource",
                         "--kind", "location", "--kind", "template"]

    private func sync(_ url: String, extra: [String] = []) throws -> CommandResult {
        try mirrorctl(["sync", "--backstage-url", url, "--json"] + kinds + extra)
    }

    private func mirrored() throws -> [String: JSONValue] {
        let store = try MirrorStore(path: databasePath, readOnly: true)
        var out: [String: JSONValue] = [:]
        for row in try store.db.rows("SELECT e.ref, b.body FROM entities e JOIN blobs b ON b.hash = e.hash") {
            guard let ref = row.string(0), let body = row.string(1) else { continue }
            out[ref] = try CanonicalJSON.parse(body)
        }
        return out
    }

    private func problems(_ result: CommandResult) -> [String] {
        (result.json?["descriptorProblems"]?.arrayValue ?? []).map { problem in
            let line = Int(problem["line"]?.numberValue ?? 0)
            let entity = problem["entity"]?.stringValue.map { "\($0): " } ?? ""
            return "\(problem["file"]?.stringValue ?? "?")\(line > 0 ? ":\(line)" : ""): \(entity)\(problem["message"]?.stringValue ?? "?")"
        }
    }

    private let expectedRefs: Set<String> = [
        "location:default/repo", "group:default/team-a", "user:default/alice", "component:default/orders",
        "api:default/orders-api", "resource:default/orders-db", "component:default/payments", "component:default/legacy",
        "component:default/broken-ok", "component:default/shipping", "template:default/new-service",
    ]

    func testFolderModeMirrorsEveryGoodEntityAndListsEveryProblem() throws {
        let result = try sync("file:" + repoPath)
        assertStatus(result, 3)
        XCTAssertEqual(result.json?["status"], "partial")
        XCTAssertEqual(problems(result), expectedProblems)
        // Each problem is said once on stderr, with its file and line.
        for problem in expectedProblems {
            XCTAssertEqual(result.stderr.components(separatedBy: problem).count - 1, 1, "\(problem)\n\(result.stderr)")
        }
        XCTAssertTrue(result.stderr.contains("URL target https://github.com/acme/other-repo/blob/main/catalog-info.yaml is not fetched"), result.stderr)

        let entities = try mirrored()
        XCTAssertEqual(Set(entities.keys), expectedRefs)
        try assertBackstageShape(entities, origin: "file:" + repoPath)

        // Specs, compose files, mkdocs, Helm templates and the template's skeleton are not
        // entities: listed at debug level, never problems.
        let debug = try sync("file:" + repoPath, extra: ["--log-level", "debug"])
        for skipped in ["services/orders/openapi.yaml", "docker-compose.yaml", "services/orders/docs/mkdocs.yml",
                        "charts/app/templates/deployment.yaml", "templates/service/skeleton/catalog-info.yaml"] {
            XCTAssertTrue(debug.stderr.contains("skipped \(path(skipped))"), "\(skipped)\n\(debug.stderr)")
        }
    }

    func testEntryFileModeFollowsTheLocationAndFindsTheSameEntities() throws {
        let result = try sync("file:" + path("catalog-info.yaml"))
        assertStatus(result, 3)
        XCTAssertEqual(problems(result), expectedProblems)
        let entities = try mirrored()
        XCTAssertEqual(Set(entities.keys), expectedRefs)
        try assertBackstageShape(entities, origin: "file:" + path("catalog-info.yaml"))
    }

    /// Relations and annotations of a sample, as Backstage's processors emit them.
    private func assertBackstageShape(_ entities: [String: JSONValue], origin: String) throws {
        func relations(_ ref: String) -> [String] {
            (entities[ref]?["relations"]?.arrayValue ?? []).map { "\($0["type"]?.stringValue ?? "") \($0["targetRef"]?.stringValue ?? "")" }
        }
        XCTAssertEqual(relations("component:default/orders"),
                       ["dependsOn resource:default/orders-db", "ownedBy group:default/team-a", "providesApi api:default/orders-api"])
        XCTAssertEqual(relations("api:default/orders-api"), ["apiProvidedBy component:default/orders", "ownedBy group:default/team-a"])
        XCTAssertEqual(relations("resource:default/orders-db"), ["dependencyOf component:default/orders", "ownedBy group:default/team-a"])
        XCTAssertEqual(relations("group:default/team-a"), [
            "hasMember user:default/alice",
            "ownerOf api:default/orders-api", "ownerOf component:default/broken-ok", "ownerOf component:default/legacy",
            "ownerOf component:default/orders", "ownerOf component:default/payments", "ownerOf component:default/shipping",
            "ownerOf resource:default/orders-db", "ownerOf template:default/new-service",
        ])
        XCTAssertEqual(relations("user:default/alice"), ["memberOf group:default/team-a"])
        XCTAssertEqual(relations("location:default/repo"), [])

        let orders = try XCTUnwrap(entities["component:default/orders"])
        // managed-by-location is the file that yielded the entity (a descriptor can't override
        // it), origin the location the walk started from; other annotations are the descriptor's.
        XCTAssertEqual(orders[path: ["metadata", "annotations"]], [
            "backstage.io/managed-by-location": .string("file:" + path("services/orders/catalog-info.yaml")),
            "backstage.io/managed-by-origin-location": .string(origin),
            "backstage.io/techdocs-ref": "dir:.",
        ])
        XCTAssertEqual(entities["location:default/repo"]?[path: ["metadata", "annotations", "backstage.io/managed-by-location"]],
                       .string("file:" + path("catalog-info.yaml")))
        XCTAssertEqual(orders[path: ["metadata", "namespace"]], "default")

        // Placeholders: $text relative to the descriptor, $json from the source root.
        let api = try XCTUnwrap(entities["api:default/orders-api"])
        XCTAssertEqual(api[path: ["spec", "definition"]], "openapi: 3.0.3\ninfo:\n  title: Orders\n  version: 1.0.0\npaths: {}\n")
        XCTAssertEqual(api[path: ["spec", "limits"]], ["rps": 100])
        // Text Backstage reads reads here too.
        XCTAssertEqual(entities["component:default/payments"]?[path: ["metadata", "description"]], "Pays \u{1F680} fast")
        XCTAssertEqual(entities["component:default/legacy"]?[path: ["metadata", "description"]], "Caf\u{FFFD}")
        XCTAssertEqual(entities["group:default/team-a"]?[path: ["metadata", "description"]], "The orders team")
        // The duplicate lost: the first definition in walk order is mirrored.
        XCTAssertEqual(orders[path: ["spec", "lifecycle"]], "production")
    }

    func testAFailingFileKeepsItsEntitiesAndNothingIsDeletedUntilTheNextCleanRun() throws {
        let port = try FakePort.start(clientId: "tree-client", clientSecret: "tree-secret")
        defer { port.stop() }
        environment["PORT_BASE_URL"] = port.baseURL
        environment["PORT_CLIENT_ID"] = "tree-client"
        environment["PORT_CLIENT_SECRET"] = "tree-secret"
        assertStatus(try mirrorctl(["blueprints", "apply"]), 0)
        // A clean tree first.
        for name in ["services/bad-name/catalog-info.yaml", "services/broken/catalog-info.yaml"] {
            try FileManager.default.removeItem(at: repo.appendingPathComponent(name))
        }
        try put("services/shipping/catalog-info.yaml", component("shipping", lifecycle: "experimental"))
        try put("catalog-info.yaml", """
            apiVersion: backstage.io/v1alpha1
            kind: Location
            metadata:
              name: repo
            spec:
              targets: [./org.yaml, ./services/*/catalog-info.yaml]

            """)
        let clean = try sync("file:" + repoPath)
        assertStatus(clean, 0)
        XCTAssertEqual(clean.json?["status"], "succeeded")
        let before = try mirrored()
        XCTAssertNotNil(before["component:default/shipping"])
        XCTAssertNotNil(port.entity(blueprint: "component", identifier: "component:default/shipping"))

        // Now payments' file breaks, shipping's file is gone, and legacy changes.
        try put("services/payments/catalog-info.yaml", "{\"apiVersion\": \"backstage.io/v1alpha1\", \"kind\": \"Component\",\n \"metadata\": {\"name\": \"payments\"\n")
        try FileManager.default.removeItem(at: repo.appendingPathComponent("services/shipping"))
        try put("services/legacy/catalog-info.yaml", component("legacy", lifecycle: "deprecated", metadata: "  description: Now in UTF-8\n"))
        let partial = try sync("file:" + repoPath)
        assertStatus(partial, 3)
        XCTAssertEqual(partial.json?["status"], "partial")
        XCTAssertEqual(problems(partial).count, 1)
        XCTAssertTrue(problems(partial).first?.hasPrefix(path("services/payments/catalog-info.yaml") + ":3: YAML error: ") ?? false,
                      "\(problems(partial))")
        XCTAssertEqual(partial.json?["source"]?["deleted"], 0)
        // legacy changed; team-a lists only the owned entities read this run (its ownerOf
        // relations are reverse ones, emitted by the entities that were read).
        XCTAssertEqual(partial.json?["source"]?["updated"], 2)
        let during = try mirrored()
        XCTAssertEqual(during["component:default/payments"], before["component:default/payments"], "the failing file's entity keeps its last version")
        XCTAssertEqual(during["component:default/shipping"], before["component:default/shipping"], "deletes are withheld")
        XCTAssertEqual(during["component:default/legacy"]?[path: ["metadata", "description"]], "Now in UTF-8")
        XCTAssertTrue(partial.stderr.contains("no deletes this run"), partial.stderr)
        XCTAssertEqual(partial.json?[path: ["port", "deleted"]], 0)
        XCTAssertNotNil(port.entity(blueprint: "component", identifier: "component:default/shipping"), "no Port delete either")
        XCTAssertEqual(port.entity(blueprint: "component", identifier: "component:default/legacy")?.properties["description"], "Now in UTF-8")
        let runs = try mirrorctl(["runs", "--json"])
        XCTAssertTrue(runs.stdout.contains("1 descriptor problem, e.g. \(path("services/payments/catalog-info.yaml")):3"), runs.stdout)

        // Fixed: the next run is clean and the deletion it withheld happens.
        try put("services/payments/catalog-info.yaml", "{\"apiVersion\": \"backstage.io/v1alpha1\", \"kind\": \"Component\", \"metadata\": {\"name\": \"payments\"}, \"spec\": {\"type\": \"service\", \"lifecycle\": \"production\", \"owner\": \"team-a\"}}\n")
        let next = try sync("file:" + repoPath)
        assertStatus(next, 0)
        XCTAssertNil(next.json?["descriptorProblems"])
        XCTAssertEqual(next.json?["source"]?["deleted"], 1)
        let after = try mirrored()
        XCTAssertNil(after["component:default/shipping"])
        XCTAssertEqual(next.json?[path: ["port", "deleted"]], 1)
        XCTAssertNil(port.entity(blueprint: "component", identifier: "component:default/shipping"))
        XCTAssertNotNil(after["component:default/payments"])
    }

    func testMappingTestFileRunsTheSameProcessingOnEveryDocument() throws {
        // Both documents of the file, with their relations and the placeholder substituted.
        let both = try mirrorctl(["mapping", "test", "--file", path("services/orders/catalog-info.yaml"), "--json"])
        assertStatus(both, 0)
        let tried = both.json?["entities"]?.arrayValue ?? []
        XCTAssertEqual(tried.compactMap { $0["ref"]?.stringValue }, ["component:default/orders", "api:default/orders-api"])
        let component = try XCTUnwrap(tried.first?["results"]?.arrayValue?.first)
        XCTAssertEqual(component[path: ["entity", "relations", "providesApis"]], ["api:default/orders-api"])
        XCTAssertEqual(component[path: ["entity", "relations", "owningGroup"]], "group:default/team-a")
        let api = try XCTUnwrap(tried.last?["results"]?.arrayValue?.first)
        XCTAssertEqual(api[path: ["entity", "properties", "definition"]], "openapi: 3.0.3\ninfo:\n  title: Orders\n  version: 1.0.0\npaths: {}\n")
        // definitionGRPC and definitionGraphQL are optional: notes, not warnings.
        let notes = Set((api["notes"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue })
        XCTAssertTrue(notes.isSuperset(of: ["properties.definitionGRPC", "properties.definitionGraphQL"]), "\(notes)")
        let warned = Set((api["warnings"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue })
        XCTAssertFalse(warned.contains("properties.definitionGRPC"), "\(warned)")

        // --ref picks one; the output is the single-entity shape.
        let one = try mirrorctl(["mapping", "test", "--file", path("services/orders/catalog-info.yaml"), "--ref", "api:default/orders-api", "--json"])
        assertStatus(one, 0)
        XCTAssertEqual(one.json?["ref"], "api:default/orders-api")

        // A document a sync would reject is listed, the others are still tried: exit 1.
        let mixed = try mirrorctl(["mapping", "test", "--file", path("services/broken/catalog-info.yaml")])
        assertStatus(mixed, 1)
        XCTAssertTrue(mixed.stdout.contains("component:default/broken-ok"), mixed.stdout)
        XCTAssertTrue(mixed.stdout.contains("problem: \(path("services/broken/catalog-info.yaml")):17: YAML error"), mixed.stdout)
        // Nothing usable at all: a usage error naming every problem.
        let none = try mirrorctl(["mapping", "test", "--file", path("services/bad-name/catalog-info.yaml")])
        assertStatus(none, 2)
        XCTAssertTrue(none.stderr.contains("metadata.name \"my service\" is not valid"), none.stderr)
        XCTAssertTrue(none.stderr.contains("kind \"component\" is not recognized"), none.stderr)
    }

    func testJSONAPIDefinitionFillsTheBuiltinMappingsOpenAPIField() throws {
        try put("services/orders/openapi.json", "{\"openapi\": \"3.0.3\", \"paths\": {}}\n")
        try put("services/orders/catalog-info.yaml", api("orders-api", definition: "./openapi.json"))
        let result = try mirrorctl(["mapping", "test", "--file", path("services/orders/catalog-info.yaml"), "--json"])
        assertStatus(result, 0)
        let properties = result.json?["results"]?.arrayValue?.first?[path: ["entity", "properties"]]
        XCTAssertEqual(properties?["definitionOpenAPI"], ["openapi": "3.0.3", "paths": [:]])
        XCTAssertEqual(properties?["definitionAsyncAPI"], .null)
    }

    func testAKindWithNoEntitiesGetsOneNotice() throws {
        let result = try mirrorctl(["sync", "--backstage-url", "file:" + repoPath, "--kind", "domain", "--kind", "component"])
        XCTAssertEqual(result.stderr.components(separatedBy: "kind domain: the source has no entities of this kind").count - 1, 1, result.stderr)
        XCTAssertFalse(result.stderr.contains("kind component: the source has no entities"), result.stderr)
    }

    func testLintOfTheBuiltinMappingNotesOptionalNullsWithoutFailing() throws {
        for name in ["services/bad-name/catalog-info.yaml", "services/broken/catalog-info.yaml", "services/shipping/catalog-info.yaml"] {
            try FileManager.default.removeItem(at: repo.appendingPathComponent(name))
        }
        _ = try sync("file:" + repoPath)
        let lint = try mirrorctl(["mapping", "lint", "--json"])
        let findings = (lint.json?["findings"]?.arrayValue ?? []).map { "\($0["rule"]?.stringValue ?? "") \($0["field"]?.stringValue ?? "")" }
        XCTAssertFalse(findings.contains("always-null properties.definitionGRPC"), "\(findings)")
        let notes = (lint.json?["notes"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
        XCTAssertTrue(notes.contains("properties.definitionGRPC"), "\(notes)")
        XCTAssertTrue(lint.stdout.isEmpty == false)
    }
}
