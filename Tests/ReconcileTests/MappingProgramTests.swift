import CJQ
import Foundation
@testable import Reconcile
import Store
import XCTest

/// The native jq subset must give exactly libjq's first output whenever it does not bail.
final class NativeJQTests: XCTestCase {
    private typealias Support = MappingTestSupport

    /// Expressions beyond the built-in mappings, covering every construct of the subset.
    private let extraExpressions = [
        ".", ".a", #"."weird key""#, ".a.b.c", ". .a", ".arr[]", ".arr[]?", ".obj[]", ".obj[]?", ".s[]?",
        #".a // .b // "c""#, ".n // .f // .a", ".a and .b", ".a or .b", ".f or .n", ".a == .b", #".a != "x""#,
        #""p" + .a"#, ".a + .b", ".arr + .arr", ".obj + .obj", ".num + .num", ".n + .a", "[.a, .b]", "(.a, .b)",
        #"if .a then .b elif .c then "c" else empty end"#, #"if .arr[] then "t" else "f" end"#, "select(.a)",
        ".a | not", ".a | tostring", ".obj | tostring", ".num | tostring", ".arr[] | select(. == 1)",
        #".a | startswith("x")"#, #".s | startswith("he")"#, "[.arr[] | tostring]", "[.obj[]?] + [.arr[]?]",
        "true", "false", "null", "empty", "[.arr[]?.k]", ".arr[] | .k", "[.arr[], .obj[]]",
        ".a // empty", "empty // .a", "[.arr[] | select(.)]", #"(.arr[] | select(. == "x")) // null"#,
        ".s + .n", "(.a , .b) // .c", ".arr[] and true", "[.arr[] or false]",
        ".s # trailing comment", ".a # comment\n // .b", "0", "42", ".num + 1", "[.arr[] | . == 1]",
        "123456789012345", #"[.arr[] | select(. == "x") | tostring]"#, "[.arr[]? | select(.k) | .k]",
        ".arr[] | select(.arr[])", "[.obj[] | . == 1]", #"[.arr[] | select(. != "x") | "p" + tostring]"#,
        "[(.arr, .obj)[]? | select(.)]", #"select(.a) == "x""#, #""x" == .a"#, #"(.a | select(.)) != "y""#,
        ".s | startswith(.s)", #"[.arr[]? | .k | select(. == "v")]"#, #"[.arr[] | select(. == "") ]"#,
        #""" == .s"#, #"[.arr[]? | select(. == "x" and (. | startswith("x")))]"#,
    ]

    private let extraInputs: [JSONValue] = [
        ["a": "x", "b": "y", "c": nil, "arr": [1, "x", nil, false], "obj": ["k": 1, "j": "v"], "s": "hello",
         "n": nil, "f": false, "num": 2.5, "weird key": 1],
        ["a": 1, "b": 1, "arr": [], "obj": [:], "s": "", "num": 0],
        ["a": ["b": ["c": true]], "arr": [["k": "v"], ["k": nil]], "obj": "not an object", "s": 5],
        ["a": [1], "b": ["x": 1], "arr": "text", "obj": 3, "num": "2"],
        [:],
        nil,
        "a string",
        [1, 2, 3],
    ]

    /// Variants of a Backstage entity that make jq raise errors or take unusual paths.
    private func mutations(of entity: JSONValue) -> [JSONValue] {
        guard case .object(let members) = entity else { return [entity] }
        var out: [JSONValue] = [entity]
        func with(_ change: (inout [String: JSONValue]) -> Void) {
            var copy = members
            change(&copy)
            out.append(.object(copy))
        }
        func metadata(_ key: String, _ value: JSONValue?) {
            with { entity in
                var metadata = entity["metadata"]?.objectValue ?? [:]
                metadata[key] = value
                entity["metadata"] = .object(metadata)
            }
        }
        func spec(_ key: String, _ value: JSONValue?) {
            with { entity in
                var spec = entity["spec"]?.objectValue ?? [:]
                spec[key] = value
                entity["spec"] = .object(spec)
            }
        }
        let relations = members["relations"]?.arrayValue ?? []
        with { $0["relations"] = nil }
        with { $0["relations"] = .null }
        with { $0["relations"] = "text" }
        with { $0["relations"] = ["ownedBy": "user:default/x"] }
        with { $0["relations"] = .array(["x"] + relations) }
        with { $0["relations"] = .array(relations + [42]) }
        with { $0["relations"] = .array([["type": 1, "targetRef": 2]] + relations) }
        with { $0["relations"] = .array([["type": "ownedBy", "targetRef": nil]] + relations) }
        with { $0["relations"] = .array([["type": "ownedBy", "targetRef": ["user:x"]]] + relations) }
        with { $0["relations"] = .array([["type": "partOf", "targetRef": "system:default/a"], "broken"]) }
        metadata("links", "text")
        metadata("links", ["https://x"])
        metadata("links", [["url": 1], ["title": "no url"]])
        metadata("links", ["url": "https://x"])
        metadata("title", false)
        metadata("title", 0)
        metadata("title", "")
        metadata("namespace", 7)
        metadata("namespace", nil)
        metadata("tags", "solo")
        with { $0["metadata"] = .null }
        with { $0["metadata"] = "text" }
        with { $0["spec"] = "text" }
        with { $0["spec"] = nil }
        spec("system", 5)
        spec("system", ["a"])
        spec("definition", ["openapi": "3.0.0", "paths": [:]])
        spec("definition", 1.5)
        spec("definition", nil)
        spec("type", nil)
        spec("type", "open-api")
        spec("profile", "text")
        spec("profile", ["email": 5])
        return out
    }

    private func expressions() throws -> [String] {
        var texts: [String] = []
        for yaml in [BuiltinMapping.yaml, OceanDefaultMapping.yaml] {
            for resource in try Support.config(yaml).resources {
                let mappings = resource.mappings
                texts.append(resource.selectorQuery.text)
                texts += [mappings.identifier, mappings.blueprint].map(\.text)
                texts += [mappings.title, mappings.icon, mappings.team].compactMap { $0?.text }
                texts += (mappings.properties ?? []).map(\.expression.text)
                texts += (mappings.relations ?? []).map(\.expression.text)
            }
        }
        return Array(Set(texts.map(OceanQuotes.rewrite))).sorted()
    }

    private struct Tally {
        var compared = 0
        var bailed = 0
    }

    /// Compares the native first output with libjq's for one expression on one input.
    private func compare(_ source: String, _ input: JSONValue, program: JQProgram, native: FastJQ, tally: inout Tally) {
        let value = JQValue(input)
        let nativeResult = native.first(value.raw)
        let libjqResult = program.first(consuming: value.copy())
        defer {
            if case .value(let v) = nativeResult { jv_free(v) }
            if case .value(let v) = libjqResult { jv_free(v) }
        }
        let context = "\(source) on \(CanonicalJSON.string(input).prefix(300))"
        switch (nativeResult, libjqResult) {
        case (.bail, _):
            tally.bailed += 1
        case (.value(let a), .value(let b)):
            tally.compared += 1
            let bytesA = CanonicalJSON.string(JQValue(consuming: jv_copy(a)).toJSONValue())
            let bytesB = CanonicalJSON.string(JQValue(consuming: jv_copy(b)).toJSONValue())
            XCTAssertEqual(bytesA, bytesB, context)
            XCTAssertEqual(jv_get_kind(a), jv_get_kind(b), context)
        case (.none, .none):
            tally.compared += 1
        case (.none, let other):
            XCTFail("native: no output, libjq: \(describe(other)) — \(context)")
        case (.value(let a), let other):
            XCTFail("native: \(JQValue(consuming: jv_copy(a)).toJSONValue()), libjq: \(describe(other)) — \(context)")
        }
    }

    private func describe(_ output: FirstOutput) -> String {
        switch output {
        case .value(let v): return "\(JQValue(consuming: jv_copy(v)).toJSONValue())"
        case .none: return "no output"
        case .error(let message): return "error \(message)"
        }
    }

    func testMappingExpressionsAgreeWithLibjqOnOddEntities() throws {
        var inputs: [JSONValue] = []
        for entity in try Support.fixture() {
            let ref = try Support.ref(of: entity)
            for variant in mutations(of: OceanInput.withIdentifier(entity, ref: ref)) { inputs.append(variant) }
        }
        inputs += extraInputs
        var tally = Tally()
        for source in try expressions() {
            let native = try XCTUnwrap(FastJQ(source), "not in the native subset: \(source)")
            let program = try JQProgram(source)
            for input in inputs { compare(source, input, program: program, native: native, tally: &tally) }
        }
        XCTAssertGreaterThan(tally.compared, 10_000)
        XCTAssertGreaterThan(tally.bailed, 100, "the odd inputs do reach libjq")
    }

    func testSubsetConstructsAgreeWithLibjq() throws {
        var inputs = extraInputs
        for entity in try Support.fixture().prefix(4) { inputs += mutations(of: entity) }
        var tally = Tally()
        for source in extraExpressions {
            let native = try XCTUnwrap(FastJQ(source), "not in the native subset: \(source)")
            let program = try JQProgram(source)
            for input in inputs { compare(source, input, program: program, native: native, tally: &tally) }
        }
        XCTAssertGreaterThan(tally.compared, 1_000)
    }

    func testOutsideTheSubsetIsLeftToLibjq() {
        let outside = [
            ".a?", ".[0]", #".["a"]"#, ".a[1:]", "..", "$ENV", "env", "{a: 1}", "{}", "[]", "1.5", "-1", "1e3", "1234567890123456", "01x", ".a > 1",
            ".a - 1", ".a * 2", ".a | length", "def f: .; f", "reduce .[] as $x (0; . + $x)", ".a as $x | $x",
            "try .a", "try .a catch 1", ".a |= 1", ".a // = 1", "if .a then 1 end", #""a\(.b)""#, #""a\nb""#,
            "@base64", "first(.a)", "limit(1; .a)", ".a == .b == .c", ".arr[] == 1", #"startswith(.arr[])"#,
            "import \"x\" as x; .", "a::b", ".if", "label $out | 1", ".a | ascii_downcase", "\"unterminated",
            ".a |", "(.a", "[.a", "if .a then .b else .c", ".a .", "..a",
        ]
        for source in outside {
            XCTAssertNil(FastJQ(source), source)
        }
    }

    /// (Object keys with NUL bytes are left out: `JQValue(JSONValue)` builds keys as C strings.)
    func testCanonicalWriterMatchesLibjqDump() throws {
        let samples: [JSONValue] = [
            "plain", "", "\u{0}", "a\u{0}b", "\u{7f}", "\u{1f}\u{1}", "\u{8}\u{c}\n\r\t", "\"\\/", "é漢字😀",
            "\u{2028}\u{2029}\u{85}", 0, 1, -1.5, 0.1, 1e300, 1e-300, 123_456_789_012_345_678, 3e20, -0.0,
            .number(.greatestFiniteMagnitude), .number(.infinity), .number(-.infinity), true, false, nil, [], [:],
            ["b": 1, "a": 2, "B": 3, "é": 4, "aa": 5, "": 6, "Z": ["y": [1, ["x": nil]], "x": "\u{1}"]],
            [["k": "v"], [], [[:]], "s", 2],
        ]
        for sample in samples {
            let value = JQValue(sample)
            var writer = JVConverter()
            writer.write(value.raw)
            let converted = JVConverter.convert(value.raw)
            XCTAssertEqual(writer.bytes, CanonicalJSON.bytes(sample), "\(sample)")
            XCTAssertEqual(writer.bytes, CanonicalJSON.bytes(converted), "\(sample)")
            if case .number(let number) = sample, number.isInfinite {
                continue  // libjq holds the infinity and prints it as DBL_MAX
            }
            XCTAssertEqual(converted, sample)
        }
        // Embedded NULs survive both ways (the NUL-bearing strings above).
        let entity = PortEntity(identifier: "x", blueprint: "b", body: ["k": "a\u{0}b"], relationTargets: [])
        XCTAssertEqual(entity.body, ["k": "a\u{0}b"])
        XCTAssertEqual(entity.canonicalText, #"{"k":"a\u0000b"}"#)
        let nan = JQValue(.number(.nan))
        var writer = JVConverter()
        writer.write(nan.raw)
        XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), "null")
    }

    func testCompileFailureMessages() {
        XCTAssertThrowsError(try JQProgram(".a |")) { error in
            let message = (error as? JQCompileFailure)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("syntax error"), message)
            XCTAssertFalse(message.contains("jq: error"), message)
        }
        XCTAssertThrowsError(try JQProgram("nosuchfunction(1)")) { error in
            let message = (error as? JQCompileFailure)?.message ?? ""
            XCTAssertTrue(message.contains("nosuchfunction/1 is not defined"), message)
        }
    }
}
