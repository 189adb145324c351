import FakeServers
import Foundation
@testable import Store
import XCTest

/// Runs that did not do their job say so (issue 10): each failure ends with the right exit code,
/// status and reasons, within a bounded time, says its problem once (a few grouped stderr lines,
/// not one per entity), `status` agrees, and the next good run converges Port exactly.
final class HonestRunTests: PortBackedCase {
    /// A port on 127.0.0.1 where nothing listens.
    static let closedURL = "http://127.0.0.1:1"

    /// Non-empty stderr lines (the grouped problems).
    func lines(_ result: CommandResult) -> [String] {
        result.stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    func reasons(_ result: CommandResult) -> [String] {
        result.json?["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// `status --json`: its exit code and reasons.
    func status() throws -> (code: Int32, reasons: [String], json: JSONValue?) {
        let result = try mirrorctl(["status", "--json"])
        return (result.status, reasons(result), result.json)
    }

    /// The faults are gone: one more sync succeeds, nothing is pending, Port holds exactly what a
    /// clean run produces, and `status` is healthy.
    func assertNextGoodRunConverges(env extra: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws {
        backstage.clearFaults()
        let final = try mirrorctl(["sync", "--json"], env: extra)
        assertStatus(final, 0, file: file, line: line)
        XCTAssertEqual(final.json?["status"], "succeeded", file: file, line: line)
        XCTAssertEqual(reasons(final), [], file: file, line: line)
        XCTAssertEqual(final.json?[path: ["port", "pending"]], 0, final.stdout, file: file, line: line)
        assertConverged(to: try cleanReference(env: extra), file: file, line: line)
        try assertLedgerMatchesPort(file: file, line: line)
        let healthy = try status()
        XCTAssertEqual(healthy.code, 0, "\(String(describing: healthy.json))", file: file, line: line)
    }

    // MARK: Port

    func testPortUnreachableStopsThePushAtOnceAndKeepsEverythingPending() throws {
        backstage.stop()
        backstage = try FakeBackstage(entities: FakeBackstage.generateCatalog(count: 2_000, seed: 5))
        environment["BACKSTAGE_URL"] = backstage.baseURL
        let started = Date()
        let run = try mirrorctl(["sync", "--json"], env: ["PORT_BASE_URL": HonestRunTests.closedURL])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertLessThan(seconds, 60, "a dead Port costs one bounded retry budget, not one per chunk")
        assertStatus(run, 3)
        XCTAssertEqual(run.json?["status"], "partial")
        XCTAssertEqual(reasons(run), ["port-unreachable"])
        XCTAssertEqual(run.json?[path: ["port", "upserted"]], 0)
        let pending = try XCTUnwrap(run.json?[path: ["port", "pending"]]?.numberValue)
        XCTAssertGreaterThanOrEqual(pending, 2_000, "everything stays pending")
        XCTAssertEqual(lines(run).count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("Port is unreachable"), run.stderr)

        let health = try status()
        XCTAssertEqual(health.code, 3)
        XCTAssertEqual(health.reasons.prefix(2), ["port-unreachable", "pushes-pending"])
        let runs = try mirrorctl(["runs"])
        XCTAssertTrue(runs.stdout.contains("port-unreachable"), runs.stdout)
        let store = try MirrorStore(path: databasePath, readOnly: true)
        XCTAssertEqual(try store.db.row("SELECT group_concat(reason) FROM v_run_reasons WHERE run = 1")?.string(0), "port-unreachable")
        try assertNextGoodRunConverges()
    }

    func testPortDownDuringAVerifyingSyncCostsOneBudgetForVerifyAndPush() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let victim = try XCTUnwrap(untargeted(blueprint: "component").first.flatMap { EntityRef(parsing: $0.identifier) })
        XCTAssertTrue(backstage.delete(victim))
        let started = Date()
        let run = try mirrorctl(["sync", "--json", "--verify"], env: ["PORT_BASE_URL": HonestRunTests.closedURL])
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
        assertStatus(run, 3)
        XCTAssertEqual(reasons(run), ["port-unreachable"])
        XCTAssertLessThanOrEqual(lines(run).count, 3, "verify's one or two lines and the push's: \(run.stderr)")
        XCTAssertEqual(try status().code, 3)
        try assertNextGoodRunConverges()
        XCTAssertNil(port.entity(blueprint: "component", identifier: victim.description))
    }

    func testARejectedPortSecretStopsWithinSecondsAndNamesTheVariables() throws {
        let started = Date()
        let run = try mirrorctl(["sync", "--json"], env: ["PORT_CLIENT_SECRET": "wrong"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
        assertStatus(run, 3)
        XCTAssertEqual(run.json?["status"], "partial")
        XCTAssertEqual(reasons(run), ["port-auth-rejected"])
        XCTAssertEqual(lines(run).count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("PORT_CLIENT_ID and PORT_CLIENT_SECRET"), run.stderr)
        XCTAssertFalse(run.stderr.contains("wrong"), "the secret never reaches the logs")
        let tokenRequests = port.requestLog.filter { $0.path.hasSuffix("/access_token") }.count
        XCTAssertEqual(tokenRequests, 1, "a refused secret is not retried")
        XCTAssertEqual(port.writeRequests, 0)

        // `sync` and `status` agree.
        let health = try status()
        XCTAssertEqual(health.code, 3)
        XCTAssertTrue(health.reasons.contains("port-auth-rejected"), "\(health.reasons)")
        XCTAssertTrue(health.reasons.contains("pushes-pending"), "\(health.reasons)")
        try assertNextGoodRunConverges()
    }

    // MARK: Backstage

    func testBackstageUnreachableIsOneLineAndAFailedRun() throws {
        let started = Date()
        let run = try mirrorctl(["sync", "--json"], env: ["BACKSTAGE_URL": HonestRunTests.closedURL])
        XCTAssertLessThan(Date().timeIntervalSince(started), 45)
        assertStatus(run, 1)
        XCTAssertEqual(run.json?["status"], "failed")
        XCTAssertEqual(reasons(run), ["source-unreachable", "kind-incomplete"])
        XCTAssertEqual(lines(run).count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("7 kinds incomplete"), run.stderr)
        XCTAssertEqual(port.writeRequests, 0)
        XCTAssertEqual(try status().code, 1)
        let runs = try mirrorctl(["runs"])
        XCTAssertTrue(runs.stdout.contains("source-unreachable (+1)"), runs.stdout)
        try assertNextGoodRunConverges()
    }

    func testABackstage401IsOneLineWithAHintAndStopsAsking() throws {
        backstage.injectFault(.status(401, times: 1_000_000))
        let run = try mirrorctl(["sync", "--json"])
        assertStatus(run, 1)
        XCTAssertEqual(reasons(run), ["source-auth-rejected", "kind-incomplete"])
        XCTAssertEqual(lines(run).count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("BACKSTAGE_TOKEN"), run.stderr)
        XCTAssertLessThanOrEqual(backstage.stats.requests, 4, "one refused request per walking thread at most")
        let health = try status()
        XCTAssertEqual(health.code, 1)
        XCTAssertEqual(health.reasons, ["source-auth-rejected", "kind-incomplete"])
        try assertNextGoodRunConverges()
    }

    // MARK: Mapping

    /// The refs of the fake Backstage's Component entities, as Port identifiers.
    func componentRefs() -> Set<String> {
        Set(backstage.allEntities.filter { $0["kind"] == "Component" }.compactMap { entity in
            entity[path: ["metadata", "name"]]?.stringValue.map {
                EntityRef(kind: "component", namespace: entity[path: ["metadata", "namespace"]]?.stringValue, name: $0).description
            }
        })
    }

    /// Components that relations in the catalog point at but that the catalog does not hold.
    func danglingComponentTargets() -> Set<String> {
        let targets = backstage.allEntities.flatMap { entity in
            (entity["relations"]?.arrayValue ?? []).compactMap { $0["targetRef"]?.stringValue }
        }
        return Set(targets.filter { $0.hasPrefix("component:") }).subtracting(componentRefs())
    }

    /// The built-in mapping with one expression replaced (the first occurrence: components).
    func mapping(replacing old: String, with new: String) throws -> String {
        let builtin = try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/builtin.yaml"), encoding: .utf8)
        guard let range = builtin.range(of: old) else { throw XCTSkip("the built-in mapping has no \(old)") }
        return try writeFile("mapping-\(UUID().uuidString).yaml", builtin.replacingCharacters(in: range, with: new))
    }

    func testAJQRuntimeErrorIsCountedGroupedStoredAndMakesTheRunPartial() throws {
        let bad = try mapping(replacing: "type: .spec.type", with: "type: .spec.type | tonumber")
        let components = backstage.allEntities.filter { $0["kind"] == "Component" }.count
        // diff says it too.
        let diff = try mirrorctl(["diff", "--json"], env: ["MIRROR_MAPPING": bad])
        assertStatus(diff, 3)
        XCTAssertEqual(reasons(diff), ["mapping-errors"])
        XCTAssertEqual(diff.json?[path: ["mapping", "errors"]], .number(Double(components)))

        let run = try mirrorctl(["sync", "--json"], env: ["MIRROR_MAPPING": bad])
        assertStatus(run, 3)
        XCTAssertEqual(run.json?["status"], "partial")
        XCTAssertEqual(reasons(run), ["mapping-errors"])
        XCTAssertEqual(run.json?[path: ["mapping", "errors"]], .number(Double(components)))
        let field = try XCTUnwrap(run.json?[path: ["mapping", "fields"]]?.arrayValue?.first)
        XCTAssertEqual(field["kind"], "component")
        XCTAssertEqual(field["field"], "properties.type")
        XCTAssertEqual(field["expression"], ".spec.type | tonumber")
        XCTAssertEqual(field["count"], .number(Double(components)))
        XCTAssertTrue(field["example"]?.stringValue?.hasPrefix("component:") == true, "\(field)")
        XCTAssertFalse(field["message"]?.stringValue?.isEmpty ?? true, "jq's own message: \(field)")
        XCTAssertEqual(lines(run).count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("properties.type"), run.stderr)
        // Ocean's values: the property is sent as null. Port also holds an empty placeholder for
        // each component a relation points at that the catalog lacks (the generator's dangling
        // `dependsOn: component:…/legacy-…`; the built-in mapping sets createMissingRelatedEntities).
        let pushed = port.entities(blueprint: "component")
        let catalogRefs = componentRefs()
        let placeholders = danglingComponentTargets()
        XCTAssertEqual(Set(pushed.map(\.identifier)), catalogRefs.union(placeholders), "every component still reaches Port")
        XCTAssertEqual(pushed.count, components + placeholders.count)
        XCTAssertTrue(pushed.filter { placeholders.contains($0.identifier) }.allSatisfy { $0.properties.isEmpty })
        XCTAssertTrue(pushed.allSatisfy { $0.properties["type"] == nil || $0.properties["type"] == .null })
        let store = try MirrorStore(path: databasePath, readOnly: true)
        XCTAssertEqual(try store.db.row("SELECT count FROM v_mapping_errors WHERE run = 1 AND field = 'properties.type'")?.int(0), components)

        // A later run that re-maps nothing still knows the field fails.
        let again = try mirrorctl(["sync", "--json"], env: ["MIRROR_MAPPING": bad])
        assertStatus(again, 3)
        XCTAssertEqual(reasons(again), ["mapping-errors"])
        let health = try status()
        XCTAssertEqual(health.code, 3)
        XCTAssertEqual(health.reasons, ["mapping-errors"])
        try assertNextGoodRunConverges()
    }

    func testASelectorErrorOnEveryEntityIsOneLineAndWithholdsDeletes() throws {
        assertStatus(try mirrorctl(["sync"]), 0)
        let victim = try XCTUnwrap(untargeted(blueprint: "component").first.flatMap { EntityRef(parsing: $0.identifier) })
        XCTAssertTrue(backstage.delete(victim))
        let before = PortState(port)
        let bad = try mapping(replacing: "query: 'true'", with: "query: '(.spec.type | tonumber) > 0'")
        let run = try mirrorctl(["sync", "--json"], env: ["MIRROR_MAPPING": bad])
        assertStatus(run, 3)
        XCTAssertEqual(reasons(run), ["selector-errors", "deletes-withheld"])
        let components = backstage.allEntities.filter { $0["kind"] == "Component" }.count
        XCTAssertEqual(run.json?[path: ["mapping", "errors"]], .number(Double(components)))
        XCTAssertEqual(run.json?[path: ["mapping", "fields"]]?.arrayValue?.first?["field"], "selector.query")
        XCTAssertEqual(lines(run).count, 2, "one line for the selector, one for the withheld deletes: \(run.stderr)")
        XCTAssertEqual(PortState(port), before, "nothing is deleted while a selector fails")
        let health = try status()
        XCTAssertEqual(health.code, 3)
        XCTAssertEqual(health.reasons, ["selector-errors", "deletes-withheld"])

        // Per-entity detail is there for whoever asks (a changed mapping re-maps every entity).
        let other = try mapping(replacing: "query: 'true'", with: "query: '(.spec.type | tonumber) > 1'")
        let debug = try mirrorctl(["diff", "--log-level", "debug"], env: ["MIRROR_MAPPING": other])
        // One debug line per component, naming it (the grouped warning line says it once more).
        let detail = lines(debug).filter { $0.hasPrefix("mirrorctl: debug: ") && $0.contains("selector.query") }
        XCTAssertEqual(detail.count, components, debug.stderr)
        let named = detail.map { $0.dropFirst("mirrorctl: debug: ".count).prefix { $0 != " " }.dropLast() }
        XCTAssertEqual(Set(named.map(String.init)), componentRefs(), debug.stderr)
        try assertNextGoodRunConverges()
        XCTAssertNil(port.entity(blueprint: "component", identifier: victim.description))
    }

    // MARK: status

    func testStatusLivenessIgnoresDegradedRunsButNotStaleOnes() throws {
        XCTAssertNotEqual(try mirrorctl(["status", "--liveness", "--max-age", "1h"]).status, 0, "no sync has finished yet")
        assertStatus(try mirrorctl(["sync"], env: ["PORT_CLIENT_SECRET": "wrong"]), 3)
        assertStatus(try mirrorctl(["status"]), 3)
        assertStatus(try mirrorctl(["status", "--liveness", "--max-age", "1h"]), 0)
        assertStatus(try mirrorctl(["status", "--liveness"]), 2)
        Thread.sleep(forTimeInterval: 0.3)
        assertStatus(try mirrorctl(["status", "--liveness", "--max-age", "100ms"]), 1)
    }
}

extension WatchEndToEndTests {
    /// Waiting fixes no mapping: runs partial for mapping errors keep the interval; an outage
    /// (Backstage unreachable) backs off.
    func testWatchBacksOffAfterOutagesButNotAfterMappingErrors() throws {
        let builtin = try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/builtin.yaml"), encoding: .utf8)
        let range = try XCTUnwrap(builtin.range(of: "type: .spec.type"))
        let bad = try writeFile("bad-type.yaml", builtin.replacingCharacters(in: range, with: "type: .spec.type | tonumber"))
        let partial = try startWatch(["--interval", "100ms", "--mapping", bad])
        try waitFor("three partial runs") { try committedRuns().filter { $0.status == "partial" }.count >= 3 }
        XCTAssertEqual(partial.stop(), 0)
        XCTAssertEqual(partial.events("watch.backoff").count, 0, "a mapping error is no outage")
        XCTAssertTrue(partial.events("run.finished").allSatisfy { $0[path: ["fields", "exitStatus"]] == 3 })

        let down = try startWatch(["--interval", "100ms", "--max-retries", "0", "--backstage-url", "http://127.0.0.1:1"])
        waitFor("a back-off") { down.events("watch.backoff").count >= 1 }
        XCTAssertEqual(down.stop(), 0)
    }
}
