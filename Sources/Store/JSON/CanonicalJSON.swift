import CJQ
import Glibc

/// The one canonical JSON form of mirrorctl: object keys sorted, no insignificant whitespace,
/// numbers as libjq prints doubles (shortest round-trip form: `1`, `0.5`, `1e+300`), strings as
/// UTF-8 with only `"`, `\` and control characters escaped. Content hashes, mapped-entity hashes and
/// the stored blobs all use it, so equal JSON always has equal bytes.
public enum CanonicalJSON {
    /// Canonical bytes of a borrowed jv (the caller keeps its reference), printed by libjq
    /// (`jv_dumpf`) into this thread's `MemoryStream`.
    public static func bytes(of value: jv) -> [UInt8] {
        let flags = isInKeyOrder(value) ? 0 : Int32(JV_PRINT_SORTED.rawValue)
        return MemoryStream.ofThisThread?.print { jv_dumpf(jv_copy(value), $0, flags) } ?? dumpedString(of: value)
    }

    /// Whether every object in `value` (borrowed) already holds its keys in sorted order.
    ///
    /// libjq prints an object's members in insertion order, or, asked to sort, collects and sorts
    /// its keys first (`jv_keys`: bytewise, shorter first on a tie). When the insertion order is
    /// already sorted both print the same bytes, and the unsorted print skips a sort per object.
    /// That is the common case: bodies read back from the mirror were stored canonical, so parsing
    /// inserts their keys in sorted order, and mapped bodies are assembled in key order.
    /// Values nested deeper than libjq prints are left to the sorted print.
    static func isInKeyOrder(_ value: jv, depth: Int = 0) -> Bool {
        switch jv_get_kind(value) {
        case JV_KIND_OBJECT:
            guard depth < maximumCheckedDepth else { return false }
            var previous: jv?
            defer { if let previous { jv_free(previous) } }
            var iterator = jv_object_iter(value)
            while jv_object_iter_valid(value, iterator) != 0 {
                let key = jv_object_iter_key(value, iterator)
                if let previous, keyOrder(previous, key) >= 0 {
                    jv_free(key)
                    return false
                }
                if let previous { jv_free(previous) }
                previous = key
                let member = jv_object_iter_value(value, iterator)
                let ordered = isInKeyOrder(member, depth: depth + 1)
                jv_free(member)
                guard ordered else { return false }
                iterator = jv_object_iter_next(value, iterator)
            }
            return true
        case JV_KIND_ARRAY:
            guard depth < maximumCheckedDepth else { return false }
            let count = jv_array_length(jv_copy(value))
            var index: Int32 = 0
            while index < count {
                let element = jv_array_get(jv_copy(value), index)
                let ordered = isInKeyOrder(element, depth: depth + 1)
                jv_free(element)
                guard ordered else { return false }
                index += 1
            }
            return true
        default:
            return true
        }
    }

    /// libjq's `MAX_PRINT_DEPTH`.
    private static let maximumCheckedDepth = 256

    /// The order `jv_keys` sorts keys in (borrowed strings): bytewise, then the shorter first.
    private static func keyOrder(_ a: jv, _ b: jv) -> Int {
        let lengthA = Int(jv_string_length_bytes(jv_copy(a)))
        let lengthB = Int(jv_string_length_bytes(jv_copy(b)))
        guard let bytesA = jv_string_value(a), let bytesB = jv_string_value(b) else { return 0 }
        let order = Int(memcmp(bytesA, bytesB, min(lengthA, lengthB)))
        return order != 0 ? order : lengthA - lengthB
    }

    /// The same bytes through `jv_dump_string`, should a memory stream be refused.
    private static func dumpedString(of value: jv) -> [UInt8] {
        let dumped = jv_dump_string(jv_copy(value), Int32(JV_PRINT_SORTED.rawValue))
        defer { jv_free(dumped) }
        let length = Int(jv_string_length_bytes(jv_copy(dumped)))
        guard let start = jv_string_value(dumped) else { return [] }
        return start.withMemoryRebound(to: UInt8.self, capacity: length) { pointer in
            Array(UnsafeBufferPointer(start: pointer, count: length))
        }
    }

    public static func bytes(_ value: JSONValue) -> [UInt8] {
        JQValue(value).canonicalBytes()
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// Parses JSON text into the Swift representation.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try JQValue.parse(text).toJSONValue()
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try JQValue.parse(bytes).toJSONValue()
    }
}
