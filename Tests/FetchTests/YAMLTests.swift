import Fetch
import Foundation
import Store
import XCTest

final class YAMLTests: XCTestCase {
    private func json(_ text: String, file: String = "test.yaml") throws -> JSONValue {
        let documents = try YAML.parseDocuments(text, file: file)
        XCTAssertEqual(documents.count, 1)
        return try XCTUnwrap(documents.first).toJSON()
    }

    private func yamlError(_ text: String, limits: YAMLLimits = .default,
                           file: StaticString = #filePath, line: UInt = #line) -> YAMLError? {
        do {
            let documents = try YAML.parseDocuments(text, file: "bad.yaml", limits: limits)
            for document in documents { _ = try document.toJSON() }
            XCTFail("expected a YAMLError", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Scalars

    func testPlainScalarsResolveByTheCoreSchema() {
        let cases: [(String, JSONValue)] = [
            ("null", nil), ("Null", nil), ("NULL", nil), ("~", nil), ("", nil),
            ("true", true), ("True", true), ("TRUE", true),
            ("false", false), ("False", false), ("FALSE", false),
            ("0", 0), ("42", 42), ("-17", -17), ("+5", 5), ("007", 7),
            ("0x1F", 31), ("0xff", 255), ("0o17", 15),
            ("3.25", 3.25), ("-0.5", -0.5), (".5", 0.5), ("5.", 5), ("1e3", 1000), ("2.5E-1", 0.25), ("+1.5e+2", 150),
            (".inf", .number(.infinity)), ("-.Inf", .number(-.infinity)), ("+.INF", .number(.infinity)),
            // YAML 1.1 booleans and other look-alikes stay strings in 1.2.
            ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"),
            ("nULL", "nULL"), ("tRUE", "tRUE"),
            ("1.2.3", "1.2.3"), ("0x", "0x"), ("0o8", "0o8"), ("0xG", "0xG"), ("12abc", "12abc"),
            ("1_000", "1_000"), ("1e", "1e"), ("-", "-"), (".", "."), ("+", "+"), ("e5", "e5"),
            ("hello world", "hello world"), ("2024-01-02", "2024-01-02"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(YAMLScalar.resolve(text), expected, "plain scalar \"\(text)\"")
        }
        guard case .number(let nan) = YAMLScalar.resolve(".nan") else { return XCTFail(".nan is not a number") }
        XCTAssertTrue(nan.isNaN)
        XCTAssertEqual(YAMLScalar.resolve(".NaN").numberValue?.isNaN, true)
    }

    func testScalarsInDocuments() throws {
        let value = try json("""
            plain_int: 12
            plain_null:
            tilde: ~
            flag: True
            hex: 0x10
            quoted_int: "12"
            single_quoted_bool: 'true'
            tagged_str: !!str 12
            non_specific: ! 12
            literal: |
              line one
              line two
            folded: >
              folded
              text
            empty_quoted: ""
            version: 1.10
            """)
        XCTAssertEqual(value["plain_int"], 12)
        XCTAssertEqual(value["plain_null"], .null)
        XCTAssertEqual(value["tilde"], .null)
        XCTAssertEqual(value["flag"], true)
        XCTAssertEqual(value["hex"], 16)
        XCTAssertEqual(value["quoted_int"], "12")
        XCTAssertEqual(value["single_quoted_bool"], "true")
        XCTAssertEqual(value["tagged_str"], "12")
        XCTAssertEqual(value["non_specific"], "12")
        XCTAssertEqual(value["literal"], "line one\nline two\n")
        XCTAssertEqual(value["folded"], "folded text\n")
        XCTAssertEqual(value["empty_quoted"], "")
        XCTAssertEqual(value["version"], 1.1)
    }

    func testNodesKeepPositionsAndSubscripts() throws {
        let documents = try YAML.parseDocuments("a:\n  b: [x, 'y']\n", file: "pos.yaml")
        let root = try XCTUnwrap(documents.first)
        XCTAssertEqual(root.line, 1)
        XCTAssertEqual(root.column, 1)
        let b = try XCTUnwrap(root["a"]?["b"])
        XCTAssertEqual(b.line, 2)
        XCTAssertEqual(b.column, 6)
        guard case .sequence(let items) = b.value else { return XCTFail("not a sequence") }
        XCTAssertEqual(items.map(\.scalarText), ["x", "y"])
        guard case .scalar(_, let quoted) = items[1].value else { return XCTFail("not a scalar") }
        XCTAssertTrue(quoted)
        XCTAssertEqual(items[1].column, 10)
        XCTAssertNil(root["missing"])
        XCTAssertNil(b["a"])
        XCTAssertEqual(root.file, "pos.yaml")
    }

    func testNonScalarKeysCannotBecomeJSON() throws {
        let documents = try YAML.parseDocuments("? [a, b]\n: value\n", file: "keys.yaml")
        XCTAssertThrowsError(try documents[0].toJSON()) { error in
            guard let error = error as? YAMLError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.line, 1)
            XCTAssertTrue(error.message.contains("only scalar keys"), error.message)
        }
    }

    // MARK: - Anchors and aliases

    func testAnchorsAndAliases() throws {
        let value = try json("""
            defaults: &defaults
              owner: team-a
              tags: [a, b]
            first: *defaults
            list:
              - &item hello
              - *item
            """)
        XCTAssertEqual(value["first"], value["defaults"])
        XCTAssertEqual(value[path: ["first", "owner"]], "team-a")
        XCTAssertEqual(value["list"], ["hello", "hello"])
    }

    func testAnchorsAreScopedToTheirDocument() {
        let error = yamlError("a: &x 1\n---\nb: *x\n")
        XCTAssertEqual(error?.line, 3)
        XCTAssertEqual(error?.column, 4)
        XCTAssertEqual(error?.message, "undefined alias *x")
    }

    func testRecursiveAliasIsRefused() {
        let error = yamlError("&a [1, *a]\n")
        XCTAssertTrue(error?.message.contains("recursive alias") ?? false, error?.message ?? "")
    }

    func testBillionLaughsIsRefused() {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let start = Date()
        let error = yamlError(text)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(error?.file, "bad.yaml")
        XCTAssertTrue(error?.message.contains("alias bomb") ?? false, error?.message ?? "")
        XCTAssertGreaterThan(error?.line ?? 0, 1)
    }

    func testExpansionLimitsAreConfigurable() {
        // 1 + 3 (sequence) + 20 aliases of 4 nodes each, far below the default limits.
        let text = "base: &b [1, 2, 3]\nuses: [" + Array(repeating: "*b", count: 20).joined(separator: ", ") + "]\n"
        XCTAssertNoThrow(try YAML.parseDocuments(text, file: "ok.yaml"))
        let total = yamlError(text, limits: YAMLLimits(maxExpandedNodes: 50))
        XCTAssertTrue(total?.message.contains("past 50 nodes") ?? false, total?.message ?? "")
        let ratio = yamlError(text, limits: YAMLLimits(maxExpansionRatio: 2, ratioFloor: 10))
        XCTAssertTrue(ratio?.message.contains("more than 2x") ?? false, ratio?.message ?? "")
    }

    func testDeepNestingIsRefused() {
        let text = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        let error = yamlError(text)
        XCTAssertEqual(error?.message, "nesting deeper than 512 levels")
        XCTAssertEqual(error?.line, 1)
        XCTAssertEqual(error?.column, 513)
    }

    // MARK: - Mapping keys

    func testDuplicateKeysAreRefused() {
        let error = yamlError("name: a\nspec:\n  owner: x\nname: b\n")
        XCTAssertEqual(error?.line, 4)
        XCTAssertEqual(error?.column, 1)
        XCTAssertEqual(error?.message, "duplicate key \"name\" in mapping (first at line 1)")
        XCTAssertEqual(error?.description, "bad.yaml:4:1: duplicate key \"name\" in mapping (first at line 1)")
    }

    func testDuplicateKeysAcrossQuotingAreRefused() {
        let error = yamlError("spec:\n  owner: x\n  \"owner\": y\n")
        XCTAssertEqual(error?.line, 3)
        XCTAssertEqual(error?.column, 3)
        XCTAssertTrue(error?.message.contains("\"owner\"") ?? false)
    }

    func testSameKeyInDifferentMappingsIsFine() throws {
        let value = try json("a: {name: 1}\nb: {name: 2}\n")
        XCTAssertEqual(value[path: ["b", "name"]], 2)
    }

    func testMergeKeysAreRefused() {
        let error = yamlError("base: &b {x: 1}\nchild:\n  <<: *b\n  y: 2\n")
        XCTAssertEqual(error?.line, 3)
        XCTAssertEqual(error?.column, 3)
        XCTAssertTrue(error?.message.contains("merge keys (<<) are not supported") ?? false)
    }

    func testQuotedMergeKeyIsAPlainKey() throws {
        XCTAssertEqual(try json("\"<<\": 1\n")["<<"], 1)
    }

    // MARK: - Syntax errors

    func testSyntaxErrorsCarryLibyamlPositions() {
        let error = yamlError("kind: Component\nmetadata:\n  name: a\n   bad: b\n")
        XCTAssertEqual(error?.file, "bad.yaml")
        XCTAssertEqual(error?.line, 4)
        XCTAssertEqual(error?.column, 7)
        XCTAssertTrue(error?.message.contains("mapping values are not allowed") ?? false, error?.message ?? "")
        XCTAssertTrue(error?.description.hasPrefix("bad.yaml:4:7: ") ?? false, error?.description ?? "")
    }

    func testUnclosedFlowSequence() {
        let error = yamlError("a: [1, 2\nb: 3\n")
        XCTAssertEqual(error?.line, 2)
        XCTAssertTrue(error?.message.contains("while parsing a flow sequence at line 1, column 4") ?? false,
                      error?.message ?? "")
    }

    func testInvalidUTF8IsAReaderErrorWithPosition() {
        var bytes = Array("a: 1\nb: ".utf8)
        bytes.append(0xff)
        bytes.append(contentsOf: Array("\n".utf8))
        XCTAssertThrowsError(try YAML.parseDocuments(bytes: bytes, file: "utf8.yaml")) { error in
            guard let error = error as? YAMLError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.line, 2)
            XCTAssertEqual(error.column, 4)
            XCTAssertTrue(error.message.contains("UTF-8"), error.message)
        }
    }

    // MARK: - Documents and files

    func testMultipleDocuments() throws {
        let documents = try YAML.parseDocuments("a: 1\n---\n---\n# nothing\n---\n- b\n...\n", file: "multi.yaml")
        XCTAssertEqual(documents.count, 4)
        XCTAssertEqual(try documents.map { try $0.toJSON() }, [["a": 1], .null, .null, ["b"]])
        XCTAssertEqual(documents[0].line, 1)
        XCTAssertEqual(documents[3].line, 6)
    }

    func testEmptyStreamsHaveNoDocuments() throws {
        XCTAssertEqual(try YAML.parseDocuments("", file: "e.yaml").count, 0)
        XCTAssertEqual(try YAML.parseDocuments("# only a comment\n", file: "e.yaml").count, 0)
    }

    func testLoadDocumentsFromFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("doc.yaml").path
        try "x: 1\n---\ny: [2]\n".write(toFile: file, atomically: true, encoding: .utf8)
        let documents = try YAML.loadDocuments(path: file)
        XCTAssertEqual(try documents.map { try $0.toJSON() }, [["x": 1], ["y": [2]]])
        XCTAssertEqual(documents[1].file, file)

        XCTAssertThrowsError(try YAML.loadDocuments(path: folder.appendingPathComponent("nope.yaml").path)) { error in
            guard let error = error as? YAMLError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.line, 0)
            XCTAssertEqual(error.message, "no such file")
            XCTAssertTrue(error.description.hasSuffix("nope.yaml: no such file"), error.description)
        }
        XCTAssertThrowsError(try YAML.loadDocuments(path: folder.path)) { error in
            XCTAssertEqual((error as? YAMLError)?.message, "is a directory, not a file")
        }
    }
}
