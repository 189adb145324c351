@testable import mirrorctl
import Store
import XCTest

/// The pure parts of watch, logging and the config file, without a process.
final class OperationsUnitTests: XCTestCase {
    func testDurations() {
        XCTAssertEqual(DurationText.seconds("60s"), 60)
        XCTAssertEqual(DurationText.seconds("1h30m"), 5400)
        XCTAssertEqual(DurationText.seconds("250ms"), 0.25)
        XCTAssertEqual(DurationText.seconds("2d"), 172_800)
        XCTAssertEqual(DurationText.seconds("15"), 15)
        for bad in ["", "s", "5x", "-1", "1h-5m", "soon"] { XCTAssertNil(DurationText.seconds(bad), bad) }
        XCTAssertEqual(DurationText.describe(90), "1m30s")
        XCTAssertEqual(DurationText.describe(0.2), "200ms")
    }

    func testScheduleSkipsOverlappedTicksAndBacksOffWithACap() {
        let schedule = WatchSchedule(interval: 10, maxBackoff: 60)
        let start = Date(timeIntervalSince1970: 1000)
        XCTAssertEqual(schedule.nextTick(started: start, now: start.addingTimeInterval(3)).skipped, 0)
        XCTAssertEqual(schedule.nextTick(started: start, now: start.addingTimeInterval(3)).at, start.addingTimeInterval(10))
        let late = schedule.nextTick(started: start, now: start.addingTimeInterval(25))
        XCTAssertEqual(late.skipped, 2)
        XCTAssertEqual(late.at, start.addingTimeInterval(30))
        XCTAssertEqual((1...5).map(schedule.backoff(failures:)), [20, 40, 60, 60, 60])
    }

    func testLogLinesInBothFormats() {
        var lines: [String] = []
        var logger = Logger()
        logger.write = { lines.append($0) }
        logger.clock = { Date(timeIntervalSince1970: 0) }
        logger.warn("warning", "careful")
        logger.debug("noise", "hidden at info")
        logger.settings.format = .json
        logger.run = 7
        logger.info("run.finished", "done", fields: ["n": 1])
        XCTAssertEqual(lines[0], "mirrorctl: warning: careful\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[1], #"{"event":"run.finished","fields":{"n":1},"level":"info","message":"done","run":7,"time":"1970-01-01T00:00:00.000Z"}"# + "\n")
        logger.settings = LogSettings(level: .error, format: .human, color: true)
        logger.error("error", "bad")
        XCTAssertEqual(lines.last, "mirrorctl: \u{1B}[31merror: \u{1B}[0mbad\n")
    }

    func testGlobalOptionsAreTakenFromAnywhereBeforeTheDoubleDash() throws {
        var arguments = ["sync", "--log-level=debug", "--json", "--config", "c.yaml", "--no-color", "--", "--log-format"]
        let options = try GlobalOptions.extract(&arguments)
        XCTAssertEqual(arguments, ["sync", "--json", "--", "--log-format"])
        XCTAssertEqual(options.logLevel, "debug")
        XCTAssertEqual(options.configPath, "c.yaml")
        XCTAssertTrue(options.noColor)
        var missing = ["--log-format"]
        XCTAssertThrowsError(try GlobalOptions.extract(&missing))
        let settings = try options.logSettings(environment: ["MIRROR_LOG_FORMAT": "json", "NO_COLOR": ""], file: nil, stderrIsTerminal: true)
        XCTAssertEqual(settings.level, .debug)
        XCTAssertEqual(settings.format, .json)
        XCTAssertEqual(settings.levelSource, "flag --log-level")
        XCTAssertFalse(settings.color)
    }

    func testProgressLineRateAndETA() {
        XCTAssertEqual(ProgressLine.text("port: 50/200 pushed", done: 50, total: 200, elapsed: 5), "port: 50/200 pushed, 10/s, ETA 15s")
        XCTAssertEqual(ProgressLine.text("walk", done: 3, total: nil, elapsed: 2), "walk, 1.5/s")
        XCTAssertEqual(ProgressLine.text("walk", done: 0, total: nil, elapsed: 2), "walk")
    }
}
