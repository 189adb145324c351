import CJQ
import Glibc

/// The one canonical JSON form of mirrorctl: object keys sorted, no insignificant whitespace,
/// numbers and strings exactly as libjq 1.6's sorted dump (`jv_dump_string(v, JV_PRINT_SORTED)`)
/// prints them. Content hashes, mapped-entity hashes and the stored blobs all use it, so equal
/// JSON always has equal bytes, and mirrors written before this printer keep their hashes.
///
/// The printer is our own (`CanonicalPrinter`): libjq prints token by token through stdio and
/// sorts every object's keys into a new array, which was half of a first sync's walk. Its
/// byte-identity to libjq is proved by `CanonicalPrinterEqualityTests` on every fixture entity,
/// every generated catalog entity and a randomized corpus; libjq's printer is not used for it.
public enum CanonicalJSON {
    /// Canonical bytes of a value.
    public static func bytes(of value: borrowing JQReference) -> [UInt8] {
        var printer = CanonicalPrinter()
        printer.print(value, depth: 0)
        return printer.finish()
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
