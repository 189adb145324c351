import XCTest

final class FetchPlaceholderTests: XCTestCase {
    func testNothingYet() {}
}
