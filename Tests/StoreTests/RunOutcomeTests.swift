import Store
import XCTest

/// The one rule for how a run ended.
final class RunOutcomeTests: XCTestCase {
    func facts(kinds: Int = 7, incomplete: Int = 0, push: PushFacts? = PushFacts()) -> RunFacts {
        var facts = RunFacts()
        facts.kinds = kinds
        facts.incompleteKinds = incomplete
        facts.push = push
        return facts
    }

    func testACleanRunSucceedsAndAMirrorOnlyRunToo() {
        XCTAssertEqual(RunOutcome(facts()), RunOutcome(status: .succeeded, reasons: []))
        XCTAssertEqual(RunOutcome(facts(push: nil)).status, .succeeded, "mirror-only by configuration")
    }

    func testNoKindWalkedIsFailedSomeIsPartial() {
        var all = facts(incomplete: 7)
        all.sourceFailures = [.sourceUnreachable]
        XCTAssertEqual(RunOutcome(all), RunOutcome(status: .failed, reasons: [.sourceUnreachable, .kindIncomplete]))
        XCTAssertEqual(RunOutcome(facts(incomplete: 1)), RunOutcome(status: .partial, reasons: [.kindIncomplete]))
    }

    func testEveryShortfallIsAReason() {
        var mapping = facts()
        mapping.mappingErrors = 3
        XCTAssertEqual(RunOutcome(mapping), RunOutcome(status: .partial, reasons: [.mappingErrors]))
        var selector = facts()
        selector.selectorErrors = 1
        selector.deletesWithheld = true
        XCTAssertEqual(RunOutcome(selector).reasons, [.selectorErrors, .deletesWithheld])
        XCTAssertEqual(RunOutcome(facts(push: PushFacts(failed: 2))).reasons, [.pushFailed])
        XCTAssertEqual(RunOutcome(facts(push: PushFacts(rejected: 1))).reasons, [.pushRejected])
        XCTAssertEqual(RunOutcome(facts(push: PushFacts(failed: 40, stop: .unreachable))).reasons, [.portUnreachable],
                       "what a stopped push did not send is the stop's, not a separate failure")
        XCTAssertEqual(RunOutcome(facts(push: PushFacts(failed: 40, stop: .credentialsRefused))).reasons, [.portAuthRejected])
        XCTAssertEqual(RunOutcome(facts(push: PushFacts(failed: 40, stop: .timeout))).reasons, [.runTimeout])
    }

    func testTheShortReasonForTables() {
        XCTAssertEqual(RunOutcome(status: .partial, reasons: [.deletesWithheld, .selectorErrors]).short, "selector-errors (+1)")
        XCTAssertEqual(RunOutcome(status: .succeeded, reasons: []).short, "")
        XCTAssertEqual(RunReason.portAuthRejected.hint, "check PORT_CLIENT_ID and PORT_CLIENT_SECRET (or *_FILE)")
    }
}
