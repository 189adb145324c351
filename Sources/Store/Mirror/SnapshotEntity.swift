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

        public var description: String {
            switch self {
            case .notAnObject(let type): return "item is a \(type), not an entity object"
            case .missingField(let field): return "item has no string \(field)"
            }
        }
    }

    /// Reads an entity out of a parsed page item. The item itself is left untouched.
    public init(item: JQValue) throws(Rejection) {
        guard item.kind == JV_KIND_OBJECT else { throw .notAnObject(type: String(cString: jv_kind_name(item.kind))) }
        guard let kind = item.member("kind")?.stringValue else { throw .missingField("kind") }
        guard let metadata = item.member("metadata"), metadata.kind == JV_KIND_OBJECT else {
            throw .missingField("metadata")
        }
        guard let name = metadata.member("name")?.stringValue, !name.isEmpty else { throw .missingField("metadata.name") }
        let namespace = metadata.member("namespace")?.stringValue
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
