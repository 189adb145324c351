import CJQ

/// One owned libjq `jv` value. libjq is the JSON engine of mirrorctl: it parses pages, edits
/// entities and prints the canonical form that content hashes are taken over.
///
/// Ownership follows jv.h: "All jv_* functions consume (decref) input and produce (incref) output,
/// Except jv_copy". This type holds one reference and drops it in `deinit`; every accessor hands
/// libjq a `jv_copy` so the held reference stays valid. Not thread-safe: jv refcounts are plain ints.
public final class JQValue {
    /// The held reference. Borrow it only for the duration of a call.
    public private(set) var raw: jv

    /// Takes ownership of `raw` (one reference).
    public init(consuming raw: jv) {
        self.raw = raw
    }

    deinit {
        jv_free(raw)
    }

    /// Parses one JSON text. Invalid JSON throws with libjq's message (which names line and column).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JQValue {
        guard bytes.count < Int(Int32.max) else { throw JSONParseError(message: "document larger than 2 GiB") }
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(message: "empty document")
        }
        let parsed = jv_parse_sized(base.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        if jv_get_kind(parsed) == JV_KIND_INVALID {
            throw JSONParseError(message: JQValue.invalidMessage(parsed) ?? "invalid JSON")
        }
        return JQValue(consuming: parsed)
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JQValue {
        do {
            return try bytes.withUnsafeBytes { buffer in try JQValue.parse(buffer) }
        } catch let error as JSONParseError {
            throw error
        } catch {
            throw JSONParseError(message: "\(error)")
        }
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JQValue {
        try parse(Array(text.utf8))
    }

    /// Consumes an invalid jv and returns its message, if it carried one.
    static func invalidMessage(_ invalid: jv) -> String? {
        let message = jv_invalid_get_msg(invalid)
        defer { jv_free(message) }
        guard jv_get_kind(message) == JV_KIND_STRING else { return nil }
        let text = String(cString: jv_string_value(message))
        // libjq quotes the whole input after the reason ("… (while parsing '<text>')"): for a page
        // of megabytes that would be the message. Keep the reason and its position.
        if let quote = text.range(of: " (while parsing '") { return String(text[..<quote.lowerBound]) }
        return text
    }

    public var kind: jv_kind { jv_get_kind(raw) }

    /// A new reference to the same value.
    public func copy() -> jv { jv_copy(raw) }

    /// The member `key` of an object (nil when absent or not an object).
    public func member(_ key: String) -> JQValue? {
        guard kind == JV_KIND_OBJECT else { return nil }
        let value = jv_object_get(jv_copy(raw), jv_string(key))
        if jv_get_kind(value) == JV_KIND_INVALID {
            jv_free(value)
            return nil
        }
        return JQValue(consuming: value)
    }

    public var stringValue: String? {
        JQValue.stringValue(borrowing: raw)
    }

    public var arrayCount: Int {
        kind == JV_KIND_ARRAY ? Int(jv_array_length(jv_copy(raw))) : 0
    }

    public func element(_ index: Int) -> JQValue {
        JQValue(consuming: jv_array_get(jv_copy(raw), Int32(index)))
    }

    /// Removes `key` from the object at `path` (no-op when the path is absent), e.g. the etag.
    public func removeMember(_ key: String, at path: [String]) {
        guard kind == JV_KIND_OBJECT else { return }
        guard let parentKey = path.first else {
            raw = jv_object_delete(raw, jv_string(key))
            return
        }
        guard let child = member(parentKey), child.kind == JV_KIND_OBJECT else { return }
        child.removeMember(key, at: Array(path.dropFirst()))
        raw = jv_object_set(raw, jv_string(parentKey), child.copy())
    }

    /// Canonical JSON of this value: see `CanonicalJSON`.
    public func canonicalBytes() -> [UInt8] {
        CanonicalJSON.bytes(of: raw)
    }

    /// Converts to the Swift representation (allocates: keep it off hot paths).
    public func toJSONValue() -> JSONValue {
        JQValue.jsonValue(borrowing: raw)
    }

    /// The Swift representation of a borrowed jv (strings keep embedded NULs).
    public static func jsonValue(borrowing value: jv) -> JSONValue {
        switch jv_get_kind(value) {
        case JV_KIND_NULL, JV_KIND_INVALID: return .null
        case JV_KIND_TRUE: return .bool(true)
        case JV_KIND_FALSE: return .bool(false)
        case JV_KIND_NUMBER: return .number(jv_number_value(value))
        case JV_KIND_STRING: return .string(string(borrowing: value))
        case JV_KIND_ARRAY:
            let count = jv_array_length(jv_copy(value))
            var items: [JSONValue] = []
            items.reserveCapacity(Int(count))
            for index in 0..<count {
                let item = jv_array_get(jv_copy(value), index)
                items.append(jsonValue(borrowing: item))
                jv_free(item)
            }
            return .array(items)
        case JV_KIND_OBJECT:
            var members: [String: JSONValue] = [:]
            var iterator = jv_object_iter(value)
            while jv_object_iter_valid(value, iterator) != 0 {
                let key = jv_object_iter_key(value, iterator)
                let member = jv_object_iter_value(value, iterator)
                members[string(borrowing: key)] = jsonValue(borrowing: member)
                jv_free(key)
                jv_free(member)
                iterator = jv_object_iter_next(value, iterator)
            }
            return .object(members)
        default:
            return .null
        }
    }

    /// The text of a borrowed jv string, every byte kept (embedded NULs included).
    public static func string(borrowing value: jv) -> String {
        let length = Int(jv_string_length_bytes(jv_copy(value)))
        guard length > 0, let start = jv_string_value(value) else { return "" }
        return start.withMemoryRebound(to: UInt8.self, capacity: length) { pointer in
            String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
        }
    }

    /// `stringValue` of a borrowed jv: nil when it is not a string.
    /// Embedded NULs are kept (a C-string read would cut the text there and let `"a\u0000b"`
    /// pass for `"a"`).
    public static func stringValue(borrowing value: jv) -> String? {
        withStringBytes(borrowing: value) { bytes in bytes.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Runs `body` with the UTF-8 bytes of a borrowed jv string, in place (nil when not a string).
    public static func withStringBytes<R>(borrowing value: jv, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard jv_get_kind(value) == JV_KIND_STRING, let start = jv_string_value(value) else { return body(nil) }
        let length = Int(jv_string_length_bytes(jv_copy(value)))
        return start.withMemoryRebound(to: UInt8.self, capacity: max(length, 1)) { body(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// A jv string holding exactly the bytes of `text` (embedded NULs included); owned by the caller.
    public static func makeString(_ text: String) -> jv {
        text.utf8CString.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return jv_string("") }
            return jv_string_sized(base, Int32(buffer.count - 1))
        }
    }

    /// Builds a jv from the Swift representation.
    public convenience init(_ value: JSONValue) {
        self.init(consuming: JQValue.build(value))
    }

    static func build(_ value: JSONValue) -> jv {
        switch value {
        case .null: return jv_null()
        case .bool(let flag): return jv_bool(flag ? 1 : 0)
        case .number(let number): return jv_number(number)
        case .string(let text):
            return makeString(text)
        case .array(let items):
            var array = jv_array_sized(Int32(items.count))
            for item in items { array = jv_array_append(array, build(item)) }
            return array
        case .object(let members):
            var object = jv_object()
            for (key, member) in members { object = jv_object_set(object, makeString(key), build(member)) }
            return object
        }
    }
}

@available(*, unavailable)
extension JQValue: Sendable {}

/// Text that is not JSON; `message` is libjq's, naming where parsing stopped.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
