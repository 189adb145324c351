import CCrypto

/// The SHA-256 of a canonical JSON text, as 64 lower-case hex digits. Entity bodies are stored once
/// per content hash, and the ledger compares mapped Port entities by it.
public struct ContentHash: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let hex: String

    public init(hex: String) {
        self.hex = hex
    }

    /// Hashes raw bytes. The corresponding C function is `SHA256`.
    public init(of bytes: [UInt8]) {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { input in
            _ = SHA256(input.baseAddress, input.count, &digest)
        }
        hex = ContentHash.hexString(digest)
    }

    /// Hashes the canonical form of a JSON value.
    public init(canonicalOf value: JSONValue) {
        self.init(of: CanonicalJSON.bytes(value))
    }

    private static let digits = Array("0123456789abcdef".utf8)

    static func hexString(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }
    public var short: String { String(hex.prefix(12)) }

    public static func < (lhs: ContentHash, rhs: ContentHash) -> Bool { lhs.hex < rhs.hex }
}
