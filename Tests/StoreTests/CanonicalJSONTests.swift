import Store
import XCTest

final class CanonicalJSONTests: XCTestCase {
    /// Fixed vectors: the canonical form and hash must never drift, or every mirror re-hashes.
    func testFixedVectors() throws {
        let vectors: [(String, String)] = [
            (#"{"b": 1, "a": [true, null, 1.5, "x"]}"#, #"{"a":[true,null,1.5,"x"],"b":1}"#),
            (#"{"z":{"y":2,"x":1},"a":"é\n\"q\""}"#, #"{"a":"é\n\"q\"","z":{"x":1,"y":2}}"#),
            ("[1.0, 100, 1e3, -0.25, 12345678901234]", "[1,100,1000,-0.25,12345678901234]"),
            (#""\u0001\t""#, #""\u0001\t""#),
            ("{}", "{}"),
        ]
        for (input, expected) in vectors {
            XCTAssertEqual(String(decoding: try JQValue.parse(input).canonicalBytes(), as: UTF8.self), expected, input)
        }
        XCTAssertEqual(ContentHash(of: Array(#"{"a":1}"#.utf8)).hex,
                       "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862")
        XCTAssertEqual(ContentHash(canonicalOf: ["b": 1, "a": 2]), ContentHash(of: Array(#"{"a":2,"b":1}"#.utf8)))
    }

    func testContentHashRoundTripsThroughHex() {
        let hash = ContentHash(of: Array("mirror".utf8))
        XCTAssertEqual(ContentHash(hex: hash.hex), hash)
        XCTAssertEqual(hash.hex.count, 64)
        XCTAssertEqual(hash.short, String(hash.hex.prefix(12)))
        // A damaged stored hash never equals a real one.
        XCTAssertNotEqual(ContentHash(hex: "not-a-digest"), hash)
        XCTAssertNotEqual(ContentHash(hex: String(hash.hex.dropLast())), hash)
        XCTAssertEqual(ContentHash(hex: "not-a-digest"), ContentHash(hex: "not-a-digest"))
        // Only lower-case digits are a digest; every other byte (each word's edges included) is not.
        XCTAssertNotEqual(ContentHash(hex: hash.hex.uppercased()), hash)
        for offset in [0, 15, 16, 63] {
            for wrong in ["g", "/", ":", "`", "G"] {
                var bytes = Array(hash.hex.utf8)
                bytes[offset] = UInt8(ascii: Unicode.Scalar(wrong)!)
                XCTAssertNotEqual(ContentHash(hex: String(decoding: bytes, as: UTF8.self)), hash, "\(wrong) at \(offset)")
            }
        }
        // The raw-bytes form (database columns read in place) parses the same way.
        let digits = Array(hash.hex.utf8)
        XCTAssertEqual(digits.withUnsafeBufferPointer { ContentHash(hex: $0) }, hash)
        XCTAssertEqual(Array("not-a-digest".utf8).withUnsafeBufferPointer { ContentHash(hex: $0) }, ContentHash(hex: "not-a-digest"))
    }

    func testSwiftAndJQRepresentationsAgree() throws {
        let value: JSONValue = ["kind": "Component", "n": 3, "list": [1, "two", nil, false], "o": ["k": 0.5]]
        let text = CanonicalJSON.string(value)
        XCTAssertEqual(try CanonicalJSON.parse(text), value)
        XCTAssertEqual(text, #"{"kind":"Component","list":[1,"two",null,false],"n":3,"o":{"k":0.5}}"#)
    }

    func testInvalidJSONNamesThePosition() {
        XCTAssertThrowsError(try JQValue.parse(#"{"items": [1, 2"#)) { error in
            XCTAssertTrue("\(error)".contains("Unfinished"), "\(error)")
        }
        XCTAssertThrowsError(try JQValue.parse("<html>bad gateway</html>"))
        XCTAssertThrowsError(try JQValue.parse(""))
    }

    func testSnapshotEntityDropsEtagAndKeepsTheRest() throws {
        let item = try JQValue.parse(#"{"kind":"Component","metadata":{"name":"Web","etag":"e1","uid":"u1"},"spec":{}}"#)
        let entity = try SnapshotEntity(item: item)
        XCTAssertEqual(entity.ref.description, "component:default/web")
        XCTAssertEqual(entity.etag, "e1")
        XCTAssertEqual(entity.uid, "u1")
        XCTAssertEqual(entity.body.text,
                       #"{"kind":"Component","metadata":{"name":"Web","uid":"u1"},"spec":{}}"#)
        // The page item itself is untouched.
        XCTAssertEqual(item.member("metadata")?.member("etag")?.stringValue, "e1")
        let other = try SnapshotEntity(item: try JQValue.parse(#"{"metadata":{"uid":"u1","name":"Web","etag":"e2"},"spec":{},"kind":"Component"}"#))
        XCTAssertEqual(other.body.hash, entity.body.hash, "etag and key order must not change the content hash")
    }

    func testSnapshotEntityRejectsMalformedItems() {
        for text in ["[]", "42", #"{"metadata":{"name":"x"}}"#, #"{"kind":"Component"}"#, #"{"kind":"Component","metadata":{"name":""}}"#] {
            XCTAssertThrowsError(try SnapshotEntity(item: try JQValue.parse(text)), text)
        }
    }

    func testEntityRefParsing() {
        XCTAssertEqual(EntityRef(parsing: "Component:Default/Artist-Web")?.description, "component:default/artist-web")
        XCTAssertEqual(EntityRef(parsing: "team-a", defaultKind: "group", defaultNamespace: "ops")?.description, "group:ops/team-a")
        XCTAssertEqual(EntityRef(parsing: "user:jdoe")?.description, "user:default/jdoe")
        XCTAssertNil(EntityRef(parsing: "no-kind"))
        XCTAssertNil(EntityRef(parsing: "a:b/c/d"))
        XCTAssertNil(EntityRef(parsing: "component:"))
        XCTAssertEqual(EntityRef(kind: "API", namespace: nil, name: "X").description, "api:default/x")
        XCTAssertEqual(EntityRef(kind: "API", namespace: "", name: "X").description, "api:default/x")
    }

    /// One rule reads a ref off an entity, parsed (a by-refs answer) or a Swift value: a namespace
    /// absent or null is `default`, one of another type names no ref.
    func testEntityRefOfAnEntity() throws {
        let cases: [(String, String?)] = [
            (#"{"kind":"API","metadata":{"name":"Orders","namespace":"Shop"}}"#, "api:shop/orders"),
            (#"{"kind":"API","metadata":{"name":"Orders"}}"#, "api:default/orders"),
            (#"{"kind":"API","metadata":{"name":"Orders","namespace":null}}"#, "api:default/orders"),
            (#"{"kind":"API","metadata":{"name":"Orders","namespace":7}}"#, nil),
            (#"{"kind":"API","metadata":{"name":7}}"#, nil),
            (#"{"metadata":{"name":"Orders"}}"#, nil),
            (#"{"kind":"API","metadata":"Orders"}"#, nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(EntityRef(entity: try JQValue.parse(text))?.description, expected, text)
            XCTAssertEqual(EntityRef(entity: try CanonicalJSON.parse(text))?.description, expected, text)
        }
    }

    /// A canonical body keeps the bytes it was made from and their content hash.
    func testCanonicalBodyHashesItsBytesOnce() {
        let bytes = Array(#"{"kind":"API"}"#.utf8)
        let body = CanonicalBody(bytes)
        XCTAssertEqual(body.bytes, bytes)
        XCTAssertEqual(body.hash, ContentHash(of: bytes))
        XCTAssertEqual(body.text, #"{"kind":"API"}"#)
    }
}
