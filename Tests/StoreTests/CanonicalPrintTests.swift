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

    /// Values from empty to far past the printer's first buffer (4 KiB) and its doublings: a
    /// top-level array of `size` generated members each, shuffled and sorted objects alike.
    static func sizedTexts() -> [String] {
        var texts = Texts(state: 7)
        return [0, 1, 2, 5, 20, 60, 200, 700, 2_500].map { size in
            "[" + (0..<size).map { member in texts.value(depth: 1, sorted: member % 2 == 0) }.joined(separator: ",") + "]"
        } + [#"{"b":[1],"a":null}"#, "\"" + String(repeating: "x", count: 1_500_000) + "\""]
    }

    /// Whatever the order (growing, shrinking, alternating small and large), each value prints as
    /// libjq prints it, with nothing of an earlier, longer value left at its end; and bytes already
    /// returned stay as they were after later values are printed (they share no buffer).
    func testNothingCarriesOverBetweenValues() throws {
        let values = try CanonicalPrintTests.sizedTexts().map { try JQValue.parse($0) }
        let expected = values.map(reference)
        XCTAssertGreaterThan(expected.map(\.count).max() ?? 0, 1_000_000)
        XCTAssertLessThan(expected.map(\.count).min() ?? 0, 8)
        let ascending = Array(values.indices).sorted { expected[$0].count < expected[$1].count }
        let alternating = zip(ascending, ascending.reversed()).flatMap { [$0, $1] }
        var returned: [(index: Int, bytes: [UInt8])] = []
        for index in ascending + ascending.reversed() + alternating {
            let printed = CanonicalJSON.bytes(of: values[index].reference)
            if printed != expected[index] {
                XCTFail("value \(index) after \(returned.last.map { "value \($0.index)" } ?? "nothing"): \(printed.count) bytes, libjq \(expected[index].count): \(String(decoding: printed.prefix(120), as: UTF8.self))")
            }
            returned.append((index, printed))
        }
        XCTAssertTrue(returned.allSatisfy { $0.bytes == expected[$0.index] }, "bytes returned earlier changed later")
        XCTAssertEqual(try JQValue.parse("[]").canonicalBytes(), Array("[]".utf8))
    }

    /// Threads print independently: eight threads print the values above at once, each starting at
    /// a different one (so different sizes are printed at the same moment) and each parsing its own
    /// copies (jv reference counts are not atomic), and every result equals the single-threaded one.
    func testThreadsPrintIndependently() throws {
        let texts = CanonicalPrintTests.sizedTexts()
        let expected = try texts.map { try JQValue.parse($0) }.map { CanonicalJSON.bytes(of: $0.reference) }
        XCTAssertEqual(try texts.map { try reference(JQValue.parse($0)) }, expected, "single-threaded, as libjq prints")
        let failures = Failures()
        let threads = 8
        let finished = DispatchGroup()
        for thread in 0..<threads {
            finished.enter()
            Thread {
                defer { finished.leave() }
                for round in 0..<2 {
                    for step in texts.indices {
                        let index = (thread + step * (round + 1)) % texts.count
                        guard let value = try? JQValue.parse(texts[index]) else { return failures.add("parse \(index)") }
                        let printed = CanonicalJSON.bytes(of: value.reference)
                        if printed != expected[index] {
                            failures.add("thread \(thread) value \(index): \(printed.count) bytes, expected \(expected[index].count)")
                        }
                    }
                }
            }.start()
        }
        XCTAssertEqual(finished.wait(timeout: .now() + 300), .success)
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
