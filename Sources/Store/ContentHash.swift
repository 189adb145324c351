import CCrypto

/// The SHA-256 of a canonical JSON text, as 64 lower-case hex digits. Entity bodies are stored once
/// per content hash, and the ledger compares mapped Port entities by it.
public struct ContentHash: Hashable, Sendable, CustomStringConvertible, Comparable {
    // The 32 digest bytes as four big-endian words: the per-ref index holds one per entity, and
    // inline words cost a quarter of a heap-allocated hex string.
    private let w0, w1, w2, w3: UInt64

    /// Parses 64 hex digits, as stored in the database. Text that is not a digest (a damaged
    /// row) gets the digest of the text itself, so it never equals a real content hash and the
    /// entity is simply treated as changed.
    public init(hex: String) {
        var text = hex
        self = text.withUTF8 { ContentHash(hex: $0) }
    }

    /// `init(hex:)` for the digits as raw UTF-8 (a database column read in place).
    public init(hex bytes: UnsafeBufferPointer<UInt8>) {
        if let words = ContentHash.parse(bytes) {
            self.init(words: words)
        } else {
            self.init(of: Array(bytes))
        }
    }

    private init(words: (UInt64, UInt64, UInt64, UInt64)) {
        (w0, w1, w2, w3) = words
    }

    /// The four words of 64 lower-case hex digits; nil for anything else. Every sync parses one
    /// per mirrored entity when it loads the index.
    private static func parse(_ hex: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64, UInt64, UInt64)? {
        guard hex.count == 64 else { return nil }
        func word(_ number: Int) -> UInt64? {
            var word: UInt64 = 0
            for byte in hex[number * 16..<number * 16 + 16] {
                let value: UInt8
                if byte &- UInt8(ascii: "0") < 10 {
                    value = byte &- UInt8(ascii: "0")
                } else if byte &- UInt8(ascii: "a") < 6 {
                    value = byte &- UInt8(ascii: "a") &+ 10
                } else {
                    return nil
                }
                word = word << 4 | UInt64(value)
            }
            return word
        }
        guard let w0 = word(0), let w1 = word(1), let w2 = word(2), let w3 = word(3) else { return nil }
        return (w0, w1, w2, w3)
    }

    /// Hashes raw bytes. The corresponding C function is `SHA256`.
    public init(of bytes: [UInt8]) {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { input in
            _ = SHA256(input.baseAddress, input.count, &digest)
        }
        func word(_ index: Int) -> UInt64 {
            digest[index * 8..<index * 8 + 8].reduce(0) { $0 << 8 | UInt64($1) }
        }
        self.init(words: (word(0), word(1), word(2), word(3)))
    }

    /// 64 lower-case hex digits.
    public var hex: String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 60, through: 0, by: -4) {
                out.append(ContentHash.digits[Int((word >> UInt64(shift)) & 0xf)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hashes the canonical form of a JSON value.
    public init(canonicalOf value: JSONValue) {
        self.init(of: CanonicalJSON.bytes(value))
    }

    private static let digits = Array("0123456789abcdef".utf8)

    public var description: String { hex }
    public var short: String { String(hex.prefix(12)) }

    public static func < (lhs: ContentHash, rhs: ContentHash) -> Bool {
        (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3)
    }
}
