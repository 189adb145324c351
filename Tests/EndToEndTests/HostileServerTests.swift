import FakeServers
import Fetch
import Foundation
@testable import Store
import XCTest

/// Servers that attack mirrorctl, one per case: redirects to another origin, bodies without end,
/// servers that hang or dribble, looping cursors, escape sequences, identities that pass for
/// others, answers that don't match the question, echoed secrets, a 10 MB header or token.
///
/// Each sits as a proxy in front of the regular fakes and turns hostile on one route. Every case
/// asserts the exit status, a wall-time bound (no `--timeout`), a peak-RSS bound, that stdout and
/// stderr carry no raw ESC, CR or BEL, that the mirror lost nothing, and that the next sync against
/// the good servers converges.
final class HostileServerTests: PortBackedCase {
    override var catalog: [FakeJSON] { FakeBackstage.generateCatalog(count: 40, seed: 16) }
    /// Every walk of these tests reads these kinds, on the default four connections at once.
    let fourKinds = ["--kind", "component", "--kind", "api", "--kind", "group", "--kind", "user"]
    /// The mirror after the first good sync: no hostile answer may take anything away.
    var mirrored: Set<String> = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        assertStatus(try mirrorctl(["sync"]), 0)
        mirrored = try mirroredRefs()
        XCTAssertGreaterThan(mirrored.count, 30)
        port.resetLog()
    }

    // MARK: Checks every case makes

    func mirroredRefs() throws -> Set<String> {
        let store = try MirrorStore(path: databasePath, readOnly: true)
        return Set(try store.db.rows("SELECT ref FROM entities").compactMap { $0.string(0) })
    }

    /// A run whose Port push failed while everything else worked is partial (exit 3), never
    /// `succeeded`, and names a Port reason.
    static let portFailed: Set<Int32> = [3]
    static let portReasons: Set<String> = ["push-failed", "push-rejected", "port-unreachable", "port-auth-rejected"]

    /// A hostile Backstage answer leaves its kind incomplete: partial, and the reason says so.
    func assertKindIncomplete(_ run: ChildRun, file: StaticString = #filePath, line: UInt = #line) {
        let reasons = run.result.json?["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertTrue(reasons.contains("kind-incomplete"), "kind-incomplete in \(reasons)", file: file, line: line)
    }

    func assertPortReason(_ run: ChildRun, file: StaticString = #filePath, line: UInt = #line) {
        let reasons = run.result.json?["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertFalse(Self.portReasons.isDisjoint(with: reasons), "a Port reason in \(reasons)", file: file, line: line)
    }

    /// Status, time and memory bounds, and no terminal control bytes on either stream.
    func assertContained(_ run: ChildRun, status: Int32, within seconds: Double, maxMiB: Int = 300,
                         file: StaticString = #filePath, line: UInt = #line) {
        assertContained(run, statuses: [status], within: seconds, maxMiB: maxMiB, file: file, line: line)
    }

    func assertContained(_ run: ChildRun, statuses: Set<Int32>, within seconds: Double, maxMiB: Int = 300,
                         file: StaticString = #filePath, line: UInt = #line) {
        if let reported = run.result.json?["status"]?.stringValue {
            let expected: Int32 = reported == "succeeded" ? 0 : reported == "partial" ? 3 : 1
            XCTAssertEqual(run.result.status, expected, "the exit status matches the reported status", file: file, line: line)
        }
        XCTAssertTrue(statuses.contains(run.result.status), "exit \(run.result.status), expected one of \(statuses.sorted()): stdout: \(run.result.stdout.prefix(2_000))\nstderr: \(run.result.stderr.prefix(4_000))",
                       file: file, line: line)
        XCTAssertLessThan(run.seconds, seconds, "wall time", file: file, line: line)
        print("hostile run: exit \(run.result.status), \(String(format: "%.1f", run.seconds))s, peak RSS \(run.peakMiB) MiB")
        XCTAssertGreaterThan(run.peakMiB, 0, "RSS was measured", file: file, line: line)
        XCTAssertLessThan(run.peakMiB, maxMiB, "peak RSS (MiB)", file: file, line: line)
        for (name, bytes) in [("stdout", run.stdoutBytes), ("stderr", run.stderrBytes)] {
            for (control, label) in [(UInt8(0x1B), "ESC"), (0x07, "BEL"), (0x0D, "CR"), (0x00, "NUL")] {
                XCTAssertFalse(bytes.contains(control), "raw \(label) on \(name)", file: file, line: line)
            }
        }
    }

    /// Nothing mirrored was lost, the database is sound, and a sync against the good servers
    /// succeeds and leaves Port with nothing pending.
    func assertRecovers(file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(try mirroredRefs().isSuperset(of: mirrored), "a hostile answer deleted mirrored entities", file: file, line: line)
        try assertIntegrity(file: file, line: line)
        environment["BACKSTAGE_URL"] = backstage.baseURL
        environment["PORT_BASE_URL"] = port.baseURL
        let good = try mirrorctl(["sync", "--json"])
        assertStatus(good, 0, file: file, line: line)
        XCTAssertEqual(count(good, "port", "pending"), 0, good.stdout, file: file, line: line)
        XCTAssertEqual(try mirroredRefs().count, backstage.entityCount, file: file, line: line)
        try assertIntegrity(file: file, line: line)
    }

    typealias HostileHandler = @Sendable (HostileServer.Request, HostileServer.Wire) -> Bool

    /// A proxy to the fake Backstage; `hostile` answers the requests it wants (returns true).
    func hostileBackstage(_ hostile: @escaping HostileHandler) throws -> HostileServer {
        try proxy(to: backstage.baseURL, as: "BACKSTAGE_URL", hostile)
    }

    /// A proxy to the fake Port; `hostile` answers the requests it wants (returns true).
    func hostilePort(_ hostile: @escaping HostileHandler) throws -> HostileServer {
        try proxy(to: port.baseURL, as: "PORT_BASE_URL", hostile)
    }

    /// A proxy to `target` that mirrorctl is pointed at through `variable`.
    private func proxy(to target: String, as variable: String, _ hostile: @escaping HostileHandler) throws -> HostileServer {
        let server = try HostileServer { request, wire in
            if !hostile(request, wire) { HostileServer.forward(request, to: target, over: wire) }
        }
        environment[variable] = server.baseURL
        return server
    }

    /// A Port proxy whose token endpoint is answered by `answer`.
    func hostileTokenEndpoint(_ answer: @escaping @Sendable (HostileServer.Wire) -> Void) throws -> HostileServer {
        try hostilePort { request, wire in
            guard request.path == "/v1/auth/access_token" else { return false }
            answer(wire)
            return true
        }
    }

    /// Edits one component and syncs while Port's part is hostile: the walk works, the push fails,
    /// and that one entity stays pending.
    func syncOneChangePortFails(within seconds: Double) throws -> ChildRun {
        try edit(components()[0], description: "to be pushed")
        let run = try measuredRun(["sync", "--json"])
        assertContained(run, statuses: Self.portFailed, within: seconds)
        assertPortReason(run)
        XCTAssertEqual(count(run.result, "port", "pending"), 1, run.result.stdout)
        return run
    }

    func tokenRequests(_ server: HostileServer) -> Int {
        server.requests.filter { $0.path == "/v1/auth/access_token" }.count
    }

    /// A second origin (another address, another port) that counts what reaches it.
    func secondOrigin() throws -> HostileServer {
        try HostileServer(host: "127.0.0.2") { _, wire in
            wire.respond(status: 200, json: #"{"ok":true,"accessToken":"stolen","expiresIn":3600,"entities":[],"errors":[]}"#)
        }
    }

    func components() -> [JSONValue] {
        backstage.allEntities.map(JSONValue.init).filter { $0["kind"]?.stringValue == "Component" }
    }

    func edit(_ entity: JSONValue, description: String) throws {
        guard case .object(var body) = entity, case .object(var metadata) = body["metadata"] else { return XCTFail("not an entity") }
        metadata["description"] = .string(description)
        body["metadata"] = .object(metadata)
        try backstage.upsert(FakeJSON(.object(body)))
    }

    func ref(_ entity: JSONValue) -> String { EntityRef(entity: entity)?.description ?? "" }

    // MARK: 1. Origins are pinned

    func testATokenRequestRedirectedToAnotherOriginIsRefused() throws {
        let thief = try secondOrigin()
        defer { thief.stop() }
        let proxy = try hostileTokenEndpoint { wire in
            wire.respond(status: 307, headers: [("Location", thief.baseURL + "/v1/auth/access_token?client_secret=leak")])
        }
        defer { proxy.stop() }
        let run = try syncOneChangePortFails(within: 30)
        XCTAssertEqual(thief.connections, 0, "the client secret went to another origin")
        XCTAssertEqual(tokenRequests(proxy), 1, "a refused redirect is not retried")
        let error = run.result.stderr
        XCTAssertTrue(error.contains("refused a 307 redirect to \(thief.baseURL)/v1/auth/access_token"), error)
        XCTAssertTrue(error.contains("\(proxy.baseURL)/v1/auth/access_token"), error)
        XCTAssertFalse(run.result.stdout.contains("leak") || run.result.stderr.contains("leak"), "no query string in messages")
        try assertRecovers()
    }

    func testABulkPushRedirectedToAnotherOriginIsRefused() throws {
        let thief = try secondOrigin()
        defer { thief.stop() }
        let proxy = try hostilePort { request, wire in
            guard request.path.hasSuffix("/entities/bulk") else { return false }
            wire.respond(status: 307, headers: [("Location", thief.baseURL + request.target)])
            return true
        }
        defer { proxy.stop() }
        try edit(components()[0], description: "to be pushed")
        try edit(components()[1], description: "this one too")

        let run = try measuredRun(["sync", "--json"])
        assertContained(run, statuses: Self.portFailed, within: 30)
        assertPortReason(run)
        XCTAssertEqual(thief.connections, 0, "entity data went to another origin")
        XCTAssertGreaterThanOrEqual(count(run.result, "port", "pending") ?? 0, 2, run.result.stdout)
        XCTAssertEqual(count(run.result, "port", "upserted"), 0, "another origin's acknowledgements are never seen")
        XCTAssertEqual(proxy.requests.filter { $0.path.hasSuffix("/entities/bulk") }.count, 1, "a refused redirect is not retried")
        XCTAssertTrue(run.result.stderr.contains("refused a 307 redirect to \(thief.baseURL)/v1/blueprints/component/entities/bulk"), run.result.stderr)
        XCTAssertFalse(run.result.stderr.contains("upsert=true"), "no query string in messages: \(run.result.stderr)")
        try assertRecovers()
    }

    // MARK: 2. Bounded bodies

    func testAGzipBombStopsAtTheResponseLimit() throws {
        let bomb = try Self.gzip(zeroBytes: 256 << 20)
        XCTAssertLessThan(bomb.count, 1 << 20, "a quarter GiB in under a MiB")
        let proxy = try hostileBackstage { request, wire in
            guard request.path.hasSuffix("/by-query") else { return false }
            wire.respond(status: 200, headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], body: bomb)
            return true
        }
        defer { proxy.stop() }
        let run = try measuredRun(["sync", "--json"] + fourKinds)
        assertContained(run, status: 1, within: 60)
        XCTAssertTrue(run.result.stdout.contains("larger than 32 MiB (--max-response-size)"), run.result.stdout)
        XCTAssertEqual(proxy.requests.count, 4, "one request per kind: a response over the limit is not retried")

        // Port's answers are bounded the same way.
        environment["BACKSTAGE_URL"] = backstage.baseURL
        let portBomb = try hostilePort { request, wire in
            guard request.path.hasSuffix("/entities/bulk") else { return false }
            wire.respond(status: 200, headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], body: bomb)
            return true
        }
        defer { portBomb.stop() }
        let push = try syncOneChangePortFails(within: 60)
        XCTAssertTrue(push.result.stderr.contains("larger than 32 MiB (--max-response-size)"), push.result.stderr)
        try assertRecovers()
    }

    func testAnEndlessArrayOrStringStopsAtTheResponseLimit() throws {
        let item = Data((#"{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"x","namespace":"default"}},"#).utf8)
        let block = (0..<2_000).reduce(into: Data()) { data, _ in data.append(item) }
        let endlessArray = try hostileBackstage { request, wire in
            guard request.path.hasSuffix("/by-query") else { return false }
            guard wire.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"items\":[") else { return true }
            while wire.send(block) {}
            return true
        }
        let array = try measuredRun(["sync", "--json"] + fourKinds)
        endlessArray.stop()
        assertContained(array, status: 1, within: 60)
        XCTAssertTrue(array.result.stdout.contains("larger than 32 MiB"), array.result.stdout)

        // The same with a string that never ends, and a smaller limit given by flag.
        let letters = Data(repeating: UInt8(ascii: "a"), count: 256 << 10)
        let endlessString = try hostileBackstage { request, wire in
            guard request.path.hasSuffix("/by-query") else { return false }
            guard wire.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"items\":[{\"kind\":\"Component\",\"metadata\":{\"name\":\"") else { return true }
            while wire.send(letters) {}
            return true
        }
        defer { endlessString.stop() }
        let string = try measuredRun(["sync", "--json", "--max-response-size", "8MiB"] + fourKinds)
        assertContained(string, status: 1, within: 60, maxMiB: 150)
        XCTAssertTrue(string.result.stdout.contains("larger than 8 MiB (--max-response-size)"), string.result.stdout)
        try assertRecovers()
    }

    func testAnEntityOverTheEntityLimitIsRefusedAndBlocksDeletesOfItsKind() throws {
        let victim = components()[0]
        try edit(victim, description: String(repeating: "big ", count: 300_000))
        let run = try measuredRun(["sync", "--json", "--max-entity-size", "1MiB"])
        assertContained(run, status: 3, within: 60)
        assertKindIncomplete(run)
        XCTAssertTrue(run.result.stderr.contains("over the per-entity limit of 1 MiB (--max-entity-size)"), run.result.stderr)
        XCTAssertTrue(run.result.stdout.contains("1 entity was refused"), run.result.stdout)
        let shown = try mirrorctl(["show", ref(victim), "--json"])
        XCTAssertFalse(shown.stdout.contains("big big"), "the refused version was not stored")
        try edit(victim, description: "small again")
        try assertRecovers()
    }

    // MARK: 3. Bounded time

    func testAServerThatHangsIsCutOffByTheIdleTimeout() throws {
        let proxy = try hostileBackstage { request, wire in
            guard request.path.hasSuffix("/by-query") else { return false }
            wire.waitForClose()
            return true
        }
        defer { proxy.stop() }
        let run = try measuredRun(["sync", "--json", "--kind", "component", "--idle-timeout", "1s", "--max-retries", "1"])
        assertContained(run, status: 1, within: 20)
        XCTAssertTrue(run.result.stdout.contains("1s without a byte"), run.result.stdout)
        XCTAssertEqual(proxy.requests.count, 2, "one retry, as asked")
        try assertRecovers()
    }

    func testASlowBodyIsCutOffByTheIdleTimeout() throws {
        let proxy = try hostileBackstage { request, wire in
            guard request.path.hasSuffix("/by-query") else { return false }
            guard wire.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{") else { return true }
            // One byte every 2.5 s: alive, but never done.
            while wire.pause(2.5), wire.send(" ") {}
            return true
        }
        defer { proxy.stop() }
        let run = try measuredRun(["sync", "--json", "--kind", "component", "--idle-timeout", "2s", "--max-retries", "0"])
        assertContained(run, status: 1, within: 20)
        XCTAssertTrue(run.result.stdout.contains("without a byte"), run.result.stdout)
        try assertRecovers()
    }

    func testTheDefaultsBoundEveryRequest() {
        let defaults = TransportOptions()
        XCTAssertEqual(defaults.connectTimeout, 10)
        XCTAssertEqual(defaults.idleTimeout, 60)
        XCTAssertEqual(defaults.requestTimeout, 120)
        XCTAssertEqual(defaults.maxResponseBytes, 32 << 20)
        XCTAssertEqual(SnapshotEntity.defaultMaxBytes, 4 << 20)
    }

    func testRepeatingAndNumericCursorsEndTheKindIncomplete() throws {
        for (cursor, message) in [(#""again""#, "repeats a cursor this walk already followed"), ("2", "pageInfo.nextCursor is number, not a string")] {
            let target = backstage.baseURL
            let proxy = try hostileBackstage { request, wire in
                guard request.path.hasSuffix("/by-query") else { return false }
                // Whatever the cursor, the first page again (the fake would refuse a cursor it never made).
                HostileServer.forward(request, to: target, over: wire,
                                      target: "/api/catalog/entities/by-query?limit=500&filter=kind%3Dcomponent") { status, body in
                    let text = String(decoding: body, as: UTF8.self)
                    guard let range = text.range(of: #""pageInfo":"#) else { return (status, body) }
                    return (status, Data((String(text[..<range.lowerBound]) + #""pageInfo":{"nextCursor":\#(cursor)}}"#).utf8))
                }
                return true
            }
            // A deleted component would be deleted by a complete walk: this one must not be.
            XCTAssertTrue(backstage.delete(try XCTUnwrap(EntityRef(entity: components()[0]))))
            let run = try measuredRun(["sync", "--json", "--kind", "component", "--full"])
            proxy.stop()
            // The only kind walked did not complete: the run failed, and deleted nothing.
            assertContained(run, status: 1, within: 30)
            XCTAssertTrue(run.result.stdout.contains(message), run.result.stdout)
            XCTAssertEqual(count(run.result, "source", "deleted"), 0, "an incomplete kind deletes nothing")
            XCTAssertLessThanOrEqual(proxy.requests.count, 3, "the loop was noticed at once")
            XCTAssertEqual(try mirroredRefs(), mirrored)
        }
        mirrored = try mirroredRefs().filter { backstage.entity(EntityRef(parsing: $0)!) != nil }
        try assertRecovers()
    }

    // MARK: 4. Untrusted text on a terminal

    func testEscapeSequencesInEntitiesAndErrorsReachNoTerminal() throws {
        let injected = "\u{1B}]0;pwned\u{07}\r\nINJECTED-LINE \u{1B}[2J"
        let entity = components()[0]
        try edit(entity, description: injected)
        let target = backstage.baseURL
        let proxyBackstage = try hostileBackstage { request, wire in
            guard request.path.hasSuffix("/by-query"), request.target.contains("kind%3Dcomponent") else { return false }
            HostileServer.forward(request, to: target, over: wire) { status, body in
                let evil = #"{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"evil\u001b]0;title\u0007\r\nINJECTED-LINE","namespace":"default"}},"#
                return (status, Data(String(decoding: body, as: UTF8.self).replacingOccurrences(of: #"{"items":["#, with: #"{"items":["# + evil).utf8))
            }
            return true
        }
        defer { proxyBackstage.stop() }
        let proxyPort = try hostilePort { request, wire in
            guard request.path.hasSuffix("/entities/bulk") else { return false }
            wire.respond(status: 400, json: #"{"ok":false,"error":"bad\u001b[31m","message":"\r\nINJECTED-LINE \u001b]0;title\u0007 row"}"#)
            return true
        }
        defer { proxyPort.stop() }

        var runs = [try measuredRun(["sync", "--full"]), try measuredRun(["sync", "--full", "--log-format", "json"])]
        for arguments in [["runs"], ["status"], ["diff", "--full"], ["show", ref(entity)], ["history", ref(entity)], ["sync", "--json", "--full"]] {
            runs.append(try measuredRun(arguments))
        }
        for run in runs {
            assertContained(run, status: run.result.status, within: 60)
            for output in [run.result.stdout, run.result.stderr] {
                XCTAssertFalse(output.split(separator: "\n").contains { $0.hasPrefix("INJECTED-LINE") }, "a forged line: \(output)")
            }
        }
        XCTAssertTrue(runs[0].result.stderr.contains(#"evil\x1b]0;title\x07\r\nINJECTED-LINE"#), runs[0].result.stderr)
        XCTAssertTrue(runs[0].result.stderr.contains(#"\r\nINJECTED-LINE \x1b]0;title\x07 row"#), runs[0].result.stderr)
        // The runs table shows a short typed reason, never the server's words.
        XCTAssertTrue(runs[2].result.stdout.contains("kind-incomplete"), "the REASON column of runs: \(runs[2].result.stdout)")
        XCTAssertFalse(runs[2].result.stdout.contains("\u{1B}"), runs[2].result.stdout)
        XCTAssertNotNil(runs[1].result.stderr.split(separator: "\n").first.flatMap { try? CanonicalJSON.parse(Array($0.utf8)) },
                        "JSON logs stay JSON: \(runs[1].result.stderr)")
        XCTAssertNotNil(runs.last?.result.json, "--json stays JSON")
        try edit(entity, description: "calm")
        try assertRecovers()
    }

    // MARK: 5. Identities and answers

    func testNULsAndANumericNamespaceOverwriteNothing() throws {
        let real = components()[0]
        let name = try XCTUnwrap(real[path: ["metadata", "name"]]?.stringValue)
        let impostors = [
            #"{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"\#(name)\u0000evil","namespace":"default","description":"EVIL"}}"#,
            #"{"apiVersion":"backstage.io/v1alpha1","kind":"Component\u0000x","metadata":{"name":"\#(name)","namespace":"default","description":"EVIL"}}"#,
            #"{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"\#(name)","namespace":7,"description":"EVIL"}}"#,
        ]
        let target = backstage.baseURL
        let proxy = try hostileBackstage { request, wire in
            guard request.path.hasSuffix("/by-query"), request.target.contains("kind%3Dcomponent") else { return false }
            HostileServer.forward(request, to: target, over: wire) { status, body in
                let text = String(decoding: body, as: UTF8.self)
                return (status, Data(text.replacingOccurrences(of: #"{"items":["#, with: #"{"items":["# + impostors.joined(separator: ",") + ",").utf8))
            }
            return true
        }
        defer { proxy.stop() }
        for arguments in [["sync", "--json", "--full"], ["sync", "--json"]] {
            let run = try measuredRun(arguments)
            assertContained(run, status: 3, within: 30)
            assertKindIncomplete(run)
            XCTAssertTrue(run.result.stderr.contains(#"contains a control character"#), run.result.stderr)
            XCTAssertTrue(run.result.stderr.contains(#"\#(name)\x00evil"#), run.result.stderr)
            if arguments.contains("--full") {
                XCTAssertTrue(run.result.stderr.contains("metadata.namespace is a number, not a string"), run.result.stderr)
            }
            let shown = try mirrorctl(["show", ref(real), "--json"])
            XCTAssertFalse(shown.stdout.contains("EVIL"), "the real \(name) was overwritten: \(shown.stdout)")
            XCTAssertNotEqual(port.entity(blueprint: "component", identifier: ref(real))?.properties["description"], "EVIL")
            XCTAssertEqual(try mirroredRefs(), mirrored, "nothing added, nothing deleted")
        }
        try assertRecovers()
    }

    func testAByRefsAnswerForOtherEntitiesIsAnErrorForTheKind() throws {
        let (asked, other) = (components()[0], components()[1])
        try edit(asked, description: "changed, so the scan fetches it by ref")
        let otherBody = String(decoding: CanonicalJSON.bytes(try edited(other, description: "HIJACKED")), as: UTF8.self)
        for answer in [#"{"items":[\#(otherBody)]}"#, #"{"items":[null,\#(otherBody)]}"#] {
            let proxy = try hostileBackstage { request, wire in
                guard request.path.hasSuffix("/by-refs") else { return false }
                wire.respond(status: 200, json: answer)
                return true
            }
            let run = try measuredRun(["sync", "--json"])
            proxy.stop()
            assertContained(run, status: 3, within: 30)
            assertKindIncomplete(run)
            XCTAssertTrue(run.result.stdout.contains("asked for \(ref(asked)) at position 0, got \(ref(other))")
                          || run.result.stdout.contains("items missing or of the wrong length"), run.result.stdout)
            let shown = try mirrorctl(["show", ref(other), "--json"])
            XCTAssertFalse(shown.stdout.contains("HIJACKED"), "another entity was overwritten")
            XCTAssertEqual(try mirroredRefs(), mirrored, "nothing deleted")
        }
        try assertRecovers()
    }

    /// `other` with a new description, as Backstage would serve it (not stored in the fake).
    private func edited(_ entity: JSONValue, description: String) throws -> JSONValue {
        guard case .object(var body) = entity, case .object(var metadata) = body["metadata"] else { throw XCTSkip("not an entity") }
        metadata["description"] = .string(description)
        body["metadata"] = .object(metadata)
        return .object(body)
    }

    func testBulkAnswersNamingOtherIdentifiersAcknowledgeNothing() throws {
        try edit(components()[0], description: "first")
        try edit(components()[1], description: "second")
        let target = port.baseURL
        let proxy = try hostilePort { request, wire in
            guard request.path.hasSuffix("/entities/bulk") else { return false }
            HostileServer.forward(request, to: target, over: wire) { status, body in
                // Every acknowledgement names an entity that was not sent at its index.
                let text = String(decoding: body, as: UTF8.self)
                let renamed = text.replacingOccurrences(of: #""identifier":"component:"#, with: #""identifier":"component:x-"#)
                return (status, Data(renamed.utf8))
            }
            return true
        }
        defer { proxy.stop() }
        let run = try measuredRun(["sync", "--json"])
        assertContained(run, statuses: Self.portFailed, within: 30)
        assertPortReason(run)
        XCTAssertEqual(count(run.result, "port", "upserted"), 0, run.result.stdout)
        XCTAssertGreaterThanOrEqual(count(run.result, "port", "pending") ?? 0, 2, run.result.stdout)
        XCTAssertTrue(run.result.stderr.contains("Port gave no result for this entity") || run.result.stdout.contains("Port gave no result"),
                      run.result.stderr)
        try assertRecovers()
    }

    // MARK: 6. Echoed secrets

    func testASecretEchoedByAServerIsRedactedEverywhere() throws {
        let backstageToken = "bs-token-\(UUID().uuidString)"
        environment["BACKSTAGE_TOKEN"] = backstageToken
        let secret = PortBackedCase.clientSecret
        let proxyPort = try hostileTokenEndpoint { wire in
            wire.respond(status: 401, json: #"{"ok":false,"error":"unauthorized","message":"client secret \#(secret) is not valid"}"#)
        }
        defer { proxyPort.stop() }
        try edit(components()[0], description: "to be pushed")
        var runs = [try measuredRun(["sync", "--json", "--log-format", "json", "--log-level", "debug"])]
        proxyPort.stop()
        let proxyBackstage = try hostileBackstage { request, wire in
            wire.respond(status: 400, json: #"{"error":{"name":"InputError","message":"token \#(backstageToken) looks odd"}}"#)
            return true
        }
        defer { proxyBackstage.stop() }
        environment["PORT_BASE_URL"] = port.baseURL
        runs.append(try measuredRun(["sync", "--json"]))
        runs.append(try measuredRun(["sync"]))
        for arguments in [["runs"], ["runs", "--json"], ["status"], ["status", "--json"]] { runs.append(try measuredRun(arguments)) }
        for run in runs {
            assertContained(run, status: run.result.status, within: 30)
            for text in [run.result.stdout, run.result.stderr] {
                XCTAssertFalse(text.contains(secret), "the client secret leaked: \(text)")
                XCTAssertFalse(text.contains(backstageToken), "the Backstage token leaked: \(text)")
            }
        }
        XCTAssertTrue(runs[0].result.stdout.contains("client secret *** is not valid"), runs[0].result.stdout)
        XCTAssertTrue(runs[1].result.stdout.contains("token *** looks odd"), runs[1].result.stdout)
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasPrefix("mirror.db") {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(file))
            XCTAssertNil(bytes.range(of: Data(secret.utf8)), "the client secret is in \(file)")
            XCTAssertNil(bytes.range(of: Data(backstageToken.utf8)), "the Backstage token is in \(file)")
        }
        environment["BACKSTAGE_TOKEN"] = nil
        try assertRecovers()
    }

    // MARK: 7. Local resource errors

    func testATenMegabyteHeaderOrTokenFailsFastWithoutRetries() throws {
        let header = "X-Padding: " + String(repeating: "h", count: 10 << 20) + "\r\n"
        let proxyBackstage = try hostileBackstage { request, wire in
            guard request.path.hasSuffix("/by-query") else { return false }
            wire.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + header + "Content-Length: 2\r\n\r\n{}")
            return true
        }
        let big = try measuredRun(["sync", "--json", "--kind", "component"])
        proxyBackstage.stop()
        assertContained(big, status: 1, within: 20)
        XCTAssertEqual(proxyBackstage.requests.count, 1, "a header too large is not retried")
        XCTAssertTrue(big.result.stdout.contains("header too large"), big.result.stdout)

        environment["BACKSTAGE_URL"] = backstage.baseURL
        let token = String(repeating: "t", count: 10 << 20)
        let proxyPort = try hostileTokenEndpoint { wire in
            wire.respond(status: 200, json: #"{"ok":true,"accessToken":"\#(token)","expiresIn":3600,"tokenType":"Bearer"}"#)
        }
        defer { proxyPort.stop() }
        let run = try syncOneChangePortFails(within: 20)
        XCTAssertTrue(run.result.stderr.contains("not a usable token"), run.result.stderr)
        XCTAssertEqual(tokenRequests(proxyPort), 1)
        XCTAssertLessThan(run.result.stdout.count + run.result.stderr.count, 100_000, "the token is not echoed")
        try assertRecovers()
    }

    /// gzip of `zeroBytes` zero bytes, made by the system's gzip.
    static func gzip(zeroBytes: Int) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "head -c \(zeroBytes) /dev/zero | gzip -c -9"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, !data.isEmpty else { throw XCTSkip("no gzip") }
        return data
    }
}
