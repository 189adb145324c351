@testable import FakeServers
import Foundation
import XCTest

/// The generated catalog: deterministic, realistic, internally consistent.
final class CatalogGeneratorTests: XCTestCase {
    private static let catalog = FakeBackstage.generateCatalog(count: 2000, seed: 11)

    func testSameSeedSameCatalog() {
        let again = FakeBackstage.generateCatalog(count: 2000, seed: 11)
        XCTAssertEqual(again, Self.catalog)
        XCTAssertNotEqual(FakeBackstage.generateCatalog(count: 2000, seed: 12), Self.catalog)
        XCTAssertEqual(FakeBackstage.generateCatalog(count: 0, seed: 1).count, 0)
        XCTAssertEqual(FakeBackstage.generateCatalog(count: 1, seed: 1).count, 1)
        XCTAssertEqual(FakeBackstage.generateCatalog(count: 7, seed: 1).count, 7)
    }

    func testKindMixAndSize() {
        var kinds: [String: Int] = [:]
        for entity in Self.catalog { kinds[entity["kind"]?.stringValue ?? "", default: 0] += 1 }
        XCTAssertEqual(kinds, ["Component": 1000, "API": 300, "User": 400, "Group": 100, "System": 100,
                               "Resource": 60, "Domain": 40])
        let bytes = Self.catalog.reduce(0) { $0 + FakeJSON.bytes($1).count }
        let average = bytes / Self.catalog.count
        print("generated catalog: \(average) bytes per entity on average")
        XCTAssertTrue((1400...2100).contains(average), "average \(average)")
    }

    func testUIDsAreUniqueV4AndEtagsAreBackstageHashes() throws {
        var uids = Set<String>()
        for entity in Self.catalog.prefix(300) {
            let uid = try XCTUnwrap(entity[path: ["metadata", "uid"]]?.stringValue)
            XCTAssertNotNil(UUID(uuidString: uid))
            XCTAssertEqual(Array(uid)[14], "4")
            XCTAssertTrue("89ab".contains(Array(uid)[19]))
            XCTAssertEqual(uid, uid.lowercased())
            uids.insert(uid)
            if uids.count <= 20 {
                XCTAssertEqual(entity[path: ["metadata", "etag"]]?.stringValue, try SampleEntities.etag(of: entity))
            }
        }
        XCTAssertEqual(uids.count, 300)
        XCTAssertEqual(Set(Self.catalog.compactMap { $0[path: ["metadata", "uid"]]?.stringValue }).count, 2000)
    }

    func testRelationsAreSortedLowercaseAndPaired() throws {
        let refs = Set(Self.catalog.compactMap { SampleEntities.ref(of: $0) })
        var relations: [String: Set<String>] = [:]
        for entity in Self.catalog {
            let ref = try XCTUnwrap(SampleEntities.ref(of: entity))
            let list = entity["relations"]?.arrayValue ?? []
            let pairs = list.map { ($0["type"]?.stringValue ?? "", $0["targetRef"]?.stringValue ?? "") }
            XCTAssertEqual(pairs.map { "\($0.0) \($0.1)" }, pairs.sorted { $0 < $1 }.map { "\($0.0) \($0.1)" })
            for (type, target) in pairs {
                XCTAssertEqual(target, target.lowercased())
                XCTAssertNotNil(RelationTypes.reverse[type], type)
                relations[ref, default: []].insert("\(type) \(target)")
            }
        }
        var dangling = 0
        for (source, list) in relations {
            for relation in list {
                let parts = relation.split(separator: " ").map(String.init)
                guard refs.contains(parts[1]) else {
                    dangling += 1
                    continue
                }
                let reverse = "\(RelationTypes.reverse[parts[0]] ?? "") \(source)"
                XCTAssertTrue(relations[parts[1]]?.contains(reverse) == true, "\(source) \(relation) has no \(reverse)")
            }
        }
        XCTAssertGreaterThan(dangling, 0, "some dangling refs, as in real catalogs")
        let types = Set(relations.values.flatMap { $0.map { String($0.split(separator: " ")[0]) } })
        XCTAssertEqual(types, Set(RelationTypes.reverse.keys))
    }

    func testEntitiesLookLikeBackstageOutput() throws {
        let component = try XCTUnwrap(Self.catalog.first { $0["kind"] == "Component" && $0[path: ["spec", "system"]] != nil })
        XCTAssertEqual(component["apiVersion"], "backstage.io/v1alpha1")
        XCTAssertNotNil(component[path: ["metadata", "annotations", "backstage.io/managed-by-location"]]?.stringValue)
        XCTAssertNotNil(component[path: ["metadata", "description"]]?.stringValue)
        XCTAssertNotNil(component[path: ["metadata", "links"]]?.arrayValue?.first?["url"]?.stringValue)
        XCTAssertNotNil(component[path: ["spec", "owner"]]?.stringValue)
        let user = try XCTUnwrap(Self.catalog.first { $0["kind"] == "User" })
        XCTAssertNotNil(user[path: ["spec", "memberOf"]]?.arrayValue)
        XCTAssertNotNil(user[path: ["spec", "profile", "email"]]?.stringValue)
        XCTAssertTrue(Self.catalog.contains { $0[path: ["metadata", "namespace"]] != "default" })
    }
}

/// The fakes write JSON as `JSON.stringify` does (Backstage is a Node service), keys sorted.
final class FakeJSONTests: XCTestCase {
    func testNumbersAndStringsAreWrittenAsJavaScriptWritesThem() {
        // Expected texts are what Node prints for `JSON.stringify` of the same values.
        let numbers: [(Double, String)] = [
            (0, "0"), (-0.0, "0"), (1, "1"), (-1, "-1"), (1.5, "1.5"), (0.1, "0.1"), (1e15, "1000000000000000"),
            (1e16, "10000000000000000"), (123456789012345, "123456789012345"), (1e20, "100000000000000000000"),
            (1e21, "1e+21"), (1.5e300, "1.5e+300"), (0.000001, "0.000001"), (1e-7, "1e-7"), (1.25e-8, "1.25e-8"),
            (1.2345678901234567e19, "12345678901234567000"), (-2.5e-7, "-2.5e-7"), (Double.leastNonzeroMagnitude, "5e-324"),
            (Double.infinity, "null"),
        ]
        for (number, text) in numbers {
            XCTAssertEqual(FakeJSON.string(.number(number)), text, "\(number)")
        }
        let edge: FakeJSON = [
            "strings": ["", "quote\" backslash\\ slash/", "\u{01}\u{08}\u{09}\u{0A}\u{0C}\u{0D}\u{1F}\u{7F}", "é 日本 🚀"],
            "keys": ["b": 1, "a": 2, "B": 3, "é": 4, "e": 5, "aa": 6],
            "literals": [true, false, nil],
        ]
        XCTAssertEqual(FakeJSON.string(edge), #"{"keys":{"B":3,"a":2,"aa":6,"b":1,"e":5,"é":4},"literals":[true,false,null],"#
            + #""strings":["","quote\" backslash\\ slash/","\u0001\b\t\n\f\r\u001f\#u{7F}","é 日本 🚀"]}"#)
    }

    func testParsingReadsBackWhatIsWritten() throws {
        for entity in FakeBackstage.generateCatalog(count: 50, seed: 5) {
            XCTAssertEqual(try FakeJSON.parse(FakeJSON.bytes(entity)), entity)
        }
        XCTAssertEqual(try FakeJSON.parse(Array(#"[1, true, "1", null, {"a": 0.5}]"#.utf8)), [1, true, "1", nil, ["a": 0.5]])
        XCTAssertThrowsError(try FakeJSON.parse(Array("{".utf8)))
    }
}

/// The `mirrorctl-fakes backstage` command line and the admin routes it turns on.
final class FakeBackstageCommandTests: XCTestCase {
    func testOptions() throws {
        let options = try FakeBackstageCommandOptions(arguments: ["--entities", "500", "--seed", "9", "--token", "abcdefgh", "--port", "0"])
        XCTAssertEqual(options.entities, 500)
        XCTAssertEqual(options.seed, 9)
        XCTAssertEqual(options.tokens, ["abcdefgh"])
        XCTAssertThrowsError(try FakeBackstageCommandOptions(arguments: []))
        XCTAssertThrowsError(try FakeBackstageCommandOptions(arguments: ["--entities", "x"]))
        XCTAssertThrowsError(try FakeBackstageCommandOptions(arguments: ["--entities", "1", "--bogus"]))
        XCTAssertTrue(try FakeBackstageCommandOptions(arguments: ["--help"]).help)
    }

    func testAdminRoutes() throws {
        var configuration = FakeBackstage.Configuration(tokens: ["abcdefgh"])
        configuration.adminRoutes = true
        let fake = try FakeBackstage(configuration: configuration, entities: FakeBackstage.generateCatalog(count: 100, seed: 1))
        defer { fake.stop() }
        let client = try RawHTTPClient(port: fake.port)
        XCTAssertEqual(try client.request("GET", "/api/catalog/entities/by-query", headers: ["Authorization": "Bearer abcdefgh"]).status, 200)

        let mutated = try client.request("POST", "/admin/mutate?percent=5&seed=2").object()
        XCTAssertEqual(mutated["mutated"] as? Int, 5)
        let stats = try client.request("GET", "/admin/stats").object()
        XCTAssertEqual(stats["requests"] as? Int, 1, "admin requests are not counted")
        XCTAssertGreaterThan(stats["bytes"] as? Int ?? 0, 0)
        XCTAssertEqual(try client.request("POST", "/admin/reset-stats").status, 200)
        XCTAssertEqual(try client.request("GET", "/admin/stats").object()["requests"] as? Int, 0)
    }
}
