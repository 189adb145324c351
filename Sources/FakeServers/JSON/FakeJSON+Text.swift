import Foundation

/// JSON text as the fakes write and read it. Writing is compact with keys sorted by their UTF-8
/// bytes (so a served entity and its etag are deterministic) and numbers as JavaScript prints
/// them (`JSON.stringify`), Backstage being a Node service; it is hand-rolled because the fake
/// Backstage serializes 100k entities at startup. Reading goes through Foundation's `JSONDecoder`.
extension FakeJSON {
    /// The compact text of `value` as UTF-8.
    public static func bytes(_ value: FakeJSON) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2048)
        write(value, to: &out)
        return out
    }

    /// The compact text of `value`.
    public static func string(_ value: FakeJSON) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// Parses JSON text (a top-level scalar is accepted too).
    public static func parse(_ bytes: [UInt8]) throws(FakeJSONError) -> FakeJSON {
        try parse(Data(bytes))
    }

    /// Parses JSON text (a top-level scalar is accepted too).
    public static func parse(_ data: Data) throws(FakeJSONError) -> FakeJSON {
        do {
            return try JSONDecoder().decode(FakeJSON.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw FakeJSONError(message: context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        } catch {
            throw FakeJSONError(message: "\(error)")
        }
    }

    private static func write(_ value: FakeJSON, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [110, 117, 108, 108])
        case .bool(let flag): out.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case .number(let number): writeNumber(number, to: &out)
        case .string(let text): writeString(text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let sorted = members.sorted { precedes($0.key, $1.key) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Byte-wise UTF-8 order (memcmp, then the shorter first): deterministic and cheap.
    private static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { left in
            rhs.withUTF8 { right in
                let common = min(left.count, right.count)
                if common > 0, let a = left.baseAddress, let b = right.baseAddress {
                    let order = memcmp(a, b, common)
                    if order != 0 { return order < 0 }
                }
                return left.count < right.count
            }
        }
    }

    private static func writeNumber(_ number: Double, to out: inout [UInt8]) {
        if number.rounded(.towardZero) == number, abs(number) < 1e15 {
            out.append(contentsOf: String(Int64(number)).utf8)  // also -0 → "0", as in JavaScript
        } else {
            out.append(contentsOf: javaScriptText(number).utf8)
        }
    }

    /// JavaScript's `Number.prototype.toString` (ECMA-262 Number::toString): the shortest digits
    /// that read back the same, plain from 1e-6 up to 1e21, otherwise `d.ddde±x`. Not finite
    /// numbers are `null`, as `JSON.stringify` writes them.
    static func javaScriptText(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        guard number != 0 else { return "0" }
        // Swift's description holds the same shortest digits; take them apart.
        let text = abs(number).description
        let parts = text.split(separator: "e")
        let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        var digits = Array(mantissa[0]) + (mantissa.count > 1 ? Array(mantissa[1]) : [])
        // The value is 0.d1d2… × 10^point.
        var point = mantissa[0].count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        let count = digits.count
        let sign = number < 0 ? "-" : ""
        if count <= point, point <= 21 {
            return sign + String(digits) + String(repeating: "0", count: point - count)
        }
        if 0 < point, point <= 21 {
            return sign + String(digits[..<point]) + "." + String(digits[point...])
        }
        if -6 < point, point <= 0 {
            return sign + "0." + String(repeating: "0", count: -point) + String(digits)
        }
        let power = point - 1
        let scaled = count == 1 ? String(digits) : String(digits[0]) + "." + String(digits[1...])
        return sign + scaled + "e" + (power < 0 ? "-" : "+") + String(abs(power))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// `JSON.stringify`'s escapes: `"` and `\`, `\b \f \n \r \t`, other control characters as
    /// `\u00xx`; everything else (including `/`, DEL and non-ASCII) verbatim.
    private static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // Most strings need no escape: copy them in one go.
            var plain = true
            for byte in bytes where needsEscape(byte) {
                plain = false
                break
            }
            if plain {
                out.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                guard needsEscape(byte) else {
                    out.append(byte)
                    continue
                }
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                            hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }
}

/// Why a text is not JSON, in the parser's words.
public struct FakeJSONError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Decoding tries the common shapes first; a mismatch costs a thrown error, so strings and
/// objects (most of an entity) come before the rarer kinds.
extension FakeJSON: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let members = try? container.decode([String: FakeJSON].self) {
            self = .object(members)
        } else if let items = try? container.decode([FakeJSON].self) {
            self = .array(items)
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else {
            self = .number(try container.decode(Double.self))
        }
    }
}
