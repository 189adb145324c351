@testable import Reconcile
import Store
import XCTest

/// The comparison behind `verify`: only fields mirrorctl sends count, and Port's normal ways of
/// storing them (null dropped, single relation as a one-item array, team as an array) are not drift.
final class DriftComparisonTests: XCTestCase {
    let sent: JSONValue = [
        "blueprint": "component", "identifier": "component:default/a", "title": "A", "icon": .null, "team": "platform",
        "properties": ["type": "service", "description": .null, "labels": ["x": "1", "gone": .null], "size": 1],
        "relations": ["system": "system:default/s", "owningUser": .null, "providesApis": ["api:default/b", "api:default/a"], "dependsOn": []],
    ]

    func testPortsNormalizedFormIsNotDrift() {
        let port: JSONValue = [
            "identifier": "component:default/a", "title": "A", "team": ["platform"],
            "properties": ["type": "service", "labels": ["x": "1"], "size": 1.0, "extra": "someone else's"],
            "relations": ["system": ["system:default/s"], "providesApis": ["api:default/a", "api:default/b"], "dependsOn": .null],
            "createdBy": "x", "updatedAt": "y",
        ]
        XCTAssertEqual(DriftComparison.differences(acknowledged: sent, port: port), [])
    }

    func testEditedAndRemovedFieldsAreNamed() {
        let port: JSONValue = [
            "identifier": "component:default/a", "title": "edited by hand", "team": [],
            "properties": ["type": "website", "labels": ["x": "1"], "size": 1, "description": "now set"],
            "relations": ["system": .null, "providesApis": ["api:default/a"], "owningUser": "user:default/u"],
        ]
        XCTAssertEqual(DriftComparison.differences(acknowledged: sent, port: port),
                       ["properties.description", "properties.type", "relations.owningUser", "relations.providesApis",
                        "relations.system", "team", "title"])
    }

    func testKeysMirrorctlDoesNotSendAreIgnored() {
        let minimal: JSONValue = ["identifier": "x", "blueprint": "b", "properties": ["a": 1]]
        let port: JSONValue = ["identifier": "x", "title": "anything", "properties": ["a": 1, "b": 2], "relations": ["r": "t"]]
        XCTAssertEqual(DriftComparison.differences(acknowledged: minimal, port: port), [])
        XCTAssertEqual(DriftComparison.differences(acknowledged: minimal, port: ["identifier": "x"]), ["properties.a"])
    }

    func testIncludeListNamesOnlyTheSentFields() {
        XCTAssertEqual(DriftComparison.includes(of: sent),
                       ["$identifier", "$title", "$icon", "$team", "properties.type", "properties.description",
                        "properties.labels", "properties.size", "relations.system", "relations.owningUser",
                        "relations.providesApis", "relations.dependsOn"])
    }
}
