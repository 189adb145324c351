import CJQ
@testable import Fetch
import Store
import XCTest

/// A page libjq refuses as a whole (one item nested too deep) still yields its other items.
final class PageSalvageTests: XCTestCase {
    func testADeepItemCostsOnlyItself() throws {
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        let text = #"{"items":[{"a":"x ] \" [ }"},"# + deep + #",{"b":[1,{"c":null}]},42],"totalItems":4,"pageInfo":{"nextCursor":"abc"}}"#
        XCTAssertThrowsError(try JQValue.parse(text), "libjq refuses the whole page")
        let page = try XCTUnwrap(PageSalvage.salvage(Array(text.utf8)))
        XCTAssertEqual(page.items.count, 4)
        XCTAssertEqual(page.items[0].toJSONValue(), ["a": "x ] \" [ }"])
        XCTAssertEqual(page.items[1].kind, JV_KIND_INVALID)
        XCTAssertTrue(PageSalvage.reason(page.items[1]).contains("Exceeds depth limit"), PageSalvage.reason(page.items[1]))
        XCTAssertEqual(page.items[2].toJSONValue(), ["b": [1, ["c": .null]]])
        XCTAssertEqual(page.items[3].toJSONValue(), 42)
        XCTAssertEqual(page.nextCursor, "abc")
        XCTAssertFalse(page.cursorUnreadable)
    }

    func testACursorThatIsNotAStringIsNotTakenForTheLastPage() throws {
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        for info in [#"{"nextCursor":2}"#, "{\"nextCursor\":\"a\",\"x\":\(deep)}"] {
            let page = try XCTUnwrap(PageSalvage.salvage(Array((#"{"items":[\#(deep)],"pageInfo":"# + info + "}").utf8)))
            XCTAssertTrue(page.cursorUnreadable, info.prefix(40).description)
        }
        let last = try XCTUnwrap(PageSalvage.salvage(Array((#"{"items":[\#(deep)],"pageInfo":{}}"#).utf8)))
        XCTAssertFalse(last.cursorUnreadable)
        XCTAssertNil(last.nextCursor)
    }

    func testTextThatIsNotAPageIsNotSalvaged() {
        for text in [#"{"items":[{"a":1},{"b":"#, #"{"items":{"a":1}}"#, #"[1,2]"#, #"{"pageInfo":{}}"#, "", #"{"items":[1,2]"#] {
            XCTAssertNil(PageSalvage.salvage(Array(text.utf8)), text)
        }
        XCTAssertEqual(PageSalvage.salvage(Array(#"{ "items" : [ ] }"#.utf8))?.items.count, 0)
    }
}
