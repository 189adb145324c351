import FakeServers
import Fetch
import Store
import XCTest

/// The etag-first scan reads each entity's ref, uid and etag in place from the projected pages.
final class ScanTests: XCTestCase {
    func testScanPagesGiveEveryRefWithItsUidAndEtag() throws {
        var catalog = FakeBackstage.generateCatalog(count: 120, seed: 9)
        // Backstage keeps names' case and may omit the namespace: the ref is lower-case, `default`.
        catalog.append(["apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                        "metadata": ["name": "Mixed-Case", "uid": "u-mixed"], "spec": ["type": "service"]])
        let backstage = try FakeBackstage(entities: catalog)
        defer { backstage.stop() }
        let expected = Dictionary(uniqueKeysWithValues: backstage.allEntities.compactMap { entity -> (String, (String?, String?))? in
            guard entity["kind"]?.stringValue?.lowercased() == "component",
                  let ref = (try? CanonicalJSON.parse(FakeJSON.bytes(entity))).flatMap(EntityRef.init(entity:)) else { return nil }
            return (ref.description, (entity[path: ["metadata", "uid"]]?.stringValue, entity[path: ["metadata", "etag"]]?.stringValue))
        })
        XCTAssertNotNil(expected["component:default/mixed-case"])

        let client = try BackstageClient(baseURL: backstage.baseURL, token: nil, pageSize: 7)
        var seen: [String: (String?, String?)] = [:]
        var pages = 0
        try client.scan(kind: "Component") { page in
            pages += 1
            for item in 0..<page.count {
                let identity = page.withIdentity(at: item) { uid, etag in
                    (uid.map { String(decoding: $0, as: UTF8.self) }, etag.map { String(decoding: $0, as: UTF8.self) })
                }
                XCTAssertNil(seen.updateValue(identity, forKey: page.ref(at: item).description), "each ref once")
            }
        }
        XCTAssertGreaterThan(pages, 2)
        XCTAssertEqual(Set(seen.keys), Set(expected.keys))
        for (ref, identity) in expected {
            XCTAssertEqual(seen[ref]?.0, identity.0, ref)
            XCTAssertEqual(seen[ref]?.1, identity.1, ref)
            XCTAssertNotNil(identity.1, "the fake stamps an etag on \(ref)")
        }
    }
}
