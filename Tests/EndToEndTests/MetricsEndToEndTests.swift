import FakeServers
import Foundation
import Store
import XCTest

/// Monitoring through the built binary: `sync --metrics-file`, `watch --metrics-addr` (/metrics,
/// /healthz and how the server holds up against bad clients), and the `run.finished` log event.
final class MetricsEndToEndTests: PortBackedCase {
    var catalogSize: Double { Double(backstage.allEntities.count) }

    var metricsPath: String { directory.appendingPathComponent("textfile/mirrorctl.prom").path }

    func readMetrics() throws -> Exposition {
        try Exposition(String(contentsOfFile: metricsPath, encoding: .utf8))
    }

    /// Requests the fakes answered, by status code, as `mirrorctl_requests_total` should count them.
    func fakeRequestCounts() -> (backstage: [String: Double], port: [String: Double]) {
        var backstageCounts: [String: Double] = [:]
        for (status, count) in backstage.stats.requestsByStatus { backstageCounts[String(status), default: 0] += Double(count) }
        var portCounts: [String: Double] = [:]
        for record in port.requestLog { portCounts[String(record.status), default: 0] += 1 }
        return (backstageCounts, portCounts)
    }

    func requestCounts(_ metrics: Exposition, target: String) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: metrics.samples("mirrorctl_requests_total").filter { $0.labels["target"] == target }.map {
            ($0.labels["code"] ?? "?", $0.value)
        })
    }

    // MARK: - sync --metrics-file

    func testMetricsFileAfterARealSyncSaysWhatTheRunDidAndWhatTheFakesSaw() throws {
        try FileManager.default.createDirectory(atPath: directory.appendingPathComponent("textfile").path, withIntermediateDirectories: true)
        // Two bulk writes answer 503 (retried), and three entities are refused by Port (422).
        port.injectFault(status: 503, method: "POST", pathContains: "/entities/bulk", count: 2)
        let refused = backstage.allEntities.filter { $0["kind"] == "Component" }.prefix(3).compactMap { EntityRef(entity: $0)?.description }
        port.forceFailures(identifiers: refused)
        let before = Date().timeIntervalSince1970
        let sync = try mirrorctl(["sync", "--json", "--metrics-file", metricsPath])
        let after = Date().timeIntervalSince1970
        let report = try XCTUnwrap(sync.json, sync.stderr)
        let metrics = try readMetrics()

        for name in ["mirrorctl_last_run_timestamp_seconds", "mirrorctl_last_run_success", "mirrorctl_run_duration_seconds",
                     "mirrorctl_entities", "mirrorctl_port_entities", "mirrorctl_mapping_errors", "mirrorctl_requests_total"] {
            XCTAssertNotNil(metrics.help[name], "\(name) has no HELP line")
        }
        XCTAssertEqual(metrics.types["mirrorctl_requests_total"], "counter")
        XCTAssertEqual(metrics.types["mirrorctl_last_run_success"], "gauge")
        let timestamp = try XCTUnwrap(metrics.value("mirrorctl_last_run_timestamp_seconds"))
        XCTAssertGreaterThanOrEqual(timestamp, before.rounded(.down))
        XCTAssertLessThanOrEqual(timestamp, after.rounded(.up))
        XCTAssertEqual(metrics.value("mirrorctl_last_run_success"), report["status"] == "succeeded" ? 1 : 0)
        XCTAssertEqual(metrics.value("mirrorctl_last_run_id"), report["run"]?.numberValue)
        // Entities by change, as the run's report counts them.
        XCTAssertEqual(metrics.value("mirrorctl_entities", ["change": "created"]), catalogSize)
        for change in ["updated", "deleted", "unchanged"] {
            XCTAssertEqual(metrics.value("mirrorctl_entities", ["change": change]), 0, change)
        }
        // Port results: the refused entities are rejected (not failed), the rest upserted.
        XCTAssertEqual(metrics.value("mirrorctl_port_entities", ["result": "rejected"]), 3)
        XCTAssertEqual(metrics.value("mirrorctl_port_entities", ["result": "upserted"]), report[path: ["port", "upserted"]]?.numberValue)
        XCTAssertGreaterThan(metrics.value("mirrorctl_port_entities", ["result": "upserted"]) ?? 0, catalogSize / 2)
        XCTAssertEqual(metrics.value("mirrorctl_port_entities", ["result": "failed"]), 0)
        XCTAssertEqual(metrics.value("mirrorctl_port_entities", ["result": "pending"]), report[path: ["port", "pending"]]?.numberValue)
        XCTAssertEqual(Set(metrics.samples("mirrorctl_port_entities").compactMap { $0.labels["result"] }),
                       ["upserted", "deleted", "failed", "rejected", "pending", "unchanged"])
        XCTAssertEqual(metrics.value("mirrorctl_mapping_errors"), 0)
        // A duration per stage the run reported.
        let stages = try XCTUnwrap(report["seconds"]?.objectValue)
        XCTAssertEqual(Set(metrics.samples("mirrorctl_run_duration_seconds").compactMap { $0.labels["stage"] }), Set(stages.keys))
        XCTAssertEqual(metrics.value("mirrorctl_run_duration_seconds", ["stage": "walk"]), stages["walk"]?.numberValue)
        // Requests per target and code: exactly what the fakes answered, retries included.
        let seen = fakeRequestCounts()
        XCTAssertEqual(requestCounts(metrics, target: "backstage"), seen.backstage)
        XCTAssertEqual(requestCounts(metrics, target: "port"), seen.port)
        XCTAssertEqual(seen.port["503"], 2)
        XCTAssertNotNil(seen.port["200"])
    }

    func testTheMetricsFileIsReplacedWholeAndAFailedRunSaysSo() throws {
        let folder = directory.appendingPathComponent("textfile")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        assertStatus(try mirrorctl(["sync", "--metrics-file", metricsPath]), 0)
        let first = try FileManager.default.attributesOfItem(atPath: metricsPath)
        XCTAssertEqual(try readMetrics().value("mirrorctl_last_run_success"), 1)
        XCTAssertEqual((first[.posixPermissions] as? NSNumber)?.intValue, 0o644, "readable by node_exporter")

        // Backstage answers 503 to everything: every kind fails, the run is failed (exit 1).
        backstage.injectFault(.status(503, times: 1_000_000))
        let failed = try mirrorctl(["sync", "--max-retries", "1", "--metrics-file", metricsPath])
        assertStatus(failed, 1)
        let second = try FileManager.default.attributesOfItem(atPath: metricsPath)
        // Renamed into place, not rewritten: a new file, and no temporary file left behind.
        XCTAssertNotEqual((first[.systemFileNumber] as? NSNumber), (second[.systemFileNumber] as? NSNumber))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["mirrorctl.prom"])
        let metrics = try readMetrics()
        XCTAssertEqual(metrics.value("mirrorctl_last_run_success"), 0)
        XCTAssertEqual(metrics.value("mirrorctl_requests_total", ["target": "backstage", "code": "503"]), Double(backstage.stats.requestsByStatus[503] ?? -1))
        XCTAssertEqual(metrics.value("mirrorctl_requests_total", ["target": "backstage", "code": "200"]), nil, "counts are the run's own")

        // Backstage not listening at all: the requests got no HTTP answer.
        let closed = try mirrorctl(["sync", "--max-retries", "0", "--metrics-file", metricsPath],
                                   env: ["BACKSTAGE_URL": "http://127.0.0.1:1"])
        assertStatus(closed, 1)
        XCTAssertGreaterThan(try readMetrics().value("mirrorctl_requests_total", ["target": "backstage", "code": "none"]) ?? 0, 0)

        // A database that can't be opened: no report, but the file still says the run failed.
        backstage.clearFaults()
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: databasePath + ".bad"))
        let broken = try mirrorctl(["sync", "--metrics-file", metricsPath], env: ["MIRROR_DB": databasePath + ".bad"])
        assertStatus(broken, 4)
        XCTAssertEqual(try readMetrics().value("mirrorctl_last_run_success"), 0)

        // A directory that does not exist is a configuration error, before anything runs.
        let typo = try mirrorctl(["sync", "--metrics-file", directory.appendingPathComponent("nowhere/m.prom").path])
        assertStatus(typo, 2)
        XCTAssertTrue(typo.stderr.contains("--metrics-file"), typo.stderr)
    }

    // MARK: - run.finished

    func logLines(_ stderr: String) -> [JSONValue] {
        stderr.split(separator: "\n").compactMap { try? CanonicalJSON.parse(String($0)) }
    }

    func testSyncLogsOneRunFinishedEventAndItsErrorsCarryTheRunID() throws {
        let first = try mirrorctl(["sync", "--json", "--log-format", "json"])
        assertStatus(first, 0)
        let finished = logLines(first.stderr).filter { $0["event"] == "run.finished" }
        XCTAssertEqual(finished.count, 1, first.stderr)
        let event = try XCTUnwrap(finished.first)
        XCTAssertEqual(event["run"], first.json?["run"])
        XCTAssertEqual(event["level"], "info")
        XCTAssertEqual(event[path: ["fields", "status"]], "succeeded")
        XCTAssertEqual(event[path: ["fields", "reasons"]], .array(first.json?["reasons"]?.arrayValue ?? []))
        XCTAssertEqual(event[path: ["fields", "exitStatus"]], 0)
        XCTAssertEqual(event[path: ["fields", "source"]], first.json?["source"])
        XCTAssertEqual(event[path: ["fields", "port"]], first.json?["port"])
        XCTAssertEqual(event[path: ["fields", "source", "created"]]?.numberValue, catalogSize)

        // Users can't be walked: a partial run, whose error and warning lines name the run.
        backstage.injectFault(.failAfterPage(0, status: 500, kind: "user"))
        let partial = try mirrorctl(["sync", "--json", "--log-format", "json", "--max-retries", "0"])
        assertStatus(partial, 3)
        let run = try XCTUnwrap(partial.json?["run"])
        let lines = logLines(partial.stderr)
        let errors = lines.filter { $0["level"] == "error" }
        XCTAssertFalse(errors.isEmpty, partial.stderr)
        for line in errors + lines.filter({ $0["level"] == "warn" }) { XCTAssertEqual(line["run"], run, "\(line)") }
        let partialFinished = lines.filter { $0["event"] == "run.finished" }
        XCTAssertEqual(partialFinished.count, 1)
        XCTAssertEqual(partialFinished.first?["level"], "warn")
        XCTAssertEqual(partialFinished.first?[path: ["fields", "status"]], "partial")
        XCTAssertEqual(partialFinished.first?[path: ["fields", "exitStatus"]], 3)

        // Human logs keep stderr as it was: the run's summary is on stdout only.
        backstage.clearFaults()
        let human = try mirrorctl(["sync"])
        assertStatus(human, 0)
        XCTAssertFalse(human.stderr.contains("run.finished"))
        XCTAssertEqual(human.stderr, "")
        // diff runs no sync: no event.
        let diff = try mirrorctl(["diff", "--json", "--log-format", "json"])
        XCTAssertTrue(logLines(diff.stderr).allSatisfy { $0["event"] != "run.finished" }, diff.stderr)
    }

    // MARK: - watch --metrics-addr

    typealias Watcher = WatchEndToEndTests.Watcher

    func startWatch(_ arguments: [String]) throws -> (Watcher, UInt16) {
        let (process, out, err) = try launchMirrorctl(["watch", "--log-format", "json", "--metrics-addr", "0"] + arguments)
        let watcher = Watcher(process: process, stdout: out, stderr: err)
        waitFor("the metrics server") { watcher.metricsPort != nil || !process.isRunning }
        let port = try XCTUnwrap(watcher.metricsPort, "watch did not start its server: \(watcher.logLines)")
        XCTAssertEqual(watcher.events("metrics.listening").first?[path: ["fields", "address"]], .string("127.0.0.1:\(port)"),
                       "a bare port binds loopback")
        return (watcher, port)
    }

    func testWatchServesTheMetricsOfItsRunsAndAHealthCheck() throws {
        let (watcher, metricsPort) = try startWatch(["--interval", "300ms"])
        defer { if watcher.process.isRunning { _ = watcher.stop() } }
        waitFor("two runs") { watcher.events("run.finished").count >= 2 }

        let health = try LoopbackHTTP.get(port: metricsPort, "/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.body, "ok\n")

        let runs = watcher.events("run.finished")
        let answer = try LoopbackHTTP.get(port: metricsPort, "/metrics?from=prometheus")
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(answer.headers["content-length"], String(answer.body.utf8.count))
        let metrics = try Exposition(answer.body)
        XCTAssertGreaterThanOrEqual(metrics.value("mirrorctl_last_run_id") ?? 0, runs[1]["run"]?.numberValue ?? .infinity)
        XCTAssertEqual(metrics.value("mirrorctl_last_run_success"), 1)
        XCTAssertEqual(metrics.value("mirrorctl_entities", ["change": "unchanged"]), catalogSize, "a later run finds everything unchanged")
        // Counters add up over the watcher's runs: each run asks Backstage at least once per kind
        // (7), and never more than Backstage answered.
        let backstageOK = try XCTUnwrap(metrics.value("mirrorctl_requests_total", ["target": "backstage", "code": "200"]))
        XCTAssertGreaterThanOrEqual(backstageOK, Double(7 * runs.count))
        XCTAssertLessThanOrEqual(backstageOK, Double(backstage.stats.requestsByStatus[200] ?? 0))
        XCTAssertGreaterThan(metrics.value("mirrorctl_requests_total", ["target": "port", "code": "200"]) ?? 0, 0, "the first run's push")

        // HEAD: the same head, no body.
        let head = try LoopbackHTTP.get(port: metricsPort, "/metrics", method: "HEAD")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, "")
        XCTAssertGreaterThan(Int(head.headers["content-length"] ?? "") ?? 0, 100)

        // Anything but GET and HEAD is refused, naming what is allowed.
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            let refused = try LoopbackHTTP.exchange(port: metricsPort, "\(method) /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            XCTAssertEqual(refused.status, 405, method)
            XCTAssertEqual(refused.headers["allow"], "GET, HEAD")
        }
        XCTAssertEqual(try LoopbackHTTP.get(port: metricsPort, "/admin").status, 404)
        XCTAssertEqual(try LoopbackHTTP.exchange(port: metricsPort, "GARBAGE\r\n\r\n").status, 400)
        // A request head larger than the bound is refused without reading it all.
        let oversized = try LoopbackHTTP.exchange(port: metricsPort, "GET /metrics HTTP/1.1\r\nX-Filler: \(String(repeating: "a", count: 64 * 1024))\r\n\r\n")
        XCTAssertEqual(oversized.status, 431)
        // None of it disturbed the watcher.
        let runsSoFar = watcher.events("run.finished").count
        waitFor("another run") { watcher.events("run.finished").count > runsSoFar }
        XCTAssertEqual(try LoopbackHTTP.get(port: metricsPort, "/healthz").status, 200)
        XCTAssertEqual(watcher.stop(), 0)
        XCTAssertThrowsError(try LoopbackHTTP.get(port: metricsPort, "/healthz"), "the port is closed with the watcher")
    }

    func testHealthIs503OnceTheWatcherIsStoppingButNotForAFailedRun() throws {
        // Every run fails (Backstage refuses it): unhealthy for alerting, still alive.
        backstage.injectFault(.status(403, times: 1_000_000))
        let (watcher, metricsPort) = try startWatch(["--interval", "100ms", "--max-backoff", "200ms", "--grace", "10s"])
        waitFor("a failed run") { !watcher.events("run.finished").isEmpty }
        XCTAssertEqual(try LoopbackHTTP.get(port: metricsPort, "/healthz").status, 200, "a failed run is not a dead watcher")
        let failedMetrics = try Exposition(LoopbackHTTP.get(port: metricsPort, "/metrics").body)
        XCTAssertEqual(failedMetrics.value("mirrorctl_last_run_success"), 0)
        XCTAssertGreaterThan(failedMetrics.value("mirrorctl_requests_total", ["target": "backstage", "code": "403"]) ?? 0, 0)

        // A slow run is going when SIGTERM comes: during its grace the watcher says it is stopping.
        backstage.clearFaults()
        backstage.injectFault(.delay(0.3, times: 10_000))
        let requests = backstage.stats.requests
        waitFor("a slow run to start") { backstage.stats.requests > requests }
        XCTAssertEqual(try LoopbackHTTP.get(port: metricsPort, "/healthz").status, 200, "a run in progress is healthy")
        kill(watcher.process.processIdentifier, SIGTERM)
        waitFor("the watcher to note the signal") { !watcher.events("watch.stopping").isEmpty || !watcher.process.isRunning }
        let stopping = try LoopbackHTTP.get(port: metricsPort, "/healthz")
        XCTAssertEqual(stopping.status, 503)
        XCTAssertEqual(stopping.body, "stopping\n")
        XCTAssertEqual(watcher.stop(), 0)
    }

    func testTheServerBoundsConnectionsAndSlowClients() throws {
        let (watcher, metricsPort) = try startWatch(["--interval", "1h"])
        defer { if watcher.process.isRunning { _ = watcher.stop() } }
        // Eight clients connect and say nothing: they hold every connection slot.
        var idle = try (0..<8).map { _ in try LoopbackHTTP.connect(port: metricsPort) }
        Thread.sleep(forTimeInterval: 0.5)
        // A ninth is closed at once, unanswered, rather than queued behind them.
        let ninth = try LoopbackHTTP.connect(port: metricsPort, receiveTimeout: 3)
        let started = Date()
        XCTAssertEqual(try LoopbackHTTP.readToEnd(ninth), [])
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        // The silent ones get 408 once the request time (5 s) is up, and the slots free up.
        let timedOut = try LoopbackHTTP.parse(LoopbackHTTP.readToEnd(idle[0]))
        XCTAssertEqual(timedOut.status, 408)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        for connection in idle.dropFirst() { XCTAssertEqual(try LoopbackHTTP.parse(LoopbackHTTP.readToEnd(connection)).status, 408) }
        idle = []  // closes them
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(try LoopbackHTTP.get(port: metricsPort, "/healthz").status, 200)
        XCTAssertTrue(watcher.process.isRunning)
    }

    func testABadOrBusyMetricsAddressIsAConfigurationError() throws {
        let bad = try mirrorctl(["watch", "--metrics-addr", "localhost:http"])
        assertStatus(bad, 2)
        XCTAssertTrue(bad.stderr.contains("--metrics-addr"), bad.stderr)
        let (watcher, metricsPort) = try startWatch(["--interval", "1h"])
        defer { if watcher.process.isRunning { _ = watcher.stop() } }
        let busy = try mirrorctl(["watch", "--metrics-addr", "127.0.0.1:\(metricsPort)"], timeout: 20)
        assertStatus(busy, 2)
        XCTAssertTrue(busy.stderr.contains("cannot listen"), busy.stderr)
    }
}

extension WatchEndToEndTests.Watcher {
    /// The port the watcher's metrics server said it listens on.
    var metricsPort: UInt16? {
        events("metrics.listening").first?[path: ["fields", "port"]]?.numberValue.map { UInt16($0) }
    }
}
