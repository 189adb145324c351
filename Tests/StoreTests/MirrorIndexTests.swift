import Store
import XCTest

final class MirrorIndexTests: XCTestCase {
    func hash(_ text: String) -> ContentHash { ContentHash(of: Array(text.utf8)) }

    func testFindsEveryEntryAfterGrowingAndNothingElse() {
        var index = MirrorIndex()
        // No reserveCapacity: the table rehashes several times on the way.
        for number in 0..<5_000 {
            index.insert(ref: "component:default/service-\(number)", kind: "component", hash: hash("\(number)"),
                         uid: "uid-\(number)", etag: number % 7 == 0 ? nil : "etag-\(number)")
        }
        XCTAssertEqual(index.count, 5_000)
        for number in 0..<5_000 {
            guard let position = index.position(of: "component:default/service-\(number)") else {
                return XCTFail("service-\(number) not found")
            }
            XCTAssertEqual(index.ref(at: position), "component:default/service-\(number)")
            XCTAssertEqual(index.hash(at: position), hash("\(number)"))
            XCTAssertEqual(index[index.ref(at: position)],
                           MirrorEntry(kind: "component", hash: hash("\(number)"), uid: "uid-\(number)",
                                       etag: number % 7 == 0 ? nil : "etag-\(number)"))
        }
        XCTAssertNil(index.position(of: "component:default/service-5000"))
        XCTAssertNil(index.position(of: "component:default/service-"))
        XCTAssertNil(index.position(of: ""))
        XCTAssertNil(MirrorIndex().position(of: "component:default/a"))
    }

    func testIdentityComparesUidAndEtagExactly() throws {
        var index = MirrorIndex()
        index.insert(ref: "user:default/ada", kind: "user", hash: hash("a"), uid: "u1", etag: "e1")
        index.insert(ref: "user:default/bob", kind: "user", hash: hash("b"), uid: "u2", etag: nil)
        let ada = try XCTUnwrap(index.position(of: "user:default/ada"))
        let bob = try XCTUnwrap(index.position(of: "user:default/bob"))
        XCTAssertTrue(index.hasIdentity(at: ada, uid: "u1", etag: "e1"))
        XCTAssertFalse(index.hasIdentity(at: ada, uid: "u1", etag: "e2"))
        XCTAssertFalse(index.hasIdentity(at: ada, uid: "u1", etag: "e11"))
        XCTAssertFalse(index.hasIdentity(at: ada, uid: "u9", etag: "e1"))
        XCTAssertFalse(index.hasIdentity(at: ada, uid: nil, etag: "e1"))
        XCTAssertTrue(index.hasIdentity(at: bob, uid: "u2", etag: nil))
        XCTAssertFalse(index.hasIdentity(at: bob, uid: "u2", etag: ""))
    }

    func testReplacingAnEntryKeepsItsPositionAndMovesItsKind() throws {
        var index = MirrorIndex()
        index.insert(ref: "component:default/a", kind: "component", hash: hash("1"), uid: "u", etag: "e")
        index.insert(ref: "component:default/b", kind: "component", hash: hash("2"), uid: "u", etag: "e")
        let before = try XCTUnwrap(index.position(of: "component:default/a"))
        index.insert(ref: "component:default/a", kind: "api", hash: hash("3"), uid: "v", etag: nil)
        XCTAssertEqual(index.count, 2)
        XCTAssertEqual(index.position(of: "component:default/a"), before)
        XCTAssertEqual(index["component:default/a"], MirrorEntry(kind: "api", hash: hash("3"), uid: "v", etag: nil))
        func refs(ofKind kind: String) -> [String] { index.positions(ofKind: kind).map { index.ref(at: Int($0)) } }
        XCTAssertEqual(refs(ofKind: "component"), ["component:default/b"])
        XCTAssertEqual(refs(ofKind: "api"), ["component:default/a"])
        XCTAssertEqual(index.countsByKind(), ["component": 1, "api": 1])
        XCTAssertEqual(refs(ofKind: "group"), [])
    }

    func testNonASCIIRefsRoundTrip() throws {
        var index = MirrorIndex()
        index.insert(ref: "group:default/équipe-données", kind: "group", hash: hash("g"), uid: "ü", etag: "ß")
        let position = try XCTUnwrap(index.position(of: "group:default/équipe-données"))
        XCTAssertEqual(index.ref(at: position), "group:default/équipe-données")
        XCTAssertTrue(index.hasIdentity(at: position, uid: "ü", etag: "ß"))
        XCTAssertNil(index.position(of: "group:default/equipe-donnees"))
    }
}
