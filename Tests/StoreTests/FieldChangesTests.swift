import Foundation
import XCTest
@testable import Store

/// The field-change rule (`FieldChanges`) and its SQL twin (`v_field_changes`), which must agree.
final class FieldChangesTests: TemporaryDirectoryCase {
    func change(_ path: String, _ old: JSONValue?, _ new: JSONValue?) -> FieldChange {
        FieldChange(path: path, old: old, new: new)
    }

    func testAnEditListsTheLeavesItTouchedWithBothValues() {
        let old: JSONValue = ["metadata": ["annotations": ["backstage.io/techdocs-ref": "dir:."], "tags": ["a", "b"]],
                              "spec": ["owner": "team-a", "x": "s", "empty": [:], "list": []]]
        let new: JSONValue = ["metadata": ["annotations": ["backstage.io/techdocs-ref": "url:x"], "tags": ["a", "c", "d"]],
                              "spec": ["owner": "team-b", "x": ["y": 1], "empty": ["z": nil], "list": []]]
        XCTAssertEqual(FieldChanges.between(old, new), [
            change(#"metadata.annotations["backstage.io/techdocs-ref"]"#, "dir:.", "url:x"),
            change("metadata.tags[1]", "b", "c"),
            change("metadata.tags[2]", nil, "d"),
            change("spec.empty", [:], ["z": nil]),
            change("spec.empty.z", nil, .null),
            change("spec.owner", "team-a", "team-b"),
            change("spec.x", "s", ["y": 1]),
            change("spec.x.y", nil, 1),
        ])
        XCTAssertEqual(FieldChanges.between(new, new), [])
        XCTAssertEqual(FieldChanges.between(["a": [1, 2, 3]], ["a": [1]]), [change("a[1]", 2, nil), change("a[2]", 3, nil)])
    }

    func testCreationsAndDeletionsListEveryLeaf() {
        let entity: JSONValue = ["kind": "Group", "spec": ["children": [], "profile": ["email": "x@y"]]]
        XCTAssertEqual(FieldChanges.between(nil, entity), [
            change("kind", nil, "Group"), change("spec.children", nil, []), change("spec.profile.email", nil, "x@y"),
        ])
        XCTAssertEqual(FieldChanges.between(entity, nil).map(\.path), ["kind", "spec.children", "spec.profile.email"])
        XCTAssertEqual(FieldChanges.between(nil, nil), [])
    }

    func testPathsQuoteEveryKeyButPlainLettersAndDigitsAndSortIndicesByNumber() {
        let keys = ["A1", "a_b", "1a", "", "é", "x\"y", "a.b", "a b"]
        let new = JSONValue.object(Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.number(1)) }))
        XCTAssertEqual(Set(FieldChanges.between(nil, new).map(\.path)),
                       ["A1", #"["a_b"]"#, #"["1a"]"#, #"[""]"#, #"["é"]"#, #"["x\"y"]"#, #"["a.b"]"#, #"["a b"]"#])
        let list = JSONValue.array((0..<12).map { JSONValue.number(Double($0)) })
        XCTAssertEqual(FieldChanges.between(nil, ["t": list]).map(\.path), (0..<12).map { "t[\($0)]" })
    }

    /// Random pairs of documents through the rule and through the view: the same paths, old and
    /// new values (as canonical JSON text; absent as NULL).
    func testTheSQLViewAgreesWithTheRuleOnARandomCorpus() throws {
        let store = try MirrorStore(path: directory.appendingPathComponent("view.db").path)
        var random = XorShift(seed: 12)
        var expected: [[String?]] = []
        try store.db.transaction {
            try store.db.run("""
                INSERT INTO runs (id, command, started_at, status, source, kinds) VALUES (1, 'sync', '2026-01-01T00:00:00.000Z', 'succeeded', 'test', '[]')
                """)
            for index in 0..<1_000 {
                let old: JSONValue? = index % 10 == 0 ? nil : randomObject(&random, depth: 0)
                let new: JSONValue? = index % 10 == 5 ? nil : (old.map { mutate($0, &random, depth: 0) } ?? randomObject(&random, depth: 0))
                if old == nil && new == nil { continue }
                var hashes: [String?] = []
                for document in [old, new] {
                    guard let document else { hashes.append(nil); continue }
                    let body = CanonicalJSON.string(document)
                    let hash = ContentHash(of: Array(body.utf8)).hex
                    try store.db.run("INSERT OR IGNORE INTO blobs (hash, body) VALUES (?, ?)", [.text(hash), .text(body)])
                    hashes.append(hash)
                }
                let ref = String(format: "component:default/e%04d", index)
                let kind = old == nil ? "created" : (new == nil ? "deleted" : "updated")
                try store.db.run("INSERT INTO changes (run_id, ref, kind, change, old_hash, new_hash) VALUES (1, ?, 'component', ?, ?, ?)",
                                 [.text(ref), .text(kind), hashes[0].map(SQLValue.text) ?? .null, hashes[1].map(SQLValue.text) ?? .null])
                for field in FieldChanges.between(old, new) {
                    expected.append([ref, field.path, field.old.map(CanonicalJSON.string), field.new.map(CanonicalJSON.string)])
                }
            }
        }
        let rows = try store.db.rows("SELECT ref, path, old, new FROM v_field_changes ORDER BY ref, path")
        let actual = rows.map { row in (0..<4).map { row.string($0) } }
        let sort: ([String?], [String?]) -> Bool = { ($0[0] ?? "", $0[1] ?? "") < ($1[0] ?? "", $1[1] ?? "") }
        XCTAssertGreaterThan(expected.count, 1_000)
        XCTAssertEqual(actual.sorted(by: sort), expected.sorted(by: sort))
    }

    /// Keys of every spelling the path rule distinguishes (none holding `"` or `\`, which the
    /// view leaves out by design), values of every JSON type.
    static let keys = ["a", "B2", "spec", "owner", "a_b", "1x", "", "é", "backstage.io/techdocs-ref", "x y", "a.b", "[0]"]

    func randomValue(_ random: inout XorShift, depth: Int) -> JSONValue {
        switch random.next() % (depth < 3 ? 9 : 6) {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2: return .number(Double(Int(random.next() % 2000) - 1000))
        case 3, 4: return .string(["", "x", "team-a", "url:https://e.com/a", "é\n\"q\"", "dir:."][Int(random.next() % 6)])
        case 5: return .number(Double(random.next() % 5) / 2)
        case 6: return .array((0..<Int(random.next() % 4)).map { _ in randomValue(&random, depth: depth + 1) })
        default: return randomObject(&random, depth: depth + 1)
        }
    }

    func randomObject(_ random: inout XorShift, depth: Int) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<Int(random.next() % 5) {
            members[Self.keys[Int(random.next() % UInt64(Self.keys.count))]] = randomValue(&random, depth: depth + 1)
        }
        return .object(members)
    }

    /// A copy of `value` with some members and elements replaced, added or removed.
    func mutate(_ value: JSONValue, _ random: inout XorShift, depth: Int) -> JSONValue {
        if random.next() % 6 == 0 { return randomValue(&random, depth: depth) }
        switch value {
        case .object(var members):
            for key in members.keys where random.next() % 3 == 0 {
                members[key] = random.next() % 4 == 0 ? nil : mutate(members[key] ?? .null, &random, depth: depth + 1)
            }
            if random.next() % 3 == 0 { members[Self.keys[Int(random.next() % UInt64(Self.keys.count))]] = randomValue(&random, depth: depth + 1) }
            return .object(members)
        case .array(var elements):
            elements = elements.map { random.next() % 3 == 0 ? mutate($0, &random, depth: depth + 1) : $0 }
            if random.next() % 3 == 0 { elements.append(randomValue(&random, depth: depth + 1)) }
            if random.next() % 4 == 0, !elements.isEmpty { elements.removeLast() }
            return .array(elements)
        default:
            return value
        }
    }

    /// Resolving a time equal to a run's recorded start names that run, whatever its milliseconds.
    func testATimeEqualToARunsStartNamesThatRun() throws {
        let store = try MirrorStore(path: directory.appendingPathComponent("times.db").path)
        var random = XorShift(seed: 3)
        var starts: [String] = []
        var instant = Date(timeIntervalSince1970: 1_767_225_600)
        try store.db.transaction {
            for run in 1...200 {
                instant = instant.addingTimeInterval(Double(random.next() % 5_000) / 1000 + 0.001)
                let start = Timestamp.string(instant)
                starts.append(start)
                try store.db.run("""
                    INSERT INTO runs (id, command, started_at, status, source, kinds) VALUES (?, 'sync', ?, 'succeeded', 'test', '[]')
                    """, [.int(run), .text(start)])
            }
        }
        for (offset, start) in starts.enumerated() {
            XCTAssertEqual(try store.resolve(.time(try XCTUnwrap(Timestamp.date(start)))), offset + 1, start)
        }
        XCTAssertThrowsError(try store.resolve(.time(try XCTUnwrap(Timestamp.date(starts[0])).addingTimeInterval(-0.001))))
        XCTAssertThrowsError(try store.resolve(.run(201))) { error in
            XCTAssertEqual((error as? SnapshotPointError)?.message.hasPrefix("there is no run 201: runs go from 1 ("), true, "\(error)")
        }
        XCTAssertThrowsError(try store.resolve(.time(Date().addingTimeInterval(3600))))
    }
}

/// A small deterministic generator for the random corpus.
struct XorShift: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
