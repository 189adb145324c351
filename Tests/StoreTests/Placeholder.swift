import XCTest

final class StorePlaceholderTests: XCTestCase {
    func testNothingYet() {}
}
