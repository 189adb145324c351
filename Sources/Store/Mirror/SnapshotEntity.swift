import CJQ

/// One entity of a walk in stored form: its ref, identity fields and canonical body (the JSON with
/// `metadata.etag` removed, hashed). Built from a page item on the hot path (libjq, no Swift JSON).
public struct SnapshotEntity: Sendable {
    public let ref: EntityRef
    public let uid: String?
    public let etag: String?
    public let body: CanonicalBody

    /// Why a page item can't be mirrored.
    public enum Rejection: Error, CustomStringConvertible, Sendable {
        case notAnObject(type: String)
        case missingField(String)
        /// The item could not be parsed on its own (e.g. nested deeper than libjq allows).
        case unreadable(String)
        /// A name, namespace or kind with a character that makes the ref ambiguous.
        case ambiguousRef(field: String, value: String, character: Character)
        /// A name, namespace or kind with a NUL or other control character.
        case controlCharacter(field: String, value: String)
        /// A `metadata.namespace` that is present but not a string (`7` is not `default`).
        case notAString(field: String, type: String)
        /// Canonical JSON larger than the per-entity limit (`--max-entity-size`).
        case tooLarge(bytes: Int, limit: Int)

        /// The item is an entity that can't be mirrored as it is (too large, a malformed
        /// identity): it may be one the mirror holds, so its kind must not count as complete —
        /// a missing entity would otherwise be taken for deleted.
        public var makesKindIncomplete: Bool {
            switch self {
            case .tooLarge, .controlCharacter, .notAString: return true
            case .notAnObject, .missingField, .unreadable, .ambiguousRef: return false
            }
        }

        public var description: String {
            switch self {
            case .notAnObject(let type): return "item is \(Self.withArticle(type)), not an entity object"
            case .missingField(let field): return "item has no string \(field)"
            case .unreadable(let reason): return "item could not be read: \(reason)"
            case .ambiguousRef(let field, let value, let character):
                return "\(field) \"\(TerminalText.shortened(value))\" contains \"\(character)\", which makes its entity ref ambiguous"
            case .controlCharacter(let field, let value):
                return "\(field) \"\(TerminalText.escape(TerminalText.shortened(value)))\" contains a control character, which no entity ref may hold"
            case .notAString(let field, let type):
                return "\(field) is \(Self.withArticle(type)), not a string"
            case .tooLarge(let bytes, let limit):
                return "entity is \(ByteCount.describe(bytes)), over the per-entity limit of \(ByteCount.describe(limit)) (--max-entity-size)"
            }
        }

        /// A JSON type name with its article: `an object`, `a number`.
        private static func withArticle(_ type: String) -> String {
            "\("aeiou".contains(type.prefix(1)) ? "an" : "a") \(type)"
        }
    }

    /// The default per-entity limit: Backstage entities are kilobytes; megabytes is an attack or a bug.
    public static let defaultMaxBytes = 4 << 20

    /// Reads an entity out of a parsed page item. The item itself is left untouched. The kind,
    /// namespace and name must be strings without control characters, and the canonical JSON no
    /// larger than `maxBytes`: anything else is rejected, so it can't overwrite another entity.
    public init(item: JQValue, maxBytes: Int = SnapshotEntity.defaultMaxBytes) throws(Rejection) {
        self = try SnapshotEntity.reading(item, maxBytes: maxBytes).entity
    }

    /// Reads an entity out of a parsed page item as `init(item:maxBytes:)` does, and hands back the
    /// stored form as a value too (the item without `metadata.etag`: what the mirror keeps and what
    /// mappings see), so a walk can map a changed entity from the parse it already has.
    public static func reading(_ item: JQValue, maxBytes: Int = SnapshotEntity.defaultMaxBytes)
        throws(Rejection) -> (entity: SnapshotEntity, stored: JQValue) {
        if item.kind == JV_KIND_INVALID { throw .unreadable(item.reference.copy().parseFailure() ?? "invalid JSON") }
        guard item.kind == JV_KIND_OBJECT else { throw .notAnObject(type: String(cString: jv_kind_name(item.kind))) }
        guard let kind = item.member("kind")?.stringValue else { throw .missingField("kind") }
        guard let metadata = item.member("metadata"), metadata.kind == JV_KIND_OBJECT else {
            throw .missingField("metadata")
        }
        guard let name = metadata.member("name")?.stringValue, !name.isEmpty else { throw .missingField("metadata.name") }
        let namespaceValue = metadata.member("namespace")
        if let namespaceValue, namespaceValue.kind != JV_KIND_STRING, namespaceValue.kind != JV_KIND_NULL {
            throw .notAString(field: "metadata.namespace", type: String(cString: jv_kind_name(namespaceValue.kind)))
        }
        let namespace = namespaceValue?.stringValue
        if let problem = refProblem(kind: kind, namespace: namespace ?? "", name: name) { throw problem }
        let stored = JQValue(owning: item.reference.copy())
        stored.removeMember("etag", at: ["metadata"])
        let canonical = stored.canonicalBytes()
        guard canonical.count <= maxBytes else { throw .tooLarge(bytes: canonical.count, limit: maxBytes) }
        let entity = SnapshotEntity(ref: EntityRef(kind: kind, namespace: namespace, name: name),
                                    uid: metadata.member("uid")?.stringValue, etag: metadata.member("etag")?.stringValue,
                                    body: CanonicalBody(canonical))
        return (entity, stored)
    }

    /// The one rule for what may stand in a ref's parts: no control character (it would cut or
    /// disguise the ref) and no `/` or `:` (another entity's ref could be spelled with them).
    /// Used by full reads and by etag scans alike, so a scan keeps exactly what a read would.
    public static func refProblem(kind: String, namespace: String, name: String) -> Rejection? {
        for (field, value) in [("kind", kind), ("metadata.namespace", namespace), ("metadata.name", name)] {
            if EntityRef.invalidCharacter(in: value) != nil { return .controlCharacter(field: field, value: value) }
            if value.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") }) {
                return .ambiguousRef(field: field, value: value, character: value.first { $0 == "/" || $0 == ":" } ?? "/")
            }
        }
        return nil
    }

    public init(ref: EntityRef, uid: String?, etag: String?, body: CanonicalBody) {
        self.ref = ref
        self.uid = uid
        self.etag = etag
        self.body = body
    }
}
