import Foundation

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
///
/// Every sync loads it and a no-change sync does little else, so it is laid out for that: the
/// refs, uids and etags of all entries live back to back in one byte buffer, entries are found
/// by position through an open-addressing table, and a scan compares uid and etag bytes in place.
/// Loading, probing and freeing it then cost a few large allocations instead of three strings
/// per entity. Positions (`0..<count`) are stable for the life of the index.
public struct MirrorIndex: Sendable {
    /// A run of bytes in `text`; `count == .max` stands for a missing value.
    private struct Span: Sendable {
        var start: UInt32
        var count: UInt32
        static let missing = Span(start: 0, count: .max)
    }

    private struct Record: Sendable {
        var ref: Span
        var uid: Span
        var etag: Span
        var hash: ContentHash
        var kind: Int32
    }

    private var text: [UInt8] = []
    private var records: [Record] = []
    /// By hash of the ref: the hash's top 32 bits over position + 1 (0 is an empty slot), so a
    /// probe rejects most other refs without touching their bytes. The count is a power of two.
    private var slots: [UInt64] = []
    /// Distinct (lower-case) kinds, and the positions of each kind's entries.
    private var kinds: [String] = []
    private var positionsByKind: [[Int32]] = []

    public init() {}

    public var count: Int { records.count }

    /// Every entry by ref: a copy for comparisons and tests, not for the hot path.
    public var entries: [String: MirrorEntry] {
        Dictionary(uniqueKeysWithValues: records.indices.map { (ref(at: $0), entry(at: $0)) })
    }

    /// Makes room for `count` entries without rehashing.
    public mutating func reserveCapacity(_ count: Int) {
        records.reserveCapacity(count)
        text.reserveCapacity(count * 128)
        if slots.count < MirrorIndex.slotCount(for: count) { rehash(to: MirrorIndex.slotCount(for: count)) }
    }

    /// Adds an entry, or replaces the one with the same ref.
    public mutating func insert(ref: String, kind: String, hash: ContentHash, uid: String?, etag: String?) {
        var ref = ref, uid = uid, etag = etag
        ref.withUTF8 { refBytes in
            MirrorIndex.withOptionalUTF8(&uid) { uidBytes in
                MirrorIndex.withOptionalUTF8(&etag) { etagBytes in
                    insert(ref: refBytes, kind: kind, hash: hash, uid: uidBytes, etag: etagBytes)
                }
            }
        }
    }

    /// Adds an entry from raw UTF-8 (the database's column bytes, copied here), or replaces the
    /// one with the same ref. `unique`: the caller knows the ref is not in the index yet (the
    /// database's primary key), so the lookup for an existing entry is skipped.
    public mutating func insert(ref: UnsafeBufferPointer<UInt8>, kind: String, hash: ContentHash,
                                uid: UnsafeBufferPointer<UInt8>?, etag: UnsafeBufferPointer<UInt8>?, unique: Bool = false) {
        let kindID = kindNumber(kind)
        let refSpan = append(ref)
        let uidSpan = uid.map { append($0) } ?? .missing
        let etagSpan = etag.map { append($0) } ?? .missing
        let record = Record(ref: refSpan, uid: uidSpan, etag: etagSpan, hash: hash, kind: kindID)
        if !unique, let existing = position(ofBytes: ref) {
            let oldKind = Int(records[existing].kind)
            records[existing] = record
            if oldKind != Int(kindID) {
                positionsByKind[oldKind].removeAll { $0 == Int32(existing) }
                positionsByKind[Int(kindID)].append(Int32(existing))
            }
            return
        }
        if (records.count + 1) * 2 > slots.count { rehash(to: max(16, slots.count * 2)) }
        records.append(record)
        positionsByKind[Int(kindID)].append(Int32(records.count - 1))
        place(records.count - 1, hash: MirrorIndex.hash(ref))
    }

    // MARK: Lookup

    /// The position of `ref`'s entry, if mirrored.
    public func position(of ref: String) -> Int? {
        var ref = ref
        return ref.withUTF8 { position(ofBytes: $0) }
    }

    public subscript(ref: String) -> MirrorEntry? {
        position(of: ref).map(entry(at:))
    }

    public func entry(at position: Int) -> MirrorEntry {
        let record = records[position]
        return MirrorEntry(kind: kinds[Int(record.kind)], hash: record.hash, uid: string(record.uid), etag: string(record.etag))
    }

    public func ref(at position: Int) -> String {
        string(records[position].ref) ?? ""
    }

    public func hash(at position: Int) -> ContentHash {
        records[position].hash
    }

    /// Whether the entry at `position` has exactly this uid and etag (nil matching missing).
    public func hasIdentity(at position: Int, uid: String?, etag: String?) -> Bool {
        var uid = uid, etag = etag
        return MirrorIndex.withOptionalUTF8(&uid) { uidBytes in
            MirrorIndex.withOptionalUTF8(&etag) { etagBytes in hasIdentity(at: position, uidBytes: uidBytes, etagBytes: etagBytes) }
        }
    }

    /// `hasIdentity` for a uid and etag as UTF-8 bytes, compared in place (nil matching missing).
    public func hasIdentity(at position: Int, uidBytes: UnsafeBufferPointer<UInt8>?, etagBytes: UnsafeBufferPointer<UInt8>?) -> Bool {
        let record = records[position]
        return equals(record.uid, uidBytes) && equals(record.etag, etagBytes)
    }

    /// Positions of one (lower-case) kind's entries.
    public func positions(ofKind kind: String) -> [Int32] {
        kinds.firstIndex(of: kind).map { positionsByKind[$0] } ?? []
    }

    /// How many mirrored entities each (lower-case) kind has.
    public func countsByKind() -> [String: Int] {
        var counts: [String: Int] = [:]
        for (number, kind) in kinds.enumerated() where !positionsByKind[number].isEmpty {
            counts[kind] = positionsByKind[number].count
        }
        return counts
    }

    // MARK: Storage

    private mutating func kindNumber(_ kind: String) -> Int32 {
        if let number = kinds.firstIndex(of: kind) { return Int32(number) }
        kinds.append(kind)
        positionsByKind.append([])
        return Int32(kinds.count - 1)
    }

    /// Spans are 32-bit: the index holds up to 4 GB of refs, uids and etags (some 30 million
    /// entities), and traps beyond.
    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Span {
        let span = Span(start: UInt32(text.count), count: UInt32(bytes.count))
        text.append(contentsOf: bytes)
        return span
    }

    private func string(_ span: Span) -> String? {
        guard span.count != .max else { return nil }
        return text.withUnsafeBufferPointer { all in
            String(decoding: UnsafeBufferPointer(rebasing: all[Int(span.start)..<Int(span.start) + Int(span.count)]),
                   as: UTF8.self)
        }
    }

    private func equals(_ span: Span, _ bytes: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let bytes else { return span.count == .max }
        return span.count != .max && equals(span, bytes)
    }

    private func equals(_ span: Span, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Int(span.count) == bytes.count else { return false }
        return text.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress, let other = bytes.baseAddress else { return bytes.isEmpty }
            return memcmp(base + Int(span.start), other, bytes.count) == 0
        }
    }

    private func position(ofBytes ref: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        let hash = MirrorIndex.hash(ref)
        let tag = MirrorIndex.tag(hash)
        var slot = hash & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { return nil }
            let position = Int(truncatingIfNeeded: stored & 0xffff_ffff) - 1
            if stored & ~0xffff_ffff == tag, equals(records[position].ref, ref) { return position }
            slot = (slot + 1) & mask
        }
    }

    private mutating func place(_ position: Int, hash: Int) {
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = MirrorIndex.tag(hash) | UInt64(position + 1)
    }

    private mutating func rehash(to count: Int) {
        slots = [UInt64](repeating: 0, count: count)
        for position in records.indices {
            let span = records[position].ref
            let hash = text.withUnsafeBufferPointer { all in
                MirrorIndex.hash(UnsafeBufferPointer(rebasing: all[Int(span.start)..<Int(span.start) + Int(span.count)]))
            }
            place(position, hash: hash)
        }
    }

    private static func tag(_ hash: Int) -> UInt64 {
        UInt64(UInt(bitPattern: hash)) & ~0xffff_ffff
    }

    /// Twice the entries, rounded up to a power of two: probes stay short.
    private static func slotCount(for count: Int) -> Int {
        var slots = 16
        while slots < count * 2 { slots *= 2 }
        return slots
    }

    /// Swift's per-process seeded hash: refs come from the catalog, so collisions can't be forced.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return hasher.finalize()
    }

    private static func withOptionalUTF8<R>(_ value: inout String?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard var string = value else { return body(nil) }
        defer { value = string }
        return string.withUTF8 { body($0) }
    }
}
