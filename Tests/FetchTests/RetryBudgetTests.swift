@testable import Fetch
import Foundation
import XCTest

/// The circuit breaker: one retry allowance per run and server, shared by every call.
final class RetryBudgetTests: XCTestCase {
    struct Refused: Error {}
    struct Answer: Error {}

    func policy(_ budget: RetryBudget, attempts: Int = 6) -> RetryPolicy {
        RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.01, budget: budget)
    }

    func testAServerThatNeverAnswersIsGivenUpOnForTheRestOfTheRun() throws {
        let budget = RetryBudget(server: "Port", maxWait: 10)
        var calls = 0
        XCTAssertThrowsError(try policy(budget, attempts: 3).run { _ -> RetryPolicy.Attempt<Int> in
            calls += 1
            return .unreachable(Refused())
        }) { error in
            XCTAssertEqual((error as? CircuitTrip)?.cause, .unreachable)
        }
        XCTAssertEqual(calls, 3)
        // Every later call, on any connection, fails at once without trying.
        XCTAssertThrowsError(try policy(budget).run { _ -> RetryPolicy.Attempt<Int> in
            calls += 1
            return .success(1)
        }) { error in
            XCTAssertTrue("\(error)".hasPrefix("Port is unreachable: "), "\(error)")
        }
        XCTAssertEqual(calls, 3)
    }

    func testFailureWaitsOfAllCallsDrawOnOneAllowance() throws {
        let budget = RetryBudget(server: "Backstage", maxWait: 0.035)
        var calls = 0
        // Each call retries once (0.01 s) and then succeeds: three calls fit, the fourth's wait doesn't.
        for _ in 0..<3 {
            var first = true
            XCTAssertEqual(try policy(budget).run { _ -> RetryPolicy.Attempt<Int> in
                calls += 1
                defer { first = false }
                return first ? .retry(Answer(), headers: [:]) : .success(1)
            }, 1)
        }
        XCTAssertThrowsError(try policy(budget).run { _ -> RetryPolicy.Attempt<Int> in .retry(Answer(), headers: [:]) }) { error in
            XCTAssertEqual((error as? CircuitTrip)?.cause, .failing)
        }
        XCTAssertNotNil(budget.trip)
        XCTAssertEqual(calls, 6)
    }

    func testThrottlingDoesNotSpendTheAllowance() throws {
        let budget = RetryBudget(server: "Port", maxWait: 0.001)
        var attempts = 0
        XCTAssertEqual(try policy(budget).run { _ -> RetryPolicy.Attempt<Int> in
            attempts += 1
            return attempts < 4 ? .throttled(Answer(), headers: [:]) : .success(7)
        }, 7)
        XCTAssertNil(budget.trip)
        func attempt(_ status: Int) -> RetryPolicy.Attempt<Int> { RetryPolicy.attempt(status: status, error: Answer(), headers: [:]) }
        if case .throttled = attempt(429) {} else { XCTFail("429 is throttling") }
        if case .retry = attempt(503) {} else { XCTFail("503 is a failure worth a retry") }
        if case .failure = attempt(401) {} else { XCTFail("401 is an answer") }
    }

    func testRefusedCredentialsTripAtOnceAndWakeWaiters() throws {
        let budget = RetryBudget(server: "Port", maxWait: 60)
        let started = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
            budget.open(.credentialsRefused, detail: "Port answered 401")
        }
        // A call waiting out a long retry stops as soon as another connection trips the budget.
        let slow = RetryPolicy(maxAttempts: 3, baseDelay: 20, maxDelay: 20, budget: budget)
        XCTAssertThrowsError(try slow.run { _ -> RetryPolicy.Attempt<Int> in .retry(Answer(), headers: [:]) }) { error in
            XCTAssertEqual((error as? CircuitTrip)?.cause, .credentialsRefused)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }
}
