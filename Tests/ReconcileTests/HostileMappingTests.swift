import Foundation
@testable import Reconcile
import Store
import XCTest

/// The jq work bound: the watchdog names the entity, field and expression of a mapping that runs
/// too long or allocates too much, and stays quiet for ordinary mappings. The expressions here are
/// slow but finite, so the evaluation ends after the watchdog has spoken (the real, unbounded
/// cases end the process: see HostileInputTests).
final class HostileMappingTests: XCTestCase {
    /// `properties.slow` of the last `overrun` mapping.
    private var slowValue: JSONValue?

    let entity: JSONValue = ["apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                             "metadata": ["name": "hog", "namespace": "default"], "spec": ["type": "service"]]

    /// Maps `entity` with a watchdog and returns what it reported.
    func overrun(expression: String, timeBudget: Double, memoryBudget: Int,
                 file: StaticString = #filePath, line: UInt = #line) throws -> MappingWatchdog.Overrun? {
        let mapping = try MappingTestSupport.compile(MappingTestSupport.single("""
            identifier: .metadata.name
            blueprint: '"component"'
            properties:
              type: .spec.type
              slow: '\(expression)'
            """))
        let reported = OverrunBox()
        let watchdog = MappingWatchdog(timeBudget: timeBudget, memoryBudget: memoryBudget, pollInterval: 0.02) { reported.set($0) }
        watchdog.start()
        defer { watchdog.stop() }
        let results = mapping.map(entity, ref: try MappingTestSupport.ref(of: entity))
        XCTAssertNotNil(results.first?.entity, "the slow expression still finishes", file: file, line: line)
        slowValue = results.first?.entity?.body[path: ["properties", "slow"]]
        return reported.value
    }

    func testAnEntityOverTheTimeBudgetIsReportedWithItsFieldAndExpression() throws {
        let found = try XCTUnwrap(try overrun(expression: "[range(4000000)] | length", timeBudget: 0.1, memoryBudget: 1 << 40))
        XCTAssertEqual(found.snapshot.entity.description, "component:default/hog")
        XCTAssertEqual(found.snapshot.field, "properties.slow")
        XCTAssertEqual(found.snapshot.expression, "[range(4000000)] | length")
        XCTAssertTrue(found.description.contains("ran longer than 0.1s of CPU"), found.description)
        XCTAssertTrue(found.description.contains("component:default/hog: resources[0] properties.slow"), found.description)
    }

    /// The one cost of evaluating a resource's expressions in one jq program: an expression is run to
    /// its end even after its first output, where Ocean stops at the first output. Here that output,
    /// "service", comes at once, but the rest takes long enough for the watchdog to speak (a truly
    /// endless one would end the run); the value is still the first output.
    func testAnExpressionRunsToItsEndAfterItsFirstOutput() throws {
        let expression = ".spec.type, ([range(4000000)] | length)"
        let found = try XCTUnwrap(try overrun(expression: expression, timeBudget: 0.1, memoryBudget: 1 << 40))
        XCTAssertEqual(found.snapshot.field, "properties.slow")
        XCTAssertEqual(found.snapshot.expression, expression)
        XCTAssertEqual(slowValue, "service")
    }

    func testAnEntityGrowingMemoryPastTheBudgetIsReported() throws {
        let found = try XCTUnwrap(try overrun(expression: "[range(6000000)] | length", timeBudget: 60, memoryBudget: 24 << 20))
        XCTAssertEqual(found.snapshot.field, "properties.slow")
        guard case .memory = found.limit else { return XCTFail("expected a memory overrun: \(found)") }
        XCTAssertTrue(found.description.contains("allocated more than 24 MiB"), found.description)
    }

    func testOrdinaryMappingsStayWithinBudget() throws {
        let mapping = try CompiledMapping(try PortAppConfig.parse(yaml: BuiltinMapping.yaml, file: "built-in"))
        let reported = OverrunBox()
        let watchdog = MappingWatchdog(timeBudget: 0.5, memoryBudget: 64 << 20, pollInterval: 0.01) { reported.set($0) }
        watchdog.start()
        defer { watchdog.stop() }
        for entity in try MappingTestSupport.fixture() {
            _ = mapping.map(entity, ref: try MappingTestSupport.ref(of: entity))
        }
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertNil(reported.value)
    }
}

/// The watchdog's report, handed across threads.
final class OverrunBox: @unchecked Sendable {
    private let lock = NSLock()
    private var overrun: MappingWatchdog.Overrun?

    func set(_ value: MappingWatchdog.Overrun) { lock.withLock { overrun = value } }

    var value: MappingWatchdog.Overrun? { lock.withLock { overrun } }
}
