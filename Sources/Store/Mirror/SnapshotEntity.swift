import CJQ

/// One entity of a walk in stored form: its ref, identity fields and canonical JSON with
/// `metadata.etag` removed, hashed. Built from a page item on the hot path (libjq, no Swift JSON).
public struct SnapshotEntity: Sendable {
    public let ref: EntityRef
    public let uid: String?
    public let etag: String?
    public let canonical: [UInt8]
    public let hash: ContentHash

    /// Why a page item can't be mirrored.
    public enum Rejection: Error, CustomStringConvertible, Sendable {
        case notAnObject(type: String)
        case missingField(String)
        /// The item could not be parsed on its own (e.g. nested deeper than libjq allows).
        case unreadable(String)
        /// A name, namespace or kind with a character that makes the ref ambiguous.
        case ambiguousRef(field: String, value: String, character: Character)

        public var description: String {
            switch self {
            case .notAnObject(let type): return "item is \("aeiou".contains(type.prefix(1)) ? "an" : "a") \(type), not an entity object"
            case .missingField(let field): return "item has no string \(field)"
            case .unreadable(let reason): return "item could not be read: \(reason)"
            case .ambiguousRef(let field, let value, let character):
                let shown = value.count > 80 ? String(value.prefix(77)) + "…" : value
                return "\(field) \"\(shown)\" contains \"\(character)\", which makes its entity ref ambiguous"
            }
        }
    }

    /// Reads an entity out of a parsed page item. The item itself is left untouched.
    public init(item: JQValue) throws(Rejection) {
        if item.kind == JV_KIND_INVALID { throw .unreadable(JQValue.invalidMessage(item.copy()) ?? "invalid JSON") }
        guard item.kind == JV_KIND_OBJECT else { throw .notAnObject(type: String(cString: jv_kind_name(item.kind))) }
        guard let kind = item.member("kind")?.stringValue else { throw .missingField("kind") }
        guard let metadata = item.member("metadata"), metadata.kind == JV_KIND_OBJECT else {
            throw .missingField("metadata")
        }
        guard let name = metadata.member("name")?.stringValue, !name.isEmpty else { throw .missingField("metadata.name") }
        let namespace = metadata.member("namespace")?.stringValue
        for (field, value) in [("kind", kind), ("metadata.namespace", namespace ?? ""), ("metadata.name", name)]
        where value.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") }) {
            throw .ambiguousRef(field: field, value: value, character: value.first { $0 == "/" || $0 == ":" } ?? "/")
        }
        ref = EntityRef(kind: kind, namespace: namespace, name: name)
        uid = metadata.member("uid")?.stringValue
        etag = metadata.member("etag")?.stringValue
        let stored = JQValue(consuming: item.copy())
        stored.removeMember("etag", at: ["metadata"])
        canonical = stored.canonicalBytes()
        hash = ContentHash(of: canonical)
    }

    public init(ref: EntityRef, uid: String?, etag: String?, canonical: [UInt8]) {
        self.ref = ref
        self.uid = uid
        self.etag = etag
        self.canonical = canonical
        self.hash = ContentHash(of: canonical)
    }
}
