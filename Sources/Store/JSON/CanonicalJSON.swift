import CJQ
import Glibc

/// The one canonical JSON form of mirrorctl: object keys sorted, no insignificant whitespace,
/// numbers as libjq prints doubles (shortest round-trip form: `1`, `0.5`, `1e+300`), strings as
/// UTF-8 with only `"`, `\` and control characters escaped. Content hashes, mapped-entity hashes and
/// the stored blobs all use it, so equal JSON always has equal bytes.
public enum CanonicalJSON {
    /// Canonical bytes of a borrowed jv (the caller keeps its reference). libjq prints straight
    /// into a memory stream (`jv_dumpf`), which is much cheaper than growing a jv string.
    public static func bytes(of value: jv) -> [UInt8] {
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let stream = open_memstream(&buffer, &size) else { return dumpedString(of: value) }
        // The stream never leaves this thread: skip stdio's per-write locking (libjq writes
        // every token separately).
        CanonicalJSON.unlocked(stream)
        jv_dumpf(jv_copy(value), stream, Int32(JV_PRINT_SORTED.rawValue))
        fclose(stream)
        defer { free(buffer) }
        guard let buffer else { return [] }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: size) { Array(UnsafeBufferPointer(start: $0, count: size)) }
    }

    /// `__fsetlocking(stream, FSETLOCKING_BYCALLER)` from <stdio_ext.h>, which Swift's Glibc
    /// module doesn't import: looked up once.
    private static let setLocking: (@convention(c) (UnsafeMutablePointer<FILE>?, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__fsetlocking") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<FILE>?, Int32) -> Int32).self)
    }()

    private static func unlocked(_ stream: UnsafeMutablePointer<FILE>) {
        let byCaller: Int32 = 2  // FSETLOCKING_BYCALLER
        _ = setLocking?(stream, byCaller)
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
