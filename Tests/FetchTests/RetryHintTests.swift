@testable import Fetch
import Foundation
import XCTest

/// Which server hints the retry wait honours. Port sends `x-ratelimit-*` on every answer, so the
/// window's reset only matters once the window is spent.
final class RetryHintTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func testRetryAfterWinsOverTheRateLimitWindow() {
        XCTAssertEqual(RetryPolicy.hintedDelay(headers: ["retry-after": "3", "x-ratelimit-reset": "50", "x-ratelimit-remaining": "0"], now: now), 3)
    }

    func testASpentWindowIsWaitedOutInSecondsOrEpoch() {
        XCTAssertEqual(RetryPolicy.hintedDelay(headers: ["x-ratelimit-reset": "12", "x-ratelimit-remaining": "0"], now: now), 12)
        XCTAssertEqual(RetryPolicy.hintedDelay(headers: ["x-ratelimit-reset": "1800000040"], now: now), 40)
    }

    func testA503WithRequestsLeftInTheWindowBacksOffInstead() {
        XCTAssertNil(RetryPolicy.hintedDelay(headers: ["x-ratelimit-reset": "1800000055", "x-ratelimit-remaining": "812"], now: now))
        let policy = RetryPolicy(baseDelay: 0.5)
        XCTAssertLessThan(policy.delay(afterAttempt: 1, headers: ["x-ratelimit-reset": "1800000055", "x-ratelimit-remaining": "812"], now: now), 1)
    }
}
