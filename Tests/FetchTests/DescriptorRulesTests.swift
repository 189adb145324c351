import Fetch
import Foundation
import Store
import XCTest

/// The rules a `file:` source applies to each document, one at a time: YAML 1.2/JSON text libyaml
/// alone refuses, per-document isolation, catalog-model validation and placeholders.
final class DescriptorRulesTests: DescriptorFolderCase {
    // MARK: - YAML

    func testSurrogatePairEscapesDecodeAsJSONDoes() throws {
        let node = try XCTUnwrap(YAML.parseDocuments(#"{"a": "go \ud83d\ude80 now \ud83c\udf89", "b": "x\\ud83d", "c": "\u00e9"}"#, file: "j.json").first)
        XCTAssertEqual(try node.toJSON(), ["a": "go \u{1F680} now \u{1F389}", "b": "x\\ud83d", "c": "\u{E9}"])
        // Several scalars with pairs, and a lone surrogate (JSON allows it; it becomes U+FFFD).
        let many = try XCTUnwrap(YAML.parseDocuments("a: \"\\ud83d\\ude80\"\nb: \"\\ud83d\\ude80\\ud83d\\ude80\"\nc: \"\\udc00!\"\n", file: "y.yaml").first)
        XCTAssertEqual(try many.toJSON(), ["a": "\u{1F680}", "b": "\u{1F680}\u{1F680}", "c": "\u{FFFD}!"])
        // Outside double quotes the text is literal, as YAML says.
        let literal = try XCTUnwrap(YAML.parseDocuments("a: '\\ud83d\\ude80'\nb: \"\\ud83d\\ude80\"\n", file: "q.yaml").first)
        XCTAssertEqual(try literal.toJSON(), ["a": "\\ud83d\\ude80", "b": "\u{1F680}"])
    }

    func testEachDocumentParsesOnItsOwn() {
        let text = "%YAML 1.2\n---\na: 1\n---\nb: [unclosed\n---\n# comment\nc: 3\n...\nd: 4\n"
        let documents = YAML.parseEachDocument(bytes: Array(text.utf8), file: "s.yaml")
        XCTAssertEqual(documents.count, 4)
        XCTAssertEqual(try documents[0].result.get().toJSON(), ["a": 1])
        guard case .failure(let error) = documents[1].result else { return XCTFail("expected a failure") }
        XCTAssertEqual(error.line, 6)
        XCTAssertEqual(documents[1].failedText, "---\nb: [unclosed\n")
        XCTAssertEqual(try documents[2].result.get().toJSON(), ["c": 3])
        XCTAssertEqual(try documents[2].result.get().line, 8)
        XCTAssertEqual(try documents[3].result.get().toJSON(), ["d": 4])
        XCTAssertEqual(try documents[3].result.get().line, 10)
    }

    func testBOMCRLFAndLatin1ReadAsBackstageReadsThem() throws {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        bytes += Array("apiVersion: backstage.io/v1alpha1\r\nkind: Group\r\nmetadata:\r\n  name: t\r\n  description: Caf".utf8)
        bytes += [0xE9]
        bytes += Array("\r\nspec:\r\n  type: team\r\n  children: []\r\n".utf8)
        let file = folder.appendingPathComponent("g.yaml").path
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let read = try LocalCatalog(path: file).read()
        XCTAssertEqual(read.problems, [])
        XCTAssertEqual(read.entities.first?[path: ["metadata", "description"]], "Caf\u{FFFD}")
        XCTAssertEqual(read.entities.first?[path: ["spec", "type"]], "team")

        // UTF-16 with its BOM, as some Windows editors save.
        let utf16 = folder.appendingPathComponent("u.yaml").path
        try XCTUnwrap("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: u, title: Zoë}\nspec: {type: team, children: []}\n"
            .data(using: .utf16)).write(to: URL(fileURLWithPath: utf16))
        let wide = try LocalCatalog(path: utf16).read()
        XCTAssertEqual(wide.problems, [])
        XCTAssertEqual(wide.entities.first?[path: ["metadata", "title"]], "Zoë")
    }

    // MARK: - Validation

    private func violation(_ yaml: String) throws -> String? {
        let body = try XCTUnwrap(YAML.parseDocuments(yaml, file: "v.yaml").first).toJSON()
        return EntityValidator.violation(in: try XCTUnwrap(body.objectValue)).map { "\($0.field) \($0.rule)" }
    }


    func testValidationFollowsTheCatalogModel() throws {
        XCTAssertNil(try violation(component + "\n"))
        XCTAssertNil(try violation(component.replacingOccurrences(of: "name: svc", with: "name: Svc_1.x\n  namespace: team-a")))
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "name: svc", with: "name: svc\n  namespace: Team_A")),
                       "metadata.namespace \"Team_A\" is not valid: expected a DNS label (1-63 characters of [a-z0-9] separated by -)")
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "name: svc", with: "name: -svc")),
                       "metadata.name \"-svc\" is not valid: expected 1-63 characters of [a-zA-Z0-9] separated by [-_.]")
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "name: svc", with: "name: \(String(repeating: "a", count: 64))"))?.hasPrefix("metadata.name"), true)
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "backstage.io/v1alpha1", with: "backstage.io/v2 beta")),
                       "apiVersion \"backstage.io/v2 beta\" is not valid: expected [<DNS subdomain>/]<1-63 characters of [a-zA-Z0-9]>")
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "backstage.io/v1alpha1", with: "acme.io/v1")),
                       "apiVersion \"acme.io/v1\" is not valid for kind Component: expected backstage.io/v1alpha1 or backstage.io/v1beta1")
        XCTAssertEqual(try violation(component + "\nrelations: []\n"),
                       "relations is not allowed: an entity has only apiVersion, kind, metadata and spec at its root")
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "\n  owner: team", with: "")),
                       "spec.owner is required for kind Component")
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "name: svc", with: "name: svc\n  tags: [Java]")),
                       "metadata.tags[0] \"Java\" is not valid: expected 1-63 characters of [a-z0-9:+#] separated by -")
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "name: svc", with: "name: svc\n  annotations: {a: 1}")),
                       "metadata.annotations.a must be a string, found number")
        XCTAssertEqual(try violation(component.replacingOccurrences(of: "name: svc", with: "name: svc\n  links: [{url: not a url}]")),
                       "metadata.links[0].url must be a URL")
        XCTAssertEqual(try violation(component + "\n  dependsOn: component:a\n"),
                       "spec.dependsOn must be a list of strings for kind Component, found string")
        // An API definition must be a string, as after a $json placeholder it would not be.
        XCTAssertEqual(try violation("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: a}\nspec: {type: openapi, lifecycle: x, owner: t, definition: {openapi: 3.0.0}}\n"),
                       "spec.definition must be a non-empty string for kind API, found object")
        // Kinds mirrorctl does not know pass with the envelope and format rules.
        XCTAssertNil(try violation("apiVersion: acme.io/v1\nkind: Environment\nmetadata: {name: prod}\nspec: {anything: [1]}\n"))
        XCTAssertEqual(try violation("apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: t}\nspec: {type: service, steps: [{id: x}]}\n"),
                       "spec.steps[0].action is required")
    }

    // MARK: - Placeholders

    func testPlaceholdersAsBackstageSubstitutesThem() throws {
        try write("docs/readme.md", "# Hello\n")
        try write("data.json", #"{"n": 1, "$text": "not re-scanned"}"#)
        try write("data.yaml", "k: v\n")
        try write("two.yaml", "a: 1\n---\nb: 2\n")
        let file = try write("catalog-info.yaml", component + """

              readme: {$text: ./docs/readme.md}
              data: {$json: data.json}
              yaml: {$yaml: /data.yaml}
              schema: {$ref: "#/definitions/x"}
              mixed: {$text: ./docs/readme.md, other: 1}
              nested: [{$text: ./docs/readme.md}]

            """)
        let read = try LocalCatalog(path: file).read()
        XCTAssertEqual(read.problems, [])
        let spec = try XCTUnwrap(read.entities.first?["spec"])
        XCTAssertEqual(spec["readme"], "# Hello\n")
        XCTAssertEqual(spec["data"], ["n": 1, "$text": "not re-scanned"])
        XCTAssertEqual(spec["yaml"], ["k": "v"])
        XCTAssertEqual(spec["schema"], ["$ref": "#/definitions/x"])
        XCTAssertEqual(spec["mixed"], ["$text": "./docs/readme.md", "other": 1])
        XCTAssertEqual(spec["nested"], ["# Hello\n"])

        func problem(_ value: String) throws -> String? {
            let path = try write("p.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: p}\nspec: {type: s, lifecycle: l, owner: t, x: \(value)}\n")
            return try LocalCatalog(path: path).read().problems.first.map(\.message)
        }
        XCTAssertEqual(try problem("{$text: https://example.com/x.md}"),
                       "Placeholder $text https://example.com/x.md: absolute URLs are not fetched by a file: source; use a path inside \(folder.resolvingSymlinksInPath().path)")
        XCTAssertEqual(try problem("{$text: ./nope.md}")?.hasPrefix("Placeholder $text ./nope.md: could not read"), true)
        XCTAssertEqual(try problem("{$yaml: ./two.yaml}"), "Placeholder $yaml ./two.yaml: expected to find exactly one document of data at \(folder.resolvingSymlinksInPath().path)/two.yaml, found 2")
        XCTAssertEqual(try problem("{$json: ./data.yaml}"), "Placeholder $json ./data.yaml: failed to parse JSON data at \(folder.resolvingSymlinksInPath().path)/data.yaml")
        XCTAssertEqual(try problem("{$text: [a]}"), "Placeholder $text expected a string value parameter, in the form of a relative path")
        XCTAssertEqual(try problem("{$text: ../../../../../etc/passwd}")?.contains("is outside the source root"), true)
    }
}
