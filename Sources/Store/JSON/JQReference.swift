import CJQ
import Glibc

/// One owned reference to a libjq value: the one Swift type that copies (`copy()`) and frees
/// (`deinit`) a `jv`.
///
/// libjq counts references by hand: "All jv_* functions consume (decref) input and produce (incref)
/// output, except jv_copy" (jv.h). Being non-copyable, this type has the compiler keep that count:
/// a `borrowing` use reads the value and changes no count, a `consuming` use hands the reference
/// on, and a second reference is only ever the explicit `copy()`. Borrowing costs nothing, so hot
/// paths (mapping, page scans) use it directly. Not thread-safe: jv refcounts are plain ints.
///
/// Only libjq's API is used, never its struct layout (identity is `jv_identical`).
@frozen public struct JQReference: ~Copyable {
    /// The held reference. Read only inside Store, and only for a call that borrows it.
    @usableFromInline var raw: jv

    /// Adopts one reference produced by libjq (a C call's result or callback argument): from
    /// here on this value frees it.
    @inlinable public init(adopting raw: jv) {
        self.raw = raw
    }

    deinit {
        jv_free(raw)
    }

    /// Hands the reference to a libjq call that consumes it (`jq_start`): the one way a reference
    /// leaves its owner.
    @inlinable public consuming func release() -> jv {
        let raw = self.raw
        discard self
        return raw
    }

    /// A second reference to the same value (a count increment; jv values are copied on write).
    @inlinable public borrowing func copy() -> JQReference {
        JQReference(adopting: jv_copy(raw))
    }

    // MARK: Making values

    @inlinable public static var null: JQReference { JQReference(adopting: jv_null()) }
    public static func object() -> JQReference { JQReference(adopting: jv_object()) }
    public static func array(capacity: Int = 0) -> JQReference { JQReference(adopting: jv_array_sized(Int32(capacity))) }

    @inlinable public init(number: Double) {
        self.init(adopting: jv_number(number))
    }

    /// A string holding exactly the bytes of `text` (embedded NULs included).
    public init(string text: String) {
        self.init(adopting: JQReference.makeString(text))
    }

    /// An invalid value carrying `message`, as libjq reports an error.
    public static func invalid(message: String) -> JQReference {
        JQReference(adopting: jv_invalid_with_msg(makeString(message)))
    }

    /// Builds the value of the Swift representation.
    public init(_ value: JSONValue) {
        self.init(adopting: JQReference.build(value))
    }

    // MARK: Reading

    @inlinable public var kind: jv_kind { jv_get_kind(raw) }

    /// The number (0 when not a number).
    @inlinable public var number: Double { kind == JV_KIND_NUMBER ? jv_number_value(raw) : 0 }

    /// The text of a string, every byte kept (embedded NULs included); "" when not a string.
    @inlinable public var string: String { stringValue ?? "" }

    /// The text of a string, nil when not a string. Embedded NULs are kept (a C-string read would
    /// cut the text there and let `"a\u0000b"` pass for `"a"`).
    @inlinable public var stringValue: String? {
        withStringBytes { bytes in bytes.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Runs `body` with the UTF-8 bytes of a string, in place (nil when not a string).
    @inlinable public func withStringBytes<R>(_ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard kind == JV_KIND_STRING, let start = jv_string_value(raw) else { return body(nil) }
        let length = Int(jv_string_length_bytes(jv_copy(raw)))
        return start.withMemoryRebound(to: UInt8.self, capacity: max(length, 1)) { body(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// The number of elements of an array, or members of an object (0 for anything else).
    @inlinable public var count: Int {
        switch jv_get_kind(raw) {
        case JV_KIND_ARRAY: return Int(jv_array_length(jv_copy(raw)))
        case JV_KIND_OBJECT: return Int(jv_object_length(jv_copy(raw)))
        default: return 0
        }
    }

    /// Element `index` of an array (invalid when out of range or not an array).
    @inlinable public func element(_ index: Int) -> JQReference {
        guard jv_get_kind(raw) == JV_KIND_ARRAY else { return JQReference(adopting: jv_invalid()) }
        return JQReference(adopting: jv_array_get(jv_copy(raw), Int32(index)))
    }

    /// `element` of a value no longer needed: hands this reference to libjq instead of copying it.
    @inlinable public consuming func takeElement(_ index: Int) -> JQReference {
        guard kind == JV_KIND_ARRAY else { return JQReference(adopting: jv_invalid()) }
        return JQReference(adopting: jv_array_get(release(), Int32(index)))
    }

    /// `member` of a value no longer needed: hands this reference to libjq instead of copying it.
    @inlinable public consuming func takeMember(_ key: String) -> JQReference {
        guard kind == JV_KIND_OBJECT else { return JQReference(adopting: jv_invalid()) }
        return JQReference(adopting: jv_object_get(release(), jv_string(key)))
    }

    /// The member `key` of an object (invalid when absent or not an object).
    @inlinable public func member(_ key: String) -> JQReference {
        guard kind == JV_KIND_OBJECT else { return JQReference(adopting: jv_invalid()) }
        return JQReference(adopting: jv_object_get(jv_copy(raw), jv_string(key)))
    }

    /// The member named by the string `key` (kept by the caller, for a key looked up many times).
    @inlinable public func member(_ key: borrowing JQReference) -> JQReference {
        guard kind == JV_KIND_OBJECT else { return JQReference(adopting: jv_invalid()) }
        return JQReference(adopting: jv_object_get(jv_copy(raw), jv_copy(key.raw)))
    }

    /// Calls `body` with each member of an object (key, value), in libjq's order, until it
    /// returns false.
    public func forEachMember(_ body: (borrowing JQReference, borrowing JQReference) -> Bool) {
        guard kind == JV_KIND_OBJECT else { return }
        var iterator = jv_object_iter(raw)
        while jv_object_iter_valid(raw, iterator) != 0 {
            let key = JQReference(adopting: jv_object_iter_key(raw, iterator))
            let value = JQReference(adopting: jv_object_iter_value(raw, iterator))
            guard body(key, value) else { return }
            iterator = jv_object_iter_next(raw, iterator)
        }
    }

    /// Every member of an object as owned references, key then value (member `i` at `2i` and
    /// `2i + 1`), in libjq's order: the order they were inserted in.
    public func members() -> JQReferenceList {
        guard kind == JV_KIND_OBJECT else { return JQReferenceList() }
        var members = JQReferenceList(capacity: 2 * Int(jv_object_length(jv_copy(raw))))
        var iterator = jv_object_iter(raw)
        while jv_object_iter_valid(raw, iterator) != 0 {
            members.append(JQReference(adopting: jv_object_iter_key(raw, iterator)))
            members.append(JQReference(adopting: jv_object_iter_value(raw, iterator)))
            iterator = jv_object_iter_next(raw, iterator)
        }
        return members
    }

    /// Whether this is the very value `other` is (the same allocation, or the same scalar),
    /// compared by libjq (`jv_identical`), not by its layout. Consumes this reference.
    @inlinable public consuming func isIdentical(to other: borrowing JQReference) -> Bool {
        jv_identical(release(), jv_copy(other.raw)) != 0
    }

    /// Whether an invalid value carries a message (a jq error, as opposed to the end of outputs).
    @inlinable public var hasInvalidMessage: Bool {
        kind == JV_KIND_INVALID && jv_invalid_has_msg(jv_copy(raw)) != 0
    }

    /// The message an invalid value carries (the value `error(x)` raised; null when none).
    public consuming func invalidMessage() -> JQReference {
        JQReference(adopting: jv_invalid_get_msg(release()))
    }

    /// Compact JSON as jq prints it (members in insertion order); nil if libjq can't print it.
    public var compactText: String? {
        JQReference(adopting: jv_dump_string(jv_copy(raw), 0)).stringValue
    }

    /// Canonical JSON of this value: see `CanonicalJSON`.
    public func canonicalBytes() -> [UInt8] {
        CanonicalJSON.bytes(of: self)
    }

    /// Converts to the Swift representation (allocates: keep it off hot paths).
    public func toJSONValue() -> JSONValue {
        switch kind {
        case JV_KIND_TRUE: return .bool(true)
        case JV_KIND_FALSE: return .bool(false)
        case JV_KIND_NUMBER: return .number(number)
        case JV_KIND_STRING: return .string(string)
        case JV_KIND_ARRAY:
            let count = self.count
            var items: [JSONValue] = []
            items.reserveCapacity(count)
            for index in 0..<count { items.append(element(index).toJSONValue()) }
            return .array(items)
        case JV_KIND_OBJECT:
            var members: [String: JSONValue] = [:]
            forEachMember { key, value in
                members[key.string] = value.toJSONValue()
                return true
            }
            return .object(members)
        default:
            return .null
        }
    }

    // MARK: Editing (libjq copies a shared value on write)

    /// Sets member `key` of an object to `value`.
    @inlinable public mutating func set(_ key: String, _ value: consuming JQReference) {
        raw = jv_object_set(raw, JQReference.makeString(key), value.release())
    }

    /// Removes member `key` of an object (no-op when absent).
    public mutating func removeMember(_ key: String) {
        raw = jv_object_delete(raw, jv_string(key))
    }

    /// Appends `value` to an array.
    @inlinable public mutating func append(_ value: consuming JQReference) {
        raw = jv_array_append(raw, value.release())
    }

    // MARK: Parsing

    /// Parses one JSON text. Invalid JSON throws with libjq's message (which names line and column).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JQReference {
        guard bytes.count < Int(Int32.max) else { throw JSONParseError(message: "document larger than 2 GiB") }
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(message: "empty document")
        }
        let parsed = JQReference(adopting: jv_parse_sized(base.assumingMemoryBound(to: CChar.self), Int32(bytes.count)))
        if parsed.kind == JV_KIND_INVALID {
            throw JSONParseError(message: parsed.parseFailure() ?? "invalid JSON")
        }
        return parsed
    }

    /// The reason of an invalid value, as libjq words a parse error, without the input it quotes.
    consuming func parseFailure() -> String? {
        guard let text = invalidMessage().stringValue else { return nil }
        // libjq quotes the whole input after the reason ("… (while parsing '<text>')"): for a page
        // of megabytes that would be the message. Keep the reason and its position.
        if let quote = text.range(of: " (while parsing '") { return String(text[..<quote.lowerBound]) }
        return text
    }

    // MARK: Raw values, inside Store only

    /// The string's UTF-8 read in place (`withUTF8` copies only a string that is not stored
    /// contiguously): mapped bodies set a member per field, and a copied C string per key was one
    /// heap allocation each.
    @usableFromInline static func makeString(_ text: String) -> jv {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return jv_string("") }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { jv_string_sized($0, Int32(bytes.count)) }
        }
    }

    private static func build(_ value: JSONValue) -> jv {
        switch value {
        case .null: return jv_null()
        case .bool(let flag): return jv_bool(flag ? 1 : 0)
        case .number(let number): return jv_number(number)
        case .string(let text): return makeString(text)
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
extension JQReference: Sendable {}

/// Owned references in order, for the values a loop collects (a Swift array holds only copyable
/// values). Frees them all in `deinit`.
public struct JQReferenceList: ~Copyable {
    @usableFromInline var items: [jv] = []

    public init(capacity: Int = 0) {
        items.reserveCapacity(capacity)
    }

    deinit {
        for item in items { jv_free(item) }
    }

    @inlinable public var count: Int { items.count }

    @inlinable public mutating func append(_ value: consuming JQReference) {
        items.append(value.release())
    }

    /// Puts `value` at `index`, freeing what was there.
    @inlinable public mutating func replace(at index: Int, with value: consuming JQReference) {
        jv_free(items[index])
        items[index] = value.release()
    }

    /// The order `jv_keys` sorts the strings at `first` and `second` in: bytewise, then the shorter
    /// first (negative, zero or positive).
    public func keyOrder(_ first: Int, _ second: Int) -> Int {
        let a = items[first], b = items[second]
        let lengthA = Int(jv_string_length_bytes(jv_copy(a)))
        let lengthB = Int(jv_string_length_bytes(jv_copy(b)))
        guard let bytesA = jv_string_value(a), let bytesB = jv_string_value(b) else { return 0 }
        return bytesA.withMemoryRebound(to: UInt8.self, capacity: max(lengthA, 1)) { a in
            bytesB.withMemoryRebound(to: UInt8.self, capacity: max(lengthB, 1)) { b in
                JQReferenceList.keyOrder(UnsafeBufferPointer(start: a, count: lengthA), UnsafeBufferPointer(start: b, count: lengthB))
            }
        }
    }

    /// The `jv_keys` order of two keys' UTF-8 bytes (the one place of that rule): bytewise, then
    /// the shorter first (negative, zero or positive).
    public static func keyOrder(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(first.count, second.count)
        if common > 0, let a = first.baseAddress, let b = second.baseAddress {
            let order = Int(memcmp(a, b, common))
            if order != 0 { return order }
        }
        return first.count - second.count
    }

    /// Runs `body` on element `index`, borrowed: no count changes.
    @inlinable public func withElement<R: ~Copyable>(_ index: Int, _ body: (borrowing JQReference) -> R) -> R {
        let element = JQReference(adopting: items[index])
        let result = body(element)
        _ = element.release()  // still owned by the list
        return result
    }
}

@available(*, unavailable)
extension JQReferenceList: Sendable {}

/// Text that is not JSON; `message` is libjq's, naming where parsing stopped.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
