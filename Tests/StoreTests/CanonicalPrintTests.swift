import CJQ
import Foundation
import Store
import XCTest

/// `CanonicalJSON.bytes(of:)` skips the key sort when every object already holds its keys in
/// sorted order, and grows one buffer per value: both must give exactly the bytes of libjq's sorted
/// print, whatever the value. (The full equality proof is `CanonicalPrinterEqualityTests`.)
final class CanonicalPrintTests: XCTestCase {
    /// libjq's sorted print through a jv string: the reference the fast path must equal.
    func reference(_ value: JQValue) -> [UInt8] {
        let dumped = JQReference(adopting: jv_dump_string(value.reference.copy().release(), Int32(JV_PRINT_SORTED.rawValue)))
        return dumped.withStringBytes { $0.map(Array.init) } ?? []
    }

    /// A deterministic generator of JSON texts whose objects list keys in shuffled or sorted order.
    struct Texts {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        // Keys that sort differently bytewise than by length or by characters: prefixes, empty,
        // non-ASCII, escapes.
        static let keys = ["a", "ab", "b", "", "B", "a b", "é", "e", "ü", "\\u0000", "aa", "a\\n", "zz", "_", "10", "9"]

        mutating func value(depth: Int, sorted: Bool) -> String {
            switch depth > 3 ? next(4) : next(7) {
            case 0: return "\(next(1000) - 500)"
            case 1: return ["null", "true", "false", "1.5", "1e300", "-0.25"][next(6)]
            case 2: return "\"v\(next(50))\\t\""
            case 3: return "[]"
            case 4, 5:
                var keys = Array(Set((0..<next(6)).map { _ in Texts.keys[next(Texts.keys.count)] }))
                if sorted { keys.sort { Array($0.utf8) .lexicographicallyPrecedes(Array($1.utf8)) } } else { keys.shuffle(using: &self) }
                return "{" + keys.map { "\"\($0)\":\(value(depth: depth + 1, sorted: sorted))" }.joined(separator: ",") + "}"
            default:
                return "[" + (0..<next(4)).map { _ in value(depth: depth + 1, sorted: sorted) }.joined(separator: ",") + "]"
            }
        }
    }

    func testEqualsLibjqsSortedPrintForSortedAndShuffledValues() throws {
        var texts = Texts(state: 42)
        var sortedFastPath = 0
        for round in 0..<3_000 {
            let text = texts.value(depth: 0, sorted: round % 2 == 0)
            let value = try JQValue.parse(text)
            XCTAssertEqual(CanonicalJSON.bytes(of: value.reference), reference(value), text)
            if round % 2 == 0, text.contains("{\"") { sortedFastPath += 1 }
        }
        XCTAssertGreaterThan(sortedFastPath, 100, "the generator must produce sorted objects")
    }

    func testKeyOrderIsBytewiseWithShorterKeysFirst() throws {
        // Bytewise: "B" < "a" < "a b" < "aa" < "ab" < "b" < "é"; a prefix sorts first.
        for text in [#"{"a":1,"B":2}"#, #"{"ab":1,"a":2}"#, #"{"é":1,"e":2,"z":3}"#, #"{"a":{"y":1,"x":2}}"#,
                     #"[{"b":1,"a":2}]"#, #"{"":1,"a":{"c":[{"b":1,"a":2}]}}"#] {
            let value = try JQValue.parse(text)
            XCTAssertEqual(CanonicalJSON.bytes(of: value.reference), reference(value), text)
        }
    }

    func testDeepValuesArePrintedAsLibjqPrintsThem() throws {
        // Deeper than libjq parses (256), as a mapping's jq program can build it.
        var nested = try JQValue.parse(#"{"a":2,"b":1}"#).reference.copy()
        for _ in 0..<300 {
            var array = JQReference.array()
            array.append(nested)
            nested = array
        }
        let value = JQValue(owning: nested)
        XCTAssertEqual(CanonicalJSON.bytes(of: value.reference), reference(value))
        XCTAssertTrue(String(decoding: CanonicalJSON.bytes(of: value.reference), as: UTF8.self).hasPrefix("[[[["))
    }

    /// A short value after a long one, or after one far larger than the first buffer, carries
    /// nothing of the earlier one.
    func testNothingCarriesOverBetweenValues() throws {
        let long = try JQValue.parse("[" + (0..<2_000).map { "\"item-\($0)\"" }.joined(separator: ",") + "]")
        let huge = try JQValue.parse("\"" + String(repeating: "x", count: 1_500_000) + "\"")
        let short = try JQValue.parse(#"{"b":[1],"a":null}"#)
        XCTAssertEqual(CanonicalJSON.bytes(of: long.reference), reference(long))
        XCTAssertEqual(String(decoding: CanonicalJSON.bytes(of: short.reference), as: UTF8.self), #"{"a":null,"b":[1]}"#)
        XCTAssertEqual(CanonicalJSON.bytes(of: huge.reference).count, 1_500_002)
        XCTAssertEqual(String(decoding: CanonicalJSON.bytes(of: short.reference), as: UTF8.self), #"{"a":null,"b":[1]}"#)
        XCTAssertEqual(try JQValue.parse("[]").canonicalBytes(), Array("[]".utf8))
    }

    /// Threads print independently.
    func testThreadsPrintIndependently() throws {
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for round in 0..<500 {
                let text = #"{"t":\#(thread),"r":\#(round),"pad":"\#(String(repeating: "p", count: round % 97))"}"#
                guard let value = try? JQValue.parse(text) else { return failures.add("parse \(text)") }
                let expected = #"{"pad":"\#(String(repeating: "p", count: round % 97))","r":\#(round),"t":\#(thread)}"#
                let printed = String(decoding: CanonicalJSON.bytes(of: value.reference), as: UTF8.self)
                if printed != expected { failures.add("\(printed) != \(expected)") }
            }
        }
        XCTAssertEqual(failures.all, [])
    }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

extension CanonicalPrintTests.Texts: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state
    }
}
