import XCTest

final class ReconcilePlaceholderTests: XCTestCase {
    func testNothingYet() {}
}
