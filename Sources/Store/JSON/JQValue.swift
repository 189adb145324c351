import CJQ

/// One parsed JSON value shared by reference: a page item, a stored entity, a mapping's input.
/// libjq is the JSON engine of mirrorctl: it parses pages, edits entities and prints the canonical
/// form that content hashes are taken over.
///
/// A class around one `JQReference` (which alone frees and copies the `jv`), for the places that
/// keep values in arrays and optionals: pages of items, walks. Not thread-safe: jv refcounts are
/// plain ints.
public final class JQValue {
    /// The held value. Borrow it for reads this class does not wrap (`value.reference.count`).
    public private(set) var reference: JQReference

    /// Takes ownership of `reference`.
    public init(owning reference: consuming JQReference) {
        self.reference = reference
    }

    /// Builds the value of the Swift representation.
    public convenience init(_ value: JSONValue) {
        self.init(owning: JQReference(value))
    }

    /// Parses one JSON text. Invalid JSON throws with libjq's message (which names line and column).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JQValue {
        JQValue(owning: try JQReference.parse(bytes))
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

    public var kind: jv_kind { reference.kind }

    /// Hands the held reference over, without a count change, and holds null from then on: for
    /// a value's last use by a consumer that may edit it in place (libjq edits a value in place
    /// only while it has one reference).
    public func take() -> JQReference {
        let taken = JQReference(adopting: reference.raw)
        reference.raw = jv_null()
        return taken
    }

    /// The member `key` of an object (nil when absent or not an object).
    public func member(_ key: String) -> JQValue? {
        let value = reference.member(key)
        return value.kind == JV_KIND_INVALID ? nil : JQValue(owning: value)
    }

    public var stringValue: String? { reference.stringValue }

    public var arrayCount: Int {
        kind == JV_KIND_ARRAY ? reference.count : 0
    }

    public func element(_ index: Int) -> JQValue {
        JQValue(owning: reference.element(index))
    }

    /// Removes `key` from the object at `path` (no-op when the path is absent), e.g. the etag.
    public func removeMember(_ key: String, at path: [String]) {
        guard kind == JV_KIND_OBJECT else { return }
        guard let parentKey = path.first else {
            reference.removeMember(key)
            return
        }
        guard let child = member(parentKey), child.kind == JV_KIND_OBJECT else { return }
        child.removeMember(key, at: Array(path.dropFirst()))
        reference.set(parentKey, child.reference.copy())
    }

    /// Canonical JSON of this value: see `CanonicalJSON`.
    public func canonicalBytes() -> [UInt8] {
        reference.canonicalBytes()
    }

    /// Converts to the Swift representation (allocates: keep it off hot paths).
    public func toJSONValue() -> JSONValue {
        reference.toJSONValue()
    }
}

@available(*, unavailable)
extension JQValue: Sendable {}
