/// An entity's canonical JSON (the bytes the mirror stores) with its content hash, taken once:
/// the walk builds it from a page item, the mirror stores it under the hash, and the mapping stage
/// reads it back as bytes and parses them, so a body is never re-hashed or turned into a `String`
/// on its way from a page to a mapping.
public struct CanonicalBody: Sendable, Hashable {
    /// The canonical JSON text as UTF-8.
    public let bytes: [UInt8]
    /// The SHA-256 of `bytes`.
    public let hash: ContentHash

    /// Hashes freshly printed canonical JSON.
    public init(_ bytes: [UInt8]) {
        self.init(bytes: bytes, hash: ContentHash(of: bytes))
    }

    /// A body read back from the mirror, whose rows store it under its hash already.
    init(bytes: [UInt8], hash: ContentHash) {
        self.bytes = bytes
        self.hash = hash
    }

    /// The canonical JSON as text (for output: the hot paths keep the bytes).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Hashes the content hash alone: equal bytes have equal digests, and the bytes are long.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
    }
}
