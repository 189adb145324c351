import CJQ
import Glibc

/// Prints a jv in canonical form (`CanonicalJSON`) into a growing buffer: the rules of libjq 1.6's
/// `jv_dump_term` with `JV_PRINT_SORTED` and no other flag, written out once here.
///
/// - Objects: members in `jv_keys` order (bytewise, the shorter key first on a tie).
/// - Strings: `"` and `\` escaped with a backslash; `\b \t \n \f \r` by name; every other byte
///   below 0x20 and 0x7F as `\u00xx` (lower-case hex); everything else as is (a jv string is
///   always valid UTF-8, so non-ASCII characters are copied whole).
/// - Numbers: `NumberText`.
/// - Nesting deeper than libjq's `MAX_PRINT_DEPTH` (256) prints `<stripped: exceeds max depth>`, as libjq
///   does (only a jq program can build such a value; the parser stops at 256).
struct CanonicalPrinter {
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0

    static let maximumDepth = 256

    init(capacity: Int = 4_096) {
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
    }

    /// The bytes printed; the printer must not be used afterwards.
    mutating func finish() -> [UInt8] {
        defer { buffer.deallocate() }
        return Array(UnsafeBufferPointer(start: buffer, count: count))
    }

    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var grown = capacity * 2
        while grown < count + extra { grown *= 2 }
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        larger.update(from: buffer, count: count)
        buffer.deallocate()
        buffer = larger
        capacity = grown
    }

    private mutating func append(_ byte: UInt8) {
        reserve(1)
        buffer[count] = byte
        count += 1
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (buffer + count).update(from: base, count: bytes.count)
        count += bytes.count
    }

    private mutating func append(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Prints a value at nesting `depth`.
    mutating func print(_ value: borrowing JQReference, depth: Int) {
        guard depth <= CanonicalPrinter.maximumDepth else { return append("<stripped: exceeds max depth>") }
        switch value.kind {
        case JV_KIND_NULL: append("null")
        case JV_KIND_TRUE: append("true")
        case JV_KIND_FALSE: append("false")
        case JV_KIND_NUMBER: printNumber(value.number)
        case JV_KIND_STRING: printString(value)
        case JV_KIND_ARRAY:
            append(UInt8(ascii: "["))
            let length = value.count
            var index = 0
            while index < length {
                if index > 0 { append(UInt8(ascii: ",")) }
                print(value.element(index), depth: depth + 1)
                index += 1
            }
            append(UInt8(ascii: "]"))
        case JV_KIND_OBJECT:
            printObject(value, depth: depth)
        default:
            // An invalid value has no JSON form; libjq's dump asserts. Never canonical input.
            append("null")
        }
    }

    private mutating func printObject(_ object: borrowing JQReference, depth: Int) {
        // Members are printed in insertion order while their keys are seen to be in canonical
        // order, which they nearly always are (bodies stored canonical, pages of a server that
        // sorts, mapped bodies assembled in key order): one pass, nothing collected. A key out of
        // order takes back what was printed of this object and prints it sorted instead.
        let start = count
        append(UInt8(ascii: "{"))
        // The previous key's bytes: they belong to the object, which outlives this loop unchanged.
        var previous: UnsafeBufferPointer<UInt8>?
        var inOrder = true
        object.forEachMember { key, value in
            let keyInOrder = key.withStringBytes { bytes -> Bool in
                let bytes = bytes ?? UnsafeBufferPointer(start: nil, count: 0)
                if let previous, JQReferenceList.keyOrder(previous, bytes) >= 0 { return false }
                if previous != nil { append(UInt8(ascii: ",")) }
                previous = bytes
                printString(bytes)
                return true
            }
            guard keyInOrder else {
                inOrder = false
                return false
            }
            append(UInt8(ascii: ":"))
            print(value, depth: depth + 1)
            return true
        }
        if inOrder { return append(UInt8(ascii: "}")) }
        count = start
        printSortedObject(object, depth: depth)
    }

    /// An object whose members were not inserted in key order: its members sorted first.
    private mutating func printSortedObject(_ object: borrowing JQReference, depth: Int) {
        let members = object.members()  // key of member i at 2i, its value at 2i + 1
        let count = members.count / 2
        let order = (0..<count).sorted { members.keyOrder(2 * $0, 2 * $1) < 0 }
        append(UInt8(ascii: "{"))
        for (position, member) in order.enumerated() {
            if position > 0 { append(UInt8(ascii: ",")) }
            members.withElement(2 * member) { printString($0) }
            append(UInt8(ascii: ":"))
            members.withElement(2 * member + 1) { print($0, depth: depth + 1) }
        }
        append(UInt8(ascii: "}"))
    }

    private mutating func printString(_ string: borrowing JQReference) {
        string.withStringBytes { bytes in printString(bytes ?? UnsafeBufferPointer(start: nil, count: 0)) }
    }

    private mutating func printString(_ bytes: UnsafeBufferPointer<UInt8>) {
        append(UInt8(ascii: "\""))
        if let start = bytes.baseAddress, !bytes.isEmpty {
            // Copy runs of plain bytes at once; escape the rest one by one.
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F else { continue }
                append(UnsafeBufferPointer(start: start + runStart, count: index - runStart))
                runStart = index + 1
                appendEscaped(byte)
            }
            append(UnsafeBufferPointer(start: start + runStart, count: bytes.count - runStart))
        }
        append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case 0x22: append("\\\"")
        case 0x5C: append("\\\\")
        case 0x08: append("\\b")
        case 0x09: append("\\t")
        case 0x0A: append("\\n")
        case 0x0C: append("\\f")
        case 0x0D: append("\\r")
        default:
            let hex: StaticString = "0123456789abcdef"
            append("\\u00")
            append(hex.utf8Start[Int(byte >> 4)])
            append(hex.utf8Start[Int(byte & 0xF)])
        }
    }

    private mutating func printNumber(_ number: Double) {
        let text = NumberText(number)
        text.withBytes { append($0) }
    }
}

/// A double as libjq 1.6 prints it (`jvp_dtoa_fmt`): NaN as `null`; ±infinity as ±DBL_MAX; the
/// shortest digits that read back as the same double; plain notation (`100`, `0.001`,
/// `123456789012345680`) unless the decimal exponent is below -4 or the number has more than 15
/// zeros past its digits, then `d.ddde±XX` with at least two exponent digits (`1e-05`,
/// `1e+17`, `1.5e+300`). Negative zero keeps its sign (`-0`).
struct NumberText {
    private var storage: [UInt8] = []

    init(_ value: Double) {
        guard !value.isNaN else { storage = Array("null".utf8); return }
        let number = min(max(value, -Double.greatestFiniteMagnitude), Double.greatestFiniteMagnitude)
        if number.sign == .minus { storage.append(UInt8(ascii: "-")) }
        let magnitude = number.magnitude
        // Integers below 10^15 are their own shortest digits, printed plain: skip the general path.
        if magnitude < 1e15, magnitude == magnitude.rounded(.towardZero) {
            storage.append(contentsOf: String(UInt64(magnitude)).utf8)
            return
        }
        let (digits, decimalPoint) = NumberText.shortestDigits(magnitude)
        NumberText.format(digits: digits, decimalPoint: decimalPoint, into: &storage)
    }

    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        storage.withUnsafeBufferPointer(body)
    }

    /// The shortest round-trip digits of a positive finite double (no leading or trailing zero),
    /// and where the decimal point goes (value = 0.digits × 10^decimalPoint), as dtoa mode 0.
    /// Swift's `description` is also the shortest round-trip form, closest to the value.
    static func shortestDigits(_ magnitude: Double) -> (digits: [UInt8], decimalPoint: Int) {
        guard magnitude != 0 else { return ([UInt8(ascii: "0")], 1) }
        let text = Array(magnitude.description.utf8)
        var mantissa = text[...]
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = text[..<e]
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
        }
        var digits: [UInt8] = []
        var integerDigits = 0
        var seenPoint = false
        for byte in mantissa {
            if byte == UInt8(ascii: ".") { seenPoint = true; continue }
            digits.append(byte)
            if !seenPoint { integerDigits += 1 }
        }
        var decimalPoint = integerDigits + exponent
        var leading = 0
        while leading < digits.count - 1, digits[leading] == UInt8(ascii: "0") { leading += 1; decimalPoint -= 1 }
        var end = digits.count
        while end > leading + 1, digits[end - 1] == UInt8(ascii: "0") { end -= 1 }
        return (Array(digits[leading..<end]), decimalPoint)
    }

    static func format(digits: [UInt8], decimalPoint: Int, into out: inout [UInt8]) {
        if decimalPoint <= -4 || decimalPoint > digits.count + 15 {
            out.append(digits[0])
            if digits.count > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            let exponent = decimalPoint - 1
            out.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            let magnitude = String(exponent.magnitude)
            if magnitude.utf8.count < 2 { out.append(UInt8(ascii: "0")) }
            out.append(contentsOf: magnitude.utf8)
        } else if decimalPoint <= 0 {
            out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -decimalPoint))
            out.append(contentsOf: digits)
        } else if decimalPoint >= digits.count {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: decimalPoint - digits.count))
        } else {
            out.append(contentsOf: digits[..<decimalPoint])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[decimalPoint...])
        }
    }
}
