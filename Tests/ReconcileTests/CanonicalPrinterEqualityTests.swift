import CJQ
import FakeServers
import Fetch
import Foundation
@testable import Reconcile
import Store
import XCTest

/// mirrorctl prints canonical JSON with its own printer (`CanonicalJSON`), and its rule is
/// "exactly libjq 1.6's sorted dump". These tests prove the two byte-identical on every fixture
/// entity, every mapped fixture entity, every generated catalog entity and a randomized corpus:
/// if one fails, hashes would drift and every mirror would re-hash (and re-push) everything.
final class CanonicalPrinterEqualityTests: XCTestCase {
    /// libjq's sorted dump of a value: the reference.
    static func libjqDump(_ value: JQValue) -> [UInt8] {
        let dumped = JQReference(adopting: jv_dump_string(value.reference.copy().release(), Int32(JV_PRINT_SORTED.rawValue)))
        return dumped.withStringBytes { $0.map(Array.init) } ?? []
    }

    /// `value` is held for the whole comparison (a jv borrowed from a released `JQValue` is freed).
    private func assertSameAsLibjq(_ value: JQValue, _ label: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        let (ours, theirs) = withExtendedLifetime(value) {
            (CanonicalJSON.bytes(of: value.reference), CanonicalPrinterEqualityTests.libjqDump(value))
        }
        if ours != theirs {
            XCTFail("\(label()): ours \(String(decoding: ours.prefix(300), as: UTF8.self)) ≠ libjq \(String(decoding: theirs.prefix(300), as: UTF8.self))",
                    file: file, line: line)
        }
    }

    func testFixtureEntitiesAndTheirMappedBodies() throws {
        for text in CatalogFixture.entities {
            let value = try JQValue.parse(text)
            assertSameAsLibjq(value, text)
            let entity = try SnapshotEntity(item: value)
            assertSameAsLibjq(try JQValue.parse(entity.body.bytes), text)
        }
        for text in GoldenEntities.oceanDefault.values.sorted() + GoldenEntities.builtin.values.sorted() {
            assertSameAsLibjq(try JQValue.parse(text), text)
        }
        // The example catalog, as `--catalog-dir` reads it.
        let examples = try LocalCatalog(path: MappingTestSupport.repositoryRoot.appendingPathComponent("examples/catalog").path).load()
        XCTAssertGreaterThan(examples.count, 10)
        for entity in examples { assertSameAsLibjq(JQValue(entity), "\(entity["metadata"]?["name"] ?? JSONValue.null)") }
        // What both mappings make of the fixture: the bytes that are hashed, stored and sent.
        var mapped = 0
        for yaml in [BuiltinMapping.yaml, OceanDefaultMapping.yaml] {
            let mapping = try CompiledMapping(try PortAppConfig.parse(yaml: yaml, file: "mapping.yaml"))
            for text in CatalogFixture.entities {
                let entity = try JQValue.parse(text)
                guard let ref = EntityRef(entity: entity.toJSONValue()) else { continue }
                for result in mapping.map(entity, ref: ref) {
                    guard let port = result.entity else { continue }
                    let parsed = try JQValue.parse(port.canonical.bytes)
                    XCTAssertEqual(port.canonical.bytes, CanonicalPrinterEqualityTests.libjqDump(parsed),
                                   port.canonical.text)
                    mapped += 1
                }
            }
        }
        XCTAssertGreaterThan(mapped, 20)
    }

    func testEveryGeneratedCatalogEntity() throws {
        let catalog = FakeBackstage.generateCatalog(count: 10_000, seed: 1)
        XCTAssertEqual(catalog.count, 10_000)
        for entity in catalog {
            // As served (the fake's own text, parsed) and as stored (etag removed, keys sorted).
            let served = try JQValue.parse(FakeJSON.bytes(entity))
            assertSameAsLibjq(served, entity[path: ["metadata", "name"]]?.stringValue ?? "?")
            let stored = try SnapshotEntity(item: served)
            assertSameAsLibjq(try JQValue.parse(stored.body.bytes), "stored \(stored.ref)")
        }
    }

    func testNumbersAsLibjqPrintsThem() throws {
        // The edges of libjq 1.6's format, as it prints them (checked against `jq -cS`).
        let vectors: [(String, String)] = [
            ("1e1000", "1.7976931348623157e+308"), ("-1e1000", "-1.7976931348623157e+308"), ("1.0", "1"),
            ("-0", "-0"), ("-0.0", "-0"), ("1e-7", "1e-07"), ("100000000000000000000", "1e+20"), ("1e17", "1e+17"),
            ("1e16", "1e+16"), ("1e15", "1000000000000000"), ("123456789012345678", "123456789012345680"),
            ("12345678901234567890123", "12345678901234568000000"), ("0.0001", "0.0001"), ("0.00001", "1e-05"),
            ("3.14159", "3.14159"), ("5e-324", "5e-324"), ("0.1", "0.1"), ("-1.25e-10", "-1.25e-10"),
            ("1152921504606846976", "1152921504606847000"), ("1234567890123456789012345678901234567890", "1.2345678901234568e+39"),
            ("9007199254740993", "9007199254740992"), ("1e300", "1e+300"), ("0", "0"), ("123.456", "123.456"),
        ]
        for (input, expected) in vectors {
            let value = try JQValue.parse(input)
            XCTAssertEqual(String(decoding: value.canonicalBytes(), as: UTF8.self), expected, input)
            assertSameAsLibjq(value, input)
        }
        for special in [Double.nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.leastNormalMagnitude, 1e15 - 1, 1e15 + 1] {
            assertSameAsLibjq(JQValue(owning: JQReference(adopting: jv_number(special))), "\(special)")
        }
        // Random bit patterns (every exponent), random decimals and integers near the edges.
        var random = CorpusRandom(state: 7)
        for round in 0..<200_000 {
            let number: Double
            switch round % 4 {
            case 0: number = Double(bitPattern: random.next())
            case 1: number = Double(Int64(bitPattern: random.next()) >> Int64(random.next(64)))
            case 2: number = Double(random.next(2_000_000) - 1_000_000) / pow(10, Double(random.next(30)))
            default: number = Double(random.next(1_000_000)) * pow(10, Double(random.next(40)) - 20)
            }
            assertSameAsLibjq(JQValue(owning: JQReference(adopting: jv_number(number))), "\(number) (\(number.bitPattern))")
        }
    }

    func testStringsAsLibjqPrintsThem() throws {
        // Every ASCII byte, DEL, non-BMP characters (escaped or raw in the input), lone surrogates
        // (libjq replaces them), invalid UTF-8 (replaced when the jv is made), embedded NUL.
        var all = "\""
        for byte in 0..<128 { all += String(format: "\\u%04x", byte) }
        all += "\""
        let texts = [all, #""\u007f\u0000\u001f\ud83d\ude00é/\"\\\b\f\n\r\t""#, "\"😀 𝄞 \u{10FFFF} ä\"", #""\udc00x\udfff""#,
                     #"{"\u0000":"\u0001","a\"b":"\\"}"#]
        for text in texts { assertSameAsLibjq(try JQValue.parse(text), text) }
        let invalid: [UInt8] = [0x61, 0xFF, 0xC3, 0x28, 0xE2, 0x82, 0x22, 0x00, 0x7F, 0xF0, 0x9F, 0x98, 0x80]
        let raw = invalid.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { jv_string_sized($0, Int32(buffer.count)) }
        }
        assertSameAsLibjq(JQValue(owning: JQReference(adopting: raw)), "invalid UTF-8")
    }

    func testRandomizedCorpus() throws {
        var random = CorpusRandom(state: 2026)
        var deepest = 0
        for round in 0..<4_000 {
            var depth = 0
            let text = random.json(depth: 0, deepest: &depth, deep: round % 50 == 0)
            deepest = max(deepest, depth)
            let value: JQValue
            do { value = try JQValue.parse(Array(text.utf8)) } catch { XCTFail("corpus text is not JSON: \(error): \(text.prefix(200))"); continue }
            assertSameAsLibjq(value, text)
        }
        XCTAssertGreaterThanOrEqual(deepest, 100, "the corpus must nest deeply")
        // Built by jv calls rather than parsed: keys in any order, nesting past libjq's print depth.
        for levels in [255, 256, 257, 300] {
            var raw = jv_object_set(jv_object_set(jv_object(), jv_string("b"), jv_number(1)), jv_string("a"), jv_array())
            for level in 0..<levels { raw = level % 2 == 0 ? jv_array_append(jv_array(), raw) : jv_object_set(jv_object(), jv_string("k"), raw) }
            assertSameAsLibjq(JQValue(owning: JQReference(adopting: raw)), "\(levels) levels")
        }
    }
}

/// A deterministic generator of JSON texts for the equality corpus.
struct CorpusRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var mixed = state
        mixed ^= mixed >> 29
        mixed = mixed &* 0xbf58476d1ce4e5b9
        return mixed ^ (mixed >> 32)
    }

    mutating func next(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    static let keys = ["a", "ab", "b", "", "B", "a b", "é", "e", "ü", "\\u0000", "aa", "a\\n", "zz", "_", "10", "9",
                       "\\ud83d\\ude00", "😀", "\\u007f", "k\\\"q", "metadata", "spec", "\\t"]
    static let numbers = ["0", "-0", "1", "-1", "1.0", "1e1000", "-1e1000", "1e-7", "100000000000000000000", "1e17", "1e16",
                          "123456789012345678", "0.1", "0.30000000000000004", "2.5e-308", "4.9e-324", "1.7976931348623157e308",
                          "-12.5", "1E+2", "0.000001", "99999999999999999", "1e15", "1e-4", "1e-5"]

    mutating func string() -> String {
        var text = "\""
        for _ in 0..<next(12) {
            switch next(10) {
            case 0: text += String(format: "\\u%04x", next(0x20))
            case 1: text += ["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u007f", "\\u007F"][next(10)]
            case 2: text += String(format: "\\u%04x", 0x80 + next(0xD000))
            case 3: text += String(format: "\\u%04x\\u%04x", 0xD800 + next(0x400), 0xDC00 + next(0x400))
            case 4: text += ["é", "ß", "€", "😀", "𝄞", "中文", "\u{7F}"][next(7)]
            case 5: text += String(format: "\\u%04x", 0xDC00 + next(0x400))  // a lone low surrogate (libjq replaces it)
            default: text += String(UnicodeScalar(UInt8(0x20 + next(0x5F))))
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            }
        }
        return text + "\""
    }

    mutating func number() -> String {
        switch next(4) {
        case 0: return CorpusRandom.numbers[next(CorpusRandom.numbers.count)]
        case 1: return "\(Int64(bitPattern: next()) >> Int64(next(64)))"
        case 2: return "\(next(100_000) - 50_000).\(next(1_000_000))e\(next(40) - 20)"
        default:
            let double = Double(bitPattern: next())
            return double.isFinite ? "\(double)" : "1e400"
        }
    }

    /// `deep` makes a chain of 100–120 containers (libjq 1.6 parses 256 levels, an object counting
    /// twice); deeper values are built with jv calls.
    mutating func json(depth: Int, deepest: inout Int, deep: Bool) -> String {
        deepest = max(deepest, depth)
        if deep && depth < 100 + next(20) {
            return next(2) == 0 ? "[" + json(depth: depth + 1, deepest: &deepest, deep: deep) + "]"
                : "{\"d\":" + json(depth: depth + 1, deepest: &deepest, deep: deep) + "}"
        }
        switch depth > 5 ? next(5) : next(9) {
        case 0: return ["null", "true", "false"][next(3)]
        case 1, 2: return number()
        case 3, 4: return string()
        case 5: return ["[]", "{}", "[[]]", "{\"\":{}}", "[{}]"][next(5)]
        case 6, 7:
            let keys = (0..<next(7)).map { _ in next(3) == 0 ? String(string().dropFirst().dropLast()) : CorpusRandom.keys[next(CorpusRandom.keys.count)] }
            return "{" + keys.map { "\"\($0)\":" + json(depth: depth + 1, deepest: &deepest, deep: false) }.joined(separator: ",") + "}"
        default:
            return "[" + (0..<next(5)).map { _ in json(depth: depth + 1, deepest: &deepest, deep: false) }.joined(separator: ",") + "]"
        }
    }
}
