@testable import Reconcile
@testable import Store
import XCTest

/// Identifiers, relation targets and sizes Port would refuse are caught before sending, per
/// entity, and the rest of the batch still goes.
final class PortPreflightTests: XCTestCase {
    func upsert(_ identifier: String, blueprint: String = "component", body: JSONValue? = nil) -> PlannedUpsert {
        let value = body ?? ["identifier": .string(identifier), "blueprint": .string(blueprint), "title": "t"]
        let text = CanonicalJSON.string(value)
        return PlannedUpsert(key: PortKey(blueprint: blueprint, identifier: identifier), sourceRef: "component:default/x",
                             body: CanonicalBody(Array(text.utf8)), ackedHash: nil)
    }

    func testIdentifiersPortAccepts() {
        for identifier in ["component:default/storefront-web", "user:default/jürgen.müller", "group:default/研究",
                           "api:default/a+b=c@d_e", "x", "a/b/c", "...", "component:default/..", String(repeating: "a", count: 1000)] {
            XCTAssertNil(PortPreflight.problem(upsert(identifier)), identifier)
        }
    }

    func testIdentifiersPortRefusesAreNamedWithTheReason() throws {
        let cases: [(String, String)] = [
            ("component:default/50%-off", "contains \"%\""),
            ("component:default/has space", "contains \" \""),
            ("component:default/emoji-🚀", "contains \"\\u{0001F680}\""),
            ("..", "may not be \".\" or \"..\""),
            (".", "may not be"),
            (String(repeating: "a", count: 1001), "1001 characters long, over Port's limit of 1000"),
            ("component:default/quote\"d", "contains \"\\\"\""),
        ]
        for (identifier, reason) in cases {
            let problem = try XCTUnwrap(PortPreflight.problem(upsert(identifier)), identifier)
            XCTAssertTrue(problem.contains(reason), "\(identifier): \(problem)")
            XCTAssertLessThan(problem.count, 200, "one short line even for long identifiers")
        }
        XCTAssertNotNil(PortPreflight.problem(upsert("ok", blueprint: "bad=blueprint")))
    }

    func testRelationTargetsAndOversizedBodiesAreRefused() {
        let badTarget = upsert("component:default/a", body: ["identifier": "component:default/a", "blueprint": "component",
                                                             "relations": ["owningGroup": "group:default/a b", "system": .null]])
        XCTAssertEqual(PortPreflight.problem(badTarget),
                       "relations.owningGroup target \"group:default/a b\" contains \" \", which Port does not allow in identifiers")
        let badInArray = upsert("component:default/a", body: ["identifier": "component:default/a", "blueprint": "component",
                                                              "relations": ["providesApis": ["api:default/ok", "api:default/%"]]])
        XCTAssertTrue(PortPreflight.problem(badInArray)?.contains("relations.providesApis") == true)
        let huge = upsert("component:default/big", body: ["identifier": "component:default/big", "blueprint": "component",
                                                          "properties": ["blob": .string(String(repeating: "x", count: 5 << 20))]])
        XCTAssertTrue(PortPreflight.problem(huge)?.contains("over Port's 1 MiB request limit") == true)
    }

    func testScreenSendsTheAcceptableOnesAndKeepsTheOrder() throws {
        let items = [upsert("good-1"), upsert("bad 2"), upsert("good-3"), upsert("..")]
        var sent: [String] = []
        let result = try XCTUnwrap(PortPreflight.screen(items) { batch in
            sent = batch.map(\.key.identifier)
            return PortPusher.BatchResult(outcomes: batch.map { _ in .acked })
        })
        XCTAssertEqual(sent, ["good-1", "good-3"])
        XCTAssertEqual(result.outcomes.count, 4)
        XCTAssertEqual(result.outcomes[0], .acked)
        XCTAssertEqual(result.outcomes[2], .acked)
        guard case .rejected(let refusal) = result.outcomes[1] else { return XCTFail("\(result.outcomes[1])") }
        let message = "\(refusal)"
        XCTAssertTrue(message.hasPrefix("not sent: identifier \"bad 2\""), message)
        XCTAssertNil(PortPreflight.screen([upsert("fine")]) { _ in XCTFail("not called"); return PortPusher.BatchResult(outcomes: []) })
    }
}
