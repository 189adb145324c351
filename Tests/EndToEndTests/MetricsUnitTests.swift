@testable import mirrorctl
import Store
import XCTest

/// The pure parts of monitoring: the exposition text, listen addresses, request lines, and the
/// watcher's health rules.
final class MetricsUnitTests: XCTestCase {
    func testLabelValuesAndHelpAreEscapedAndNumbersWrittenAsPrometheusReadsThem() throws {
        let family = MetricFamily("m", .gauge, help: "a \\ b\nc \"d\"", samples: [
            .init(labels: [("reason", "quote\" back\\slash\nnewline")], value: 1.5),
            .init(labels: [("reason", "plain")], value: .infinity),
            .init(labels: [], value: 1_796_209_675.09),
        ])
        let text = MetricsText.render([family])
        XCTAssertEqual(text, """
            # HELP m a \\\\ b\\nc "d"
            # TYPE m gauge
            m{reason="quote\\" back\\\\slash\\nnewline"} 1.5
            m{reason="plain"} +Inf
            m 1796209675.09

            """)
        let parsed = try Exposition(text)
        XCTAssertEqual(parsed.samples[0].labels["reason"], "quote\" back\\slash\nnewline")
        XCTAssertEqual(MetricsText.number(42), "42")
        XCTAssertEqual(MetricsText.number(-0.25), "-0.25")
        XCTAssertEqual(MetricsText.number(.nan), "NaN")
        XCTAssertEqual(MetricsText.number(-.infinity), "-Inf")
    }

    func testRunMetricsComeFromTheRunsReport() throws {
        let report: JSONValue = [
            "run": 12, "status": "partial", "reasons": ["push-rejected", "mapping-errors"],
            "seconds": ["walk": 1.25, "push": 0.5],
            "source": ["fetched": 10, "created": 2, "updated": 3, "deleted": 1, "unchanged": 4],
            "port": ["upserted": 5, "deleted": 1, "failed": 3, "rejected": 2, "pending": 4, "unchanged": 6],
            "mapping": ["errors": 7],
            "requests": ["backstage": ["200": 9, "none": 1], "port": ["200": 4, "422": 2]],
        ]
        var metrics = RunMetrics()
        XCTAssertEqual(try Exposition(metrics.text).samples.count, 0, "no run yet: no made-up values")
        metrics.record(RunSummary(report: report, finishedAt: Date(timeIntervalSince1970: 1000.5)))
        metrics.record(RunSummary(report: report, finishedAt: Date(timeIntervalSince1970: 2000)))
        let parsed = try Exposition(metrics.text)
        XCTAssertEqual(parsed.value("mirrorctl_last_run_timestamp_seconds"), 2000)
        XCTAssertEqual(parsed.value("mirrorctl_last_run_success"), 0)
        XCTAssertEqual(parsed.value("mirrorctl_last_run_id"), 12)
        XCTAssertEqual(parsed.value("mirrorctl_last_run_reasons", ["reason": "push-rejected"]), 1)
        XCTAssertEqual(parsed.value("mirrorctl_run_duration_seconds", ["stage": "walk"]), 1.25)
        XCTAssertEqual(parsed.value("mirrorctl_entities", ["change": "updated"]), 3)
        XCTAssertNil(parsed.value("mirrorctl_entities", ["change": "fetched"]))
        // Rejected entities are not counted again as failed.
        XCTAssertEqual(parsed.value("mirrorctl_port_entities", ["result": "failed"]), 1)
        XCTAssertEqual(parsed.value("mirrorctl_port_entities", ["result": "rejected"]), 2)
        XCTAssertEqual(parsed.value("mirrorctl_mapping_errors"), 7)
        // Two runs recorded: the request counters add up.
        XCTAssertEqual(parsed.value("mirrorctl_requests_total", ["target": "backstage", "code": "200"]), 18)
        XCTAssertEqual(parsed.value("mirrorctl_requests_total", ["target": "port", "code": "422"]), 4)

        var failed = RunMetrics()
        failed.record(RunSummary(unreportedAt: Date(timeIntervalSince1970: 5)))
        let failedText = try Exposition(failed.text)
        XCTAssertEqual(failedText.value("mirrorctl_last_run_success"), 0)
        XCTAssertNil(failedText.value("mirrorctl_last_run_id"))
    }

    func testListenAddresses() throws {
        XCTAssertEqual(try ListenAddress(parsing: "9464"), ListenAddress(host: "127.0.0.1", port: 9464))
        XCTAssertEqual(try ListenAddress(parsing: ":9464"), ListenAddress(host: "127.0.0.1", port: 9464))
        XCTAssertEqual(try ListenAddress(parsing: "0.0.0.0:80"), ListenAddress(host: "0.0.0.0", port: 80))
        XCTAssertEqual(try ListenAddress(parsing: "[::1]:9464"), ListenAddress(host: "::1", port: 9464))
        XCTAssertEqual(try ListenAddress(parsing: "[::1]:9464").description, "[::1]:9464")
        for bad in ["", "host:", "::1:9464", "[::1]9464", "h:99999", "h:-1", "h:http", "h:٣"] {
            XCTAssertThrowsError(try ListenAddress(parsing: bad), bad)
        }
    }

    func testRequestLines() {
        func line(_ text: String) -> HTTPRequestLine? { HTTPRequestLine(Array(text.utf8)) }
        XCTAssertEqual(line("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")?.path, "/metrics")
        XCTAssertEqual(line("HEAD /healthz HTTP/1.0\n\n")?.method, "HEAD")
        for bad in ["GET /metrics", "get /metrics HTTP/1.1", "GET metrics HTTP/1.1", "GET  /metrics HTTP/1.1", "GET /m HTTP/2"] {
            XCTAssertNil(line(bad + "\r\n\r\n"), bad)
        }
        XCTAssertNil(HTTPRequestLine.headEnd(in: Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8)))
        XCTAssertEqual(HTTPRequestLine.headEnd(in: Array("GET / HTTP/1.1\r\n\r\n".utf8)), 17)
        XCTAssertEqual(HTTPRequestLine.headEnd(in: Array("GET / HTTP/1.1\n\n".utf8)), 15)
    }

    func testHealthIsAboutTheLoopNotTheRunsOutcome() {
        let monitor = WatchMonitor(runBound: WatchMonitor.runBound(timeout: 30, grace: 10))
        XCTAssertEqual(monitor.runBound, 100)
        let start = Date(timeIntervalSince1970: 10_000)
        monitor.waiting(until: start)
        XCTAssertTrue(monitor.health(now: start.addingTimeInterval(59)).healthy)
        XCTAssertFalse(monitor.health(now: start.addingTimeInterval(61)).healthy, "the loop stopped ticking")
        monitor.runStarted(at: start)
        XCTAssertTrue(monitor.health(now: start.addingTimeInterval(99)).healthy)
        let stuck = monitor.health(now: start.addingTimeInterval(101))
        XCTAssertFalse(stuck.healthy)
        XCTAssertTrue(stuck.detail.contains("longer than"), stuck.detail)
        monitor.runEnded(RunSummary(unreportedAt: start))
        XCTAssertTrue(monitor.health(now: start.addingTimeInterval(500)).healthy, "a failed run is not a dead watcher")
        XCTAssertEqual(monitor.reply(path: "/healthz").status, 200)
        XCTAssertEqual(monitor.reply(path: "/metrics").contentType, MetricsText.contentType)
        monitor.stopping()
        XCTAssertEqual(monitor.reply(path: "/healthz").status, 503)
        XCTAssertEqual(WatchMonitor.runBound(timeout: nil, grace: 20), 3680)
    }
}
