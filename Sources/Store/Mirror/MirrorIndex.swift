/// What the mirror knows of one entity: enough to classify a fetched copy without reading bodies.
public struct MirrorEntry: Sendable, Equatable {
    public let kind: String
    public let hash: ContentHash
    public let uid: String?
    public let etag: String?

    public init(kind: String, hash: ContentHash, uid: String?, etag: String?) {
        self.kind = kind
        self.hash = hash
        self.uid = uid
        self.etag = etag
    }
}

/// The per-ref index of the current mirror: the only catalog-sized structure mirrorctl holds in
/// memory during a walk (no bodies).
public struct MirrorIndex: Sendable {
    public private(set) var entries: [String: MirrorEntry]

    public init(entries: [String: MirrorEntry] = [:]) {
        self.entries = entries
    }

    public subscript(ref: String) -> MirrorEntry? { entries[ref] }

    /// Refs of one (lower-case) kind.
    public func refs(ofKind kind: String) -> [String] {
        entries.compactMap { $0.value.kind == kind ? $0.key : nil }
    }

    public var count: Int { entries.count }

    /// How many mirrored entities each (lower-case) kind has.
    public func countsByKind() -> [String: Int] {
        var counts: [String: Int] = [:]
        for entry in entries.values { counts[entry.kind, default: 0] += 1 }
        return counts
    }
}
