import FakeServers
@testable import Fetch
import Foundation
import Store
import XCTest

/// `--timeout`: requests, retry waits and walks stop at the run's deadline.
final class RunDeadlineTests: XCTestCase {
    func testARequestIsCutToTheTimeLeftAndNoneStartsAfterTheDeadline() throws {
        let slow = try HTTPServer { _ in HTTPResponse(status: 200, body: Data("{}".utf8), fault: .delay(seconds: 5)) }
        defer { slow.stop() }
        var options = TransportOptions()
        options.deadline = RunDeadline(seconds: 0.5, label: "500ms")
        let connection = try HTTPConnection(options: options)
        let started = Date()
        XCTAssertThrowsError(try connection.send(HTTPRequestSpec(url: slow.baseURL + "/slow")))
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 0.3)
        XCTAssertLessThan(elapsed, 2, "capped to the deadline, not the 120s request timeout")

        let requestsBefore = connection.requestCount
        XCTAssertThrowsError(try connection.send(HTTPRequestSpec(url: slow.baseURL + "/late"))) { error in
            XCTAssertTrue("\(error)".contains("run timeout (500ms) reached"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5, "no request is sent once the deadline has passed")
        XCTAssertLessThanOrEqual(connection.requestCount - requestsBefore, 1)
    }

    func testRetryWaitsStopAtTheDeadline() throws {
        var policy = RetryPolicy(maxAttempts: 100, baseDelay: 0.05, maxDelay: 0.05)
        policy.deadline = Date().addingTimeInterval(0.3)
        var attempts = 0
        let started = Date()
        XCTAssertThrowsError(try policy.run { _ -> RetryPolicy.Attempt<Int> in
            attempts += 1
            return .retry(URLError(.timedOut), headers: ["retry-after": "60"])
        }) { error in
            XCTAssertTrue((error as? RetryExhausted)?.deadlineReached == true, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertLessThan(attempts, 100)
    }

    /// A source of `pages` pages of one item each that sleeps `pause` seconds per page.
    final class SlowSource: CatalogSource {
        var pages: Int
        var pause: Double
        var failure: Error?
        var stats = SourceStats()
        var sourceDescription: String { "slow" }

        init(pages: Int, pause: Double, failure: Error? = nil) {
            self.pages = pages
            self.pause = pause
            self.failure = failure
        }

        func walk(kind: String, onPage: (EntityPage) throws -> Void) throws {
            for number in 1...pages {
                Thread.sleep(forTimeInterval: pause)
                if let failure { throw failure }
                try onPage(EntityPage(items: [JQValue(["kind": .string(kind)])], number: number, byteCount: 0))
            }
        }
    }

    func testAWalkStopsBetweenPagesOnceTheDeadlineHasPassed() throws {
        let source = DeadlineCatalogSource.bounding(SlowSource(pages: 50, pause: 0.02), by: RunDeadline(seconds: 0.2, label: "200ms"))
        var delivered = 0
        XCTAssertThrowsError(try source.walk(kind: "component") { _ in delivered += 1 }) { error in
            XCTAssertEqual("\(error)", "run timeout (200ms) reached")
        }
        XCTAssertGreaterThan(delivered, 0)
        XCTAssertLessThan(delivered, 50)
        XCTAssertThrowsError(try source.walk(kind: "api") { _ in XCTFail("no walk starts after the deadline") })
        XCTAssertEqual(source.sourceDescription, "slow")
    }

    func testFailuresBeforeTheDeadlineAndDatabaseErrorsAreLeftAlone() throws {
        let failing = DeadlineCatalogSource.bounding(SlowSource(pages: 1, pause: 0, failure: BackstageError.local("broken")),
                                                     by: RunDeadline(seconds: 60, label: "1m"))
        XCTAssertThrowsError(try failing.walk(kind: "component") { _ in }) { XCTAssertEqual("\($0)", "broken") }
        let source = DeadlineCatalogSource.bounding(SlowSource(pages: 3, pause: 0.1), by: RunDeadline(seconds: 0.05, label: "50ms"))
        XCTAssertThrowsError(try source.walk(kind: "component") { _ in throw DatabaseError(code: 5, message: "busy") }) { error in
            XCTAssertTrue(error is DatabaseError, "a database failure must still roll the run back: \(error)")
        }
    }

    func testAnIncrementalSourceStaysIncremental() throws {
        let client = try BackstageClient(baseURL: "http://127.0.0.1:9", token: nil)
        XCTAssertTrue(DeadlineCatalogSource.bounding(client, by: RunDeadline(seconds: 5, label: "5s")) is IncrementalCatalogSource)
        XCTAssertFalse(DeadlineCatalogSource.bounding(SlowSource(pages: 1, pause: 0), by: RunDeadline(seconds: 5, label: "5s"))
                        is IncrementalCatalogSource)
    }
}
