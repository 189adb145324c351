import FakeServers
import Foundation
@testable import Store
import XCTest

/// Hostile and malformed input, end to end: odd entities in Backstage's pages, mappings that are
/// invalid or try to run forever. None may crash mirrorctl; each gets a clear message naming the
/// entity, file or field; valid entities of the same run still sync.
final class HostileInputTests: PortBackedCase {
    var inputs = 0

    override func tearDownWithError() throws {
        PortBackedCase.reportFigures(inputs: inputs)
        try super.tearDownWithError()
    }

    static func component(_ name: String, description: String = "fine", extra: String = "") -> String {
        let escapedName = String(decoding: CanonicalJSON.bytes(.string(name)), as: UTF8.self)
        let escapedDescription = String(decoding: CanonicalJSON.bytes(.string(description)), as: UTF8.self)
        return """
            {"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":\(escapedName),"namespace":"default","description":\(escapedDescription)},"spec":{"type":"service","lifecycle":"production"\(extra)}}
            """
    }

    func testOddEntitiesAreSkippedOrRefusedOneByOneAndTheRestSync() throws {
        let longName = String(repeating: "long", count: 300)
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        let items: [String] = [
            Self.component("good-1", description: "first copy"),
            "42", "\"a string\"", "null", "[1,2]", "true", "{}",
            #"{"kind":"Component","metadata":{"namespace":"default"}}"#,
            #"{"kind":"Component","metadata":{"name":17}}"#,
            Self.component("good-2"),
            Self.component("50%-off"),
            Self.component("jürgen-研究"),
            Self.component(".."),
            Self.component(longName),
            Self.component("slash/in-name"),
            Self.component("colon:in-name"),
            Self.component("big", description: String(repeating: "x", count: 2 << 20)),
            Self.component("huge", description: String(repeating: "x", count: 5 << 20)),
            Self.component("deep", extra: #","deep":"# + deep),
            Self.component("good-1", description: "second copy wins"),
            Self.component("good-3"),
        ]
        inputs += items.count
        let system = #"{"apiVersion":"backstage.io/v1alpha1","kind":"System","metadata":{"name":"calm","namespace":"default"},"spec":{"owner":"group:default/nobody"}}"#
        let raw = try RawBackstage(pages: ["component": items, "system": [system]])
        defer { raw.stop() }
        environment["BACKSTAGE_URL"] = raw.baseURL

        let run = try mirrorctl(["sync", "--json", "--kind", "Component", "--kind", "System"], timeout: 180)
        // The deep item is unreadable: components are incomplete (no deletes for them), the run partial.
        XCTAssertEqual(run.status, 3, run.stderr)
        XCTAssertTrue((run.json?["error"]?.stringValue ?? "").contains("1 item could not be parsed (Exceeds depth limit for parsing"), run.stdout)
        XCTAssertTrue(run.stderr.contains("skipped an item: item could not be read: Exceeds depth limit for parsing"), run.stderr)
        XCTAssertNotNil(port.entity(blueprint: "system", identifier: "system:default/calm"))
        XCTAssertFalse(run.stderr.contains("Fatal error"), run.stderr)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.allSatisfy { $0.count < 1_000 }, "every message fits on one line: \(lines.map(\.count).max() ?? 0) characters")

        // Valid and Port-acceptable entities are in Port, the last copy of a duplicate wins.
        for name in ["good-1", "good-2", "good-3", "jürgen-研究", ".."] {
            XCTAssertNotNil(port.entity(blueprint: "component", identifier: "component:default/\(name)"), "\(name) synced; \(run.stderr)")
        }
        XCTAssertEqual(port.entity(blueprint: "component", identifier: "component:default/good-1")?.properties["description"], "second copy wins")
        // Port would refuse these: not sent, named, pending.
        for (name, reason) in [("50%-off", "contains \"%\""), (String(longName.prefix(40)), "1218 characters long, over Port's limit of 1000"),
                               ("big", "over Port's 1 MiB request limit")] {
            XCTAssertTrue(lines.contains { $0.contains("component:default/\(name)") && $0.contains(reason) }, "\(name): \(run.stderr)")
        }
        XCTAssertNil(port.entity(blueprint: "component", identifier: "component:default/50%-off"))
        // Over the per-entity limit: refused on the way in, never stored.
        XCTAssertTrue(lines.contains { $0.contains("over the per-entity limit of 4 MiB (--max-entity-size)") }, run.stderr)
        XCTAssertNil(port.entity(blueprint: "component", identifier: "component:default/huge"))
        // Items that are not entities are skipped with the reason.
        XCTAssertTrue(run.stderr.contains("item is a number, not an entity object"), run.stderr)
        XCTAssertTrue(run.stderr.contains("item is an array, not an entity object"), run.stderr)
        XCTAssertTrue(run.stderr.contains("item has no string metadata.name"), run.stderr)
        // Names that break the ref syntax are refused by name.
        XCTAssertTrue(lines.contains { $0.contains("slash/in-name") }, run.stderr)
        XCTAssertNil(port.entity(blueprint: "component", identifier: "component:default/slash/in-name"))

        // The next run sends only what is still pending, and doesn't crash either.
        port.resetLog()
        let again = try mirrorctl(["sync", "--json", "--kind", "Component", "--kind", "System"], timeout: 180)
        XCTAssertEqual(again.status, 3, again.stderr)
        XCTAssertEqual(port.writeRequests, 0, "refused entities are not sent: \(port.requestLog.map(\.path))")
        try assertIntegrity()
    }

    func testInvalidMappingsAreRefusedBeforeAnythingIsFetched() throws {
        let component = { (mappings: String) in { [self] in try writeComponentMapping("mapping.yaml", mappings: mappings) } }
        let text = { (yaml: String) in { [self] in try writeFile("mapping.yaml", yaml) } }
        let cases: [(name: String, write: () throws -> String, expect: [String])] = [
            ("syntax", text("resources:\n  - kind: component\n    selector: {query: 'true'\n"), ["mapping.yaml"]),
            ("unknown key", component("identifier: .metadata.identifier\nblueprint: '\"component\"'\ncolour: '\"red\"'"), ["colour"]),
            ("alias bomb", text(MappingFiles.aliasBomb), ["alias bomb"]),
            ("jq syntax", component("identifier: .metadata.identifier\nblueprint: '\"component\"'\ntitle: '.metadata.name |'"),
             ["title", "does not compile"]),
            ("jq 1.7 only", component("identifier: .metadata.identifier\nblueprint: '\"component\"'\ntitle: 'pick(.a)'"), ["title", "pick"]),
            ("not a mapping", text("- just\n- a list\n"), ["mapping.yaml"]),
            ("empty", text(""), ["mapping.yaml"]),
            ("binary", text("\u{0}\u{1}\u{2}garbage\u{FFFF}"), ["mapping.yaml"]),
        ]
        for item in cases {
            inputs += 1
            let path = try item.write()
            backstage.resetStats()
            let result = try mirrorctl(["sync", "--mapping", path])
            XCTAssertEqual(result.status, 2, "\(item.name): \(result.stderr)")
            let message = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(message.hasPrefix("mirrorctl: "), "\(item.name): \(message)")
            for fragment in item.expect { XCTAssertTrue(message.contains(fragment), "\(item.name): \(message)") }
            XCTAssertEqual(backstage.stats.requests, 0, "\(item.name): nothing fetched")
        }
        XCTAssertEqual(try runCount(), 0, "no run was recorded")
    }

    func testANonBooleanSelectorIsAnErrorPerEntityAndBlocksDeletes() throws {
        // An entity no relation points at, so nothing but the selector errors keeps it.
        try backstage.upsert(["apiVersion": "backstage.io/v1alpha1", "kind": "Resource",
                              "metadata": ["name": "lonely-bucket", "namespace": "default"], "spec": ["type": "s3-bucket"]])
        assertStatus(try mirrorctl(["sync"]), 0)
        inputs += 1
        let yaml = try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/builtin.yaml"), encoding: .utf8)
        let nonBoolean = yaml.replacingOccurrences(of: "- kind: component\n  selector:\n    query: 'true'",
                                                   with: "- kind: component\n  selector:\n    query: .metadata.name")
        XCTAssertNotEqual(nonBoolean, yaml)
        let path = try writeFile("mapping.yaml", nonBoolean)
        let victim = try XCTUnwrap(port.entity(blueprint: "resource", identifier: "resource:default/lonely-bucket"))
        XCTAssertTrue(backstage.delete(try XCTUnwrap(EntityRef(parsing: victim.identifier))))
        let run = try mirrorctl(["sync", "--json", "--mapping", path])
        XCTAssertTrue(run.stderr.contains("must yield a boolean, got string"), run.stderr)
        XCTAssertTrue(run.stderr.contains("e.g. component:"), "one example entity: \(run.stderr)")
        XCTAssertEqual(count(run, "port", "deleted"), 0, "no deletes while a selector errors")
        XCTAssertNotNil(port.entity(blueprint: victim.blueprint, identifier: victim.identifier))
    }

    func testRunawayJqIsStoppedNamingTheEntityFieldAndExpression() throws {
        let cases: [(expression: String, flags: [String], limit: String)] = [
            ("def f: f; f", ["--jq-timeout", "1"], "ran longer than 1s of CPU"),
            ("[range(1e9)] | length", ["--jq-timeout", "1"], "ran longer than 1s of CPU"),
            ("[repeat(.)] | length", ["--jq-timeout", "1"], "ran longer than 1s of CPU"),
            ("def f: [f]; f", ["--jq-timeout", "30"], "allocated more than 512 MiB"),
        ]
        for item in cases {
            inputs += 1
            let path = try writeComponentMapping("mapping.yaml", mappings: """
                identifier: .metadata.identifier
                title: .metadata.name
                blueprint: '"component"'
                properties:
                  type: .spec.type
                  loop: '\(item.expression)'
                """)
            let started = Date()
            let result = try mirrorctl(["sync", "--mapping", path] + item.flags, timeout: 60)
            XCTAssertEqual(result.status, 2, "\(item.expression): \(result.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 20, item.expression)
            let message = result.stderr
            XCTAssertTrue(message.contains("mapping component:"), message)
            XCTAssertTrue(message.contains("properties.loop: jq expression `\(item.expression)` \(item.limit)"), message)
            XCTAssertTrue(message.contains("nothing was written"), message)
            XCTAssertEqual(try runCount(), 0, "the run was not committed")
            XCTAssertEqual(port.writeRequests, 0)
        }
        // The database is sound and the next run with a sane mapping works.
        assertStatus(try mirrorctl(["sync"]), 0)
        try assertIntegrity()
    }

    private func runCount() throws -> Int {
        guard FileManager.default.fileExists(atPath: databasePath) else { return 0 }
        return try MirrorStore(path: databasePath, readOnly: true).db.row("SELECT count(*) FROM runs WHERE command = 'sync'")?.int(0) ?? 0
    }
}

/// Hostile mapping texts.
enum MappingFiles {
    /// The "billion laughs": nine levels of nine aliases.
    static var aliasBomb: String {
        var lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...9 {
            let previous = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            lines.append("a\(level): &a\(level) [\(previous)]")
        }
        lines.append("resources: []")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A Backstage that serves whatever page text it is given, one page per kind, for items the
/// regular fake can't hold (non-objects, duplicates, unparseable names, deep nesting).
final class RawBackstage: @unchecked Sendable {
    private var server: HTTPServer?

    /// `pages`: lower-cased kind → the raw JSON texts of its items.
    init(pages: [String: [String]]) throws {
        let bodies = pages.mapValues { items in
            Data(#"{"items":[\#(items.joined(separator: ","))],"totalItems":\#(items.count),"pageInfo":{}}"#.utf8)
        }
        server = try HTTPServer { request in
            guard request.path.hasSuffix("/entities/by-query") else { return HTTPResponse(status: 404) }
            let filter = request.queryValue("filter") ?? ""
            let kind = filter.hasPrefix("kind=") ? String(filter.dropFirst(5)).lowercased() : ""
            let body = bodies[kind] ?? Data(#"{"items":[],"totalItems":0,"pageInfo":{}}"#.utf8)
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
        }
    }

    var baseURL: String { server?.baseURL ?? "" }

    func stop() { server?.stop() }
}
