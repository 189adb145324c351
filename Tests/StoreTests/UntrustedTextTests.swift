import Store
import XCTest

/// The rules for text from servers: how it is shown, what is masked, which identities are refused.
final class UntrustedTextTests: XCTestCase {
    func testEveryControlCharacterIsShownEscapedAndNothingElseChanges() {
        XCTAssertEqual(TerminalText.escape("a\u{1B}]0;title\u{07}\r\nb\tc\u{7F}\u{85}"), #"a\x1b]0;title\x07\r\nb\tc\x7f\x85"#)
        XCTAssertEqual(TerminalText.escape("\u{0}"), #"\x00"#)
        let plain = "jürgen-研究 ✓ \\x1b"
        XCTAssertEqual(TerminalText.escape(plain), plain)
        XCTAssertEqual(TerminalText.escapeLines("one\u{1B}[2J\ntwo\r"), "one\\x1b[2J\ntwo\\r", "our own line breaks stay")
        // Escaping is idempotent: what it produces is printable.
        let once = TerminalText.escape("x\u{1B}\u{9B}y")
        XCTAssertEqual(TerminalText.escape(once), once)
    }

    func testRegisteredSecretsAreMaskedInAnyText() {
        let secret = "secret-\(UUID().uuidString)"
        XCTAssertEqual(SecretRedaction.redact("says \(secret)!"), "says \(secret)!", "not yet registered")
        SecretRedaction.register(secret)
        SecretRedaction.register("ab")
        XCTAssertEqual(SecretRedaction.redact("says \(secret)! and \(secret)"), "says ***! and ***")
        XCTAssertEqual(SecretRedaction.redact("ab cd"), "ab cd", "too short to be a secret")
        XCTAssertEqual(SecretRedaction.redact(nil as String?), nil)
    }

    func testSizes() {
        XCTAssertEqual(ByteCount.parse("64MiB"), 64 << 20)
        XCTAssertEqual(ByteCount.parse("4m"), 4 << 20)
        XCTAssertEqual(ByteCount.parse("512 KiB"), 512 << 10)
        XCTAssertEqual(ByteCount.parse("1048576"), 1 << 20)
        XCTAssertNil(ByteCount.parse("lots"))
        XCTAssertNil(ByteCount.parse("-1"))
        XCTAssertEqual(ByteCount.describe(64 << 20), "64 MiB")
        XCTAssertEqual(ByteCount.describe(1536), "1.5 KiB")
        XCTAssertEqual(ByteCount.describe(12), "12 bytes")
    }

    func testIdentitiesWithControlCharactersOrANonStringNamespaceAreRefused() throws {
        func rejection(_ json: String) -> SnapshotEntity.Rejection? {
            guard let item = try? JQValue.parse(Array(json.utf8)) else { return nil }
            do {
                _ = try SnapshotEntity(item: item)
                return nil
            } catch {
                return error
            }
        }
        let nul = try XCTUnwrap(rejection(#"{"kind":"Component","metadata":{"name":"svc-a\u0000evil"}}"#))
        XCTAssertTrue(nul.makesKindIncomplete)
        XCTAssertTrue("\(nul)".contains(#"svc-a\x00evil"#), "\(nul)")
        XCTAssertNotNil(rejection(#"{"kind":"Comp\u001bonent","metadata":{"name":"svc-a"}}"#))
        let namespace = try XCTUnwrap(rejection(#"{"kind":"Component","metadata":{"name":"svc-a","namespace":7}}"#))
        XCTAssertEqual("\(namespace)", "metadata.namespace is a number, not a string")
        XCTAssertNil(rejection(#"{"kind":"Component","metadata":{"name":"svc-a","namespace":null}}"#))
        let item = try JQValue.parse(Array(#"{"kind":"Component","metadata":{"name":"big","description":"\#(String(repeating: "x", count: 5_000))"}}"#.utf8))
        XCTAssertThrowsError(try SnapshotEntity(item: item, maxBytes: 4_096)) { error in
            XCTAssertTrue("\(error)".contains("over the per-entity limit of 4 KiB"), "\(error)")
        }
        XCTAssertEqual(JQValue(.string("a\u{0}b")).stringValue, "a\u{0}b", "a NUL does not cut the text")
    }
}
