import CJQ
import Foundation
import Store

/// Writes borrowed jv values as canonical JSON: byte for byte what `CanonicalJSON` (libjq's
/// sorted compact dump) produces, without going through `JSONValue`. Also converts jv to
/// `JSONValue` keeping embedded NULs.
struct JVConverter {
    var bytes: [UInt8] = []

    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends the canonical form of `value` (borrowed).
    mutating func write(_ value: jv) {
        switch jvKind(value) {
        case JV_KIND_NULL, JV_KIND_INVALID:
            append("null")
        case JV_KIND_TRUE:
            append("true")
        case JV_KIND_FALSE:
            append("false")
        case JV_KIND_NUMBER:
            appendDump(value)  // libjq's own number formatting
        case JV_KIND_STRING:
            JVConverter.withBytes(of: value) { appendEscaped($0) }
        case JV_KIND_ARRAY:
            let count = jv_array_length(jv_copy(value))
            bytes.append(UInt8(ascii: "["))
            var index: Int32 = 0
            while index < count {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                let item = jv_array_get(jv_copy(value), index)
                write(item)
                jv_free(item)
                index += 1
            }
            bytes.append(UInt8(ascii: "]"))
        case JV_KIND_OBJECT:
            var members: [(key: jv, value: jv)] = []
            members.reserveCapacity(Int(jv_object_length(jv_copy(value))))
            var iterator = jv_object_iter(value)
            while jv_object_iter_valid(value, iterator) != 0 {
                members.append((jv_object_iter_key(value, iterator), jv_object_iter_value(value, iterator)))
                iterator = jv_object_iter_next(value, iterator)
            }
            if members.count > 1 { members.sort { JVConverter.compareStrings($0.key, $1.key) < 0 } }
            bytes.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                JVConverter.withBytes(of: member.key) { appendEscaped($0) }
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
                jv_free(member.key)
                jv_free(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        default:
            append("null")
        }
    }

    /// Converts a borrowed jv to `JSONValue` (strings keep embedded NULs, unlike `JQValue.toJSONValue`).
    static func convert(_ value: jv) -> JSONValue {
        switch jvKind(value) {
        case JV_KIND_TRUE: return .bool(true)
        case JV_KIND_FALSE: return .bool(false)
        case JV_KIND_NUMBER: return .number(jv_number_value(value))
        case JV_KIND_STRING: return .string(string(value))
        case JV_KIND_ARRAY:
            let count = jv_array_length(jv_copy(value))
            var items: [JSONValue] = []
            items.reserveCapacity(Int(count))
            var index: Int32 = 0
            while index < count {
                let item = jv_array_get(jv_copy(value), index)
                items.append(convert(item))
                jv_free(item)
                index += 1
            }
            return .array(items)
        case JV_KIND_OBJECT:
            var members: [String: JSONValue] = [:]
            var iterator = jv_object_iter(value)
            while jv_object_iter_valid(value, iterator) != 0 {
                let key = jv_object_iter_key(value, iterator)
                let member = jv_object_iter_value(value, iterator)
                members[string(key)] = convert(member)
                jv_free(key)
                jv_free(member)
                iterator = jv_object_iter_next(value, iterator)
            }
            return .object(members)
        default:
            return .null
        }
    }

    /// The text of a borrowed jv string (embedded NULs kept).
    static func string(_ value: jv) -> String {
        var text = ""
        withBytes(of: value) { text = String(decoding: $0, as: UTF8.self) }
        return text
    }

    /// Calls `body` with the bytes of a borrowed jv string.
    static func withBytes(of value: jv, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let length = Int(jv_string_length_bytes(jv_copy(value)))
        guard let start = jv_string_value(value), length > 0 else {
            body(UnsafeBufferPointer(start: nil, count: 0))
            return
        }
        start.withMemoryRebound(to: UInt8.self, capacity: length) { body(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// Appends `"key":` for a key known to be plain (used for the fixed top-level keys).
    mutating func appendKey(_ key: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends a Swift string as a JSON string with libjq's escaping.
    mutating func appendString(_ text: String) {
        var copy = text
        copy.withUTF8 { appendEscaped($0) }
    }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// libjq 1.6's string escaping: `"` and `\` escaped, `\b \t \r \n \f` for those controls,
    /// `\u00xx` (lower-case hex) for other controls and DEL, every other byte as it is.
    mutating func appendEscaped(_ buffer: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<buffer.count {
            let byte = buffer[index]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F else { continue }
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index])) }
            runStart = index + 1
            switch byte {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            default:
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          JVConverter.hexDigits[Int(byte >> 4)], JVConverter.hexDigits[Int(byte & 0x0F)]])
            }
        }
        if runStart < buffer.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart...])) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendDump(_ value: jv) {
        let dumped = jv_dump_string(jv_copy(value), 0)
        defer { jv_free(dumped) }
        let length = Int(jv_string_length_bytes(jv_copy(dumped)))
        guard let start = jv_string_value(dumped) else { return }
        start.withMemoryRebound(to: UInt8.self, capacity: length) { pointer in
            bytes.append(contentsOf: UnsafeBufferPointer(start: pointer, count: length))
        }
    }

    /// Byte-wise order of two borrowed jv strings (libjq's key order: memcmp, then length).
    static func compareStrings(_ a: jv, _ b: jv) -> Int {
        let lengthA = Int(jv_string_length_bytes(jv_copy(a)))
        let lengthB = Int(jv_string_length_bytes(jv_copy(b)))
        if let pointerA = jv_string_value(a), let pointerB = jv_string_value(b) {
            let result = memcmp(pointerA, pointerB, min(lengthA, lengthB))
            if result != 0 { return Int(result) }
        }
        return lengthA - lengthB
    }

    /// Byte-wise order of two Swift strings, the same order as `compareStrings`.
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

extension jv {
    /// A jv string holding exactly the bytes of `text` (embedded NULs included). Owned by the caller.
    static func string(_ text: String) -> jv {
        var copy = text
        return copy.withUTF8 { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { jv_string_sized($0, Int32(buffer.count)) }
            } ?? jv_string("")
        }
    }
}

/// `jv_get_kind` without the call: libjq 1.6 keeps the kind in the low four bits of
/// `kind_flags` (jv.h's public struct; `jv_get_kind` is `x.kind_flags & KIND_MASK`).
@inline(__always)
func jvKind(_ value: jv) -> jv_kind {
    jv_kind(rawValue: UInt32(value.kind_flags & 0x0F))
}
