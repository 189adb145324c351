import CJQ
import Foundation
@testable import Reconcile
import Store
import XCTest

/// The combined program (`MappingProgram`) must give every field exactly what libjq gives for
/// the expression on its own, run as Ocean runs it: `jq_start`, then one `jq_next`.
final class MappingProgramTests: XCTestCase {
    private typealias Support = MappingTestSupport

    /// Expressions beyond the built-in mappings: odd constructs, errors before and after the first
    /// output, `try`/`?`/`label` inside the expression, comments, definitions and bindings.
    private let extraExpressions = [
        ".", ".a", #"."weird key""#, ".a.b.c", ".arr[]", ".arr[]?", ".obj[]", ".obj[]?", ".s[]?", ".a?", ".[0]?",
        #".a // .b // "c""#, ".n // .f // .a", ".a and .b", ".f or .n", ".a == .b", #""p" + .a"#, ".a + .b",
        ".arr + .arr", ".obj + .obj", ".num + 1", "[.a, .b]", "(.a, .b)", ".a | tostring", ".obj | tojson",
        #"if .a then .b elif .c then "c" else empty end"#, #"if .arr[] then "t" else "f" end"#, "select(.a)",
        #".a | startswith("x")"#, "[.arr[] | tostring]", "true", "false", "null", "empty", "[.arr[]?.k]",
        ".arr[] | .k", ".a // empty", "empty // .a", #"(.arr[] | select(. == "x")) // null"#, ".s + .n",
        ".s # trailing comment", ".a # comment\n // .b", "# leading comment\n.s", "0", "-1.5",
        "123456789012345678", "def f: .; f", "def f(g): [g, g]; f(.a)", ". as $x | $x.a", ". as {a: $v} | $v",
        ". as [$x] | $x", "reduce .arr[]? as $i (0; . + 1)", "foreach (.arr[]?) as $i (0; . + 1)",
        #""a" + "b""#, #""x\(.a)y""#, #"@base64 "v=\(.s)""#, "@csv", "@sh", "@json", "$ENV | type", "env | type",
        "input", "[inputs]", "debug | .a", "[.arr[]? | debug]", "error", "error(null)", "error(null), .a",
        #"error("boom")"#, "error({code: 1})", #".a, error("late")"#, #"(.arr[] | .?), error("late")"#,
        #".arr[] | (try . catch error("handler ran"))"#, #"try error("x") catch ."#, #"try .a catch "d""#,
        #"(.arr[] | tostring), error("late")"#, "first(.arr[]?)", "[first(.arr[]? | .?)]", "limit(2; .arr[]?)",
        "[limit(2; .arr[]?)]", "label $out | .arr[]? | ., break $out", ".arr | length", ".obj | keys", "keys",
        #"has("a")"#, "to_entries | map(.key)", "[paths] | length", "[..] | length", "[.. | numbers]",
        "del(.a) | keys", "with_entries(.value |= type)", "walk(.) | keys", #"getpath(["obj", "k"])"#,
        #".s | test("^he")"#, #".s | sub("l"; "L")"#, #".s | split("l")"#, #".s | ltrimstr("he")"#,
        #"[.arr[]? | tostring] | join(",")"#, ".s | ascii_upcase", ".s | explode | implode", "tonumber",
        ".num | floor", ".arr | sort", ".arr | unique", "[.arr[]?] | min", ".arr | add", "now | type",
        "[range(3)]", "range(3)", "[limit(3; repeat(1))]", "until(. == 3; . + 1)", "input_line_number",
        "get_search_list", #"splits("l")"#, ".arr | .[1:]", ".a[1:]", ".s[1:3]",
    ]

    private let extraInputs: [JSONValue] = [
        ["a": "x", "b": "y", "c": nil, "arr": [1, "x", nil, false], "obj": ["k": 1, "j": "v"], "s": "hello",
         "n": nil, "f": false, "num": 2.5, "weird key": 1],
        ["a": 1, "b": 1, "arr": [], "obj": [:], "s": "", "num": 0],
        ["a": ["b": ["c": true]], "arr": [["k": "v"], ["k": nil]], "obj": "not an object", "s": 5],
        ["a": [1], "b": ["x": 1], "arr": "text", "obj": 3, "num": "2"],
        ["arr": [3, 1, 2, 1], "s": "a,b"],
        [:],
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
        var texts = extraExpressions
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
        var seen = Set<String>()
        return texts.filter { seen.insert($0).inserted }
    }

    /// The mapping inputs: every fixture entity and its odd variants, and the extra inputs, each
    /// also as the jv the mapping evaluates (with `metadata.identifier`; the same jv, since
    /// `keys_unsorted`, `to_entries` and `tojson` show the order in which keys were inserted).
    private func inputs() throws -> [(entity: JQValue, prepared: JQValue)] {
        var entities: [JSONValue] = []
        for entity in try Support.fixture() { entities += mutations(of: entity) }
        entities += extraInputs
        return try entities.map { entity in
            let value = JQValue(entity)
            guard let prepared = OceanInput.prepare(value.reference, ref: ref) else { throw NotAnObject(entity: entity) }
            return (value, JQValue(owning: prepared))
        }
    }

    private let ref = EntityRef(kind: "Component", namespace: "default", name: "svc")

    /// An input that `OceanInput.prepare` refused: every mapping input here is an object.
    private struct NotAnObject: Error {
        let entity: JSONValue
    }

    /// One resource whose properties `p0`, `p1`, … are `expressions`.
    private func mapping(_ expressions: [String], selector: String = "true") throws -> CompiledMapping {
        let properties = expressions.enumerated().map { NamedExpression("p\($0.offset)", MappingExpression($0.element)) }
        let mappings = EntityMappings(identifier: MappingExpression(#""x""#), blueprint: MappingExpression(#""b""#),
                                      properties: properties)
        let resource = ResourceMapping(kind: "component", selectorQuery: MappingExpression(selector), mappings: mappings)
        return try CompiledMapping(try PortAppConfig(resources: [resource]))
    }

    /// What Ocean gets: the expression compiled alone (after the quote rewrite), `jq_start`, one `jq_next`.
    private enum Alone: Equatable {
        case value(String)
        case none
        case error(String)
    }

    private func alone(_ program: JQProgram, _ input: JQValue) -> Alone {
        program.start(consuming: input.reference.copy())
        let output = program.next()
        if output.kind != JV_KIND_INVALID { return .value(CanonicalJSON.string(output.toJSONValue())) }
        guard output.hasInvalidMessage else { return .none }
        return .error(JQErrorText.message(ofInvalid: output))
    }

    /// What the combined program made of each property, by index.
    private func combined(_ result: MappingResult, count: Int) -> [Alone] {
        let properties = result.entity?.body["properties"]
        let warnings = Dictionary(result.warnings.map { ($0.field, $0.problem) }, uniquingKeysWith: { first, _ in first })
        return (0..<count).map { index in
            switch warnings["properties.p\(index)"] {
            case .noOutput: return .none
            case .error(let message): return .error(message)
            case nil: return .value(CanonicalJSON.string(properties?["p\(index)"] ?? .null))
            }
        }
    }

    func testEveryFieldAgreesWithTheExpressionRunAlone() throws {
        let texts = try expressions()
        let compiled = try mapping(texts)
        let programs = try texts.map { try JQProgram(OceanQuotes.rewrite($0)) }
        var compared = 0
        var outcomes: [String: Int] = [:]
        for (entity, prepared) in try inputs() {
            let results = compiled.map(entity, ref: ref)
            XCTAssertEqual(results.count, 1)
            let result = try XCTUnwrap(results.first)
            XCTAssertNotNil(result.entity, "\(result.outcome)")
            let got = combined(result, count: texts.count)
            for (index, text) in texts.enumerated() {
                let expected = alone(programs[index], prepared)
                XCTAssertEqual(got[index], expected, "\(text) on \(CanonicalJSON.string(prepared.toJSONValue()).prefix(300))")
                compared += 1
                switch expected {
                case .value: outcomes["value", default: 0] += 1
                case .none: outcomes["none", default: 0] += 1
                case .error: outcomes["error", default: 0] += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 50_000)
        XCTAssertGreaterThan(outcomes["none"] ?? 0, 1_000, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["error"] ?? 0, 1_000, "\(outcomes)")
    }

    /// The selector too: its first output decides, and must be a boolean.
    func testSelectorAgreesWithTheExpressionRunAlone() throws {
        let selectors = [
            "true", "false", ".f", ".a", "empty", ".arr[]", "(.arr[] | . == 1)", #".a == "x""#, ".n == null",
            ".x.y", ".s[]", "(.f, true)", #"(true, error("late"))"#, #"error("early"), true"#, "[true]",
            "(.arr[]? | select(. == false)) == false", "input", "debug | true", "# comment\ntrue",
        ]
        let inputs = try inputs()
        for selector in selectors {
            let compiled = try mapping([".a"], selector: selector)
            let program = try JQProgram(OceanQuotes.rewrite(selector))
            for (entity, prepared) in inputs {
                let result = try XCTUnwrap(compiled.map(entity, ref: ref).first)
                let context = "\(selector) on \(CanonicalJSON.string(prepared.toJSONValue()).prefix(200))"
                switch alone(program, prepared) {
                case .value("true"):
                    XCTAssertNotNil(result.entity, context)
                case .value("false"):
                    guard case .filtered = result.outcome else { return XCTFail("\(result.outcome): \(context)") }
                case .value:
                    guard case .selectorError(let message) = result.outcome, message.contains("must yield a boolean, got")
                    else { return XCTFail("\(result.outcome): \(context)") }
                case .none:
                    guard case .selectorError(let message) = result.outcome, message.hasSuffix("got no output")
                    else { return XCTFail("\(result.outcome): \(context)") }
                case .error(let expected):
                    guard case .selectorError(let message) = result.outcome, message.hasSuffix("failed: \(expected)")
                    else { return XCTFail("\(result.outcome): \(context)") }
                }
            }
        }
    }

    /// An error after the first output does not matter, as in Ocean: the first output is kept.
    func testAnErrorAfterTheFirstOutputKeepsTheFirstOutput() throws {
        let compiled = try mapping([#".arr[], error("late")"#, #"(.arr[] | .?), error("late")"#,
                                    #".arr[] | if . == 2 then error("at 2") else . end"#, #"error("early"), .arr[]"#])
        let result = try XCTUnwrap(compiled.map(["arr": [1, 2, 3]], ref: ref).first)
        XCTAssertEqual(result.entity?.body["properties"], ["p0": 1, "p1": 1, "p2": 1, "p3": nil])
        XCTAssertEqual(result.warnings.map(\.message), ["early"])
    }

    /// The differences from running each expression alone: `$__loc__` counts lines of the combined
    /// program, and `halt` ends the whole program (the resource fails, naming the expression). An
    /// expression that keeps generating after its first output is evaluated to its end (see
    /// HostileMappingTests).
    func testDocumentedDifferences() throws {
        let location = try XCTUnwrap(try mapping([".a", "$__loc__"]).map(["a": 1], ref: ref).first?.entity)
        let line = try XCTUnwrap(location.body[path: ["properties", "p1", "line"]]?.numberValue)
        XCTAssertGreaterThan(line, 1, "alone, $__loc__ is on line 1")

        for expression in ["halt", #""bye" | halt_error"#, ".a, halt"] {
            let result = try XCTUnwrap(try mapping([".a", expression]).map(["a": 1], ref: ref).first)
            guard case .selectorError(let message) = result.outcome else { return XCTFail("\(result.outcome)") }
            XCTAssertEqual(message, "properties.p1 `\(expression)` called halt or halt_error, which ends the mapping's whole jq program")
        }
    }

    /// A stray `)`, `]`, `;` or quote can't join an expression to the program around it: the
    /// program does not compile, and the error names the expression.
    func testCompileErrorsNameTheExpression() throws {
        let cases: [(expression: String, fragment: String)] = [
            (".a) , (.b", "syntax error"),
            (".a; .b", "syntax error"),
            (".a]", "syntax error"),
            ("\"unterminated", "syntax error"),
            ("(.a", "syntax error"),
            ("$undefined", "$undefined is not defined"),
            ("# only a comment", "compiles on its own but not as part of mirrorctl's mapping program"),
            ("def f: 1;", "compiles on its own but not as part of mirrorctl's mapping program"),
        ]
        for (expression, fragment) in cases {
            XCTAssertThrowsError(try mapping([".a", "'fine'", expression, ".b"]), expression) { error in
                guard case MappingError.compile(0, "properties.p2", expression, let message, _) = error else {
                    return XCTFail("\(expression): \(error)")
                }
                XCTAssertTrue(message.contains(fragment), "\(expression): \(message)")
            }
        }
    }

    /// A mapping compiled once in the process is not compiled again by `init` (worker threads make
    /// their own instances), but compiles when it first maps; a copy does the same.
    func testInstancesForOtherThreadsCompileOnFirstUse() throws {
        let config = try Support.config(BuiltinMapping.yaml)
        let started = MappingPerformanceTests.threadCPUSeconds()
        _ = try JQProgram(MappingPlan(config).source)
        let compile = MappingPerformanceTests.threadCPUSeconds() - started
        let first = try CompiledMapping(config)
        let again = MappingPerformanceTests.threadCPUSeconds()
        let second = try CompiledMapping(config)
        let copy = first.copy()
        let made = MappingPerformanceTests.threadCPUSeconds() - again
        print(String(format: "built-in mapping: one compile %.1f ms of CPU; another instance and a copy %.2f ms",
                     compile * 1000, made * 1000))
        let entity = try XCTUnwrap(try Support.fixture().first)
        let ref = try Support.ref(of: entity)
        let expected = first.map(entity, ref: ref).compactMap(\.entity)
        XCTAssertFalse(expected.isEmpty)
        XCTAssertEqual(second.map(entity, ref: ref).compactMap(\.entity), expected)
        XCTAssertEqual(copy.map(entity, ref: ref).compactMap(\.entity), expected)
    }

    /// A walk hands its own parse to the mapping (`prepare(taking:)` edits it in place): the input
    /// must be the one a borrowed entity gives, members in the same order (`keys_unsorted` and
    /// `tojson` show it), also for a missing or non-object `metadata`; and a value someone else
    /// still holds must be left as it was.
    func testAHandedOverEntityGivesTheSameInputAsABorrowedOne() throws {
        var entities: [JSONValue] = []
        for entity in try Support.fixture() { entities += mutations(of: entity) }
        entities += extraInputs
        entities.append(["kind": "Component", "spec": ["a": 1]])
        for entity in entities {
            let borrowed = JQValue(entity)
            let text = try XCTUnwrap(borrowed.reference.compactText)
            guard let expected = OceanInput.prepare(borrowed.reference, ref: ref) else { throw NotAnObject(entity: entity) }
            XCTAssertEqual(borrowed.reference.compactText, text, "a borrowed entity is not changed")
            // Parsed from its text: the parse is the only holder, as a walk's is.
            let own = try JQValue.parse(text)
            guard let handedOver = OceanInput.prepare(taking: own.take(), ref: ref) else { throw NotAnObject(entity: entity) }
            XCTAssertEqual(handedOver.compactText, expected.compactText)
            XCTAssertEqual(own.kind, JV_KIND_NULL, "a value handed over is no longer held")
            let shared = try JQValue.parse(text)
            guard let fromShared = OceanInput.prepare(taking: shared.reference.copy(), ref: ref) else { throw NotAnObject(entity: entity) }
            XCTAssertEqual(fromShared.compactText, expected.compactText)
            XCTAssertEqual(shared.reference.compactText, text, "another holder's value is not changed")
        }
    }

    /// jv ↔ JSONValue keeps every value and byte, so what the mapping reads back equals what it sent.
    func testJSONConversionKeepsEveryByte() throws {
        let samples: [JSONValue] = [
            "plain", "", "\u{0}", "a\u{0}b", "\u{7f}", "\u{1f}\u{1}", "\u{8}\u{c}\n\r\t", "\"\\/", "é漢字😀",
            "\u{2028}\u{2029}\u{85}", 0, 1, -1.5, 0.1, 1e300, 1e-300, 3e20, true, false, nil, [], [:],
            ["b": 1, "a": 2, "B": 3, "é": 4, "aa": 5, "": 6, "k\u{0}": 7, "Z": ["y": [1, ["x": nil]], "x": "\u{1}"]],
            [["k": "v"], [], [[:]], "s", 2],
        ]
        for sample in samples {
            let value = JQValue(sample)
            let converted = value.reference.toJSONValue()
            XCTAssertEqual(converted, sample)
            XCTAssertEqual(CanonicalJSON.bytes(converted), value.canonicalBytes(), "\(sample)")
        }
        // Embedded NULs survive both ways in a mapped entity's body.
        let entity = PortEntity(identifier: "x", blueprint: "b", body: ["k": "a\u{0}b"], relationTargets: [])
        XCTAssertEqual(entity.body, ["k": "a\u{0}b"])
        XCTAssertEqual(entity.canonical.text, #"{"k":"a\u0000b"}"#)
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
