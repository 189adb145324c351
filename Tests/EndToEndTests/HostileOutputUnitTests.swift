@testable import mirrorctl
import Store
import XCTest

/// The CLI's side of hostile servers, without a process: watch ticks always end, the limits'
/// flags, and the one escape rule on every human line.
final class HostileOutputUnitTests: XCTestCase {
    func testAWatchTickWithoutATimeoutGetsTheDefaultOne() throws {
        let context = CommandContext(console: Console(), environment: ["BACKSTAGE_URL": "http://127.0.0.1:9"])
        let plain = try SyncChild(arguments: ParsedArguments(["--interval", "5s"], spec: WatchCommand.spec), context: context)
        XCTAssertEqual(plain.arguments.filter { $0.hasPrefix("--timeout") }, ["--timeout=1h"])
        let given = try SyncChild(arguments: ParsedArguments(["--timeout", "90s"], spec: WatchCommand.spec), context: context)
        XCTAssertEqual(given.arguments.filter { $0.hasPrefix("--timeout") }, ["--timeout=90s"])
        let limits = try SyncChild(arguments: ParsedArguments(["--idle-timeout", "5s", "--max-response-size", "8MiB"], spec: WatchCommand.spec),
                                   context: context)
        XCTAssertTrue(limits.arguments.contains("--idle-timeout=5s"), "the limits reach the sync child: \(limits.arguments)")
        XCTAssertTrue(limits.arguments.contains("--max-response-size=8MiB"))
    }

    func testLimitFlagsEnvironmentAndErrors() throws {
        let parsed = try ParsedArguments(["--max-response-size", "8MiB", "--idle-timeout", "5s"], spec: SyncCommand.spec)
        let configuration = try Configuration.load(parsed, environment: ["MIRROR_MAX_ENTITY_SIZE": "1M", "MIRROR_REQUEST_TIMEOUT": "30s"])
        XCTAssertEqual(configuration.transport.maxResponseBytes, 8 << 20)
        XCTAssertEqual(configuration.transport.idleTimeout, 5)
        XCTAssertEqual(configuration.transport.requestTimeout, 30)
        XCTAssertEqual(configuration.maxEntityBytes, 1 << 20)
        XCTAssertEqual(configuration.origins["http.maxEntitySize"], .environment("MIRROR_MAX_ENTITY_SIZE"))
        let bad = try ParsedArguments(["--max-response-size", "lots"], spec: SyncCommand.spec)
        XCTAssertThrowsError(try Configuration.load(bad, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("flag --max-response-size must be a size such as 64MiB"), "\(error)")
        }
    }

    func testHumanLinesEscapeControlCharactersAndJSONLinesStayJSON() throws {
        var written: [String] = []
        var logger = Logger()
        logger.write = { written.append($0) }
        logger.warn("warning", "Port said \u{1B}]0;title\u{07}\r\nINJECTED")
        XCTAssertEqual(written, ["mirrorctl: warning: Port said \\x1b]0;title\\x07\\r\\nINJECTED\n"])
        logger.settings.format = .json
        let line = logger.line(.warn, "warning", "a\u{1B}b\nc", fields: [:], run: nil)
        XCTAssertEqual(try CanonicalJSON.parse(Array(line.utf8))["message"]?.stringValue, "a\u{1B}b\nc", "JSON carries the text, escaped by JSON")
        XCTAssertFalse(line.contains("\u{1B}") || line.contains("\n"))

        let rows = table(["RUN", "ERROR"], [["1", "bad\r\nINJECTED-LINE\u{1B}[2J"]])
        XCTAssertEqual(rows.split(separator: "\n").count, 2, rows)
        XCTAssertTrue(rows.hasSuffix("bad\\r\\nINJECTED-LINE\\x1b[2J"), rows)
        var printed = ""
        let console = Console(out: { printed += $0 })
        console.print("# header \u{1B}[31m\nsecond line")
        XCTAssertEqual(printed, "# header \\x1b[31m\nsecond line\n")
    }
}
