import CJQ
import Store

/// Reads a by-query page that libjq refused as a whole, typically because one item nests deeper
/// than libjq 1.6's parser allows (256 levels): the `items` array is split at its top-level commas
/// by a scanner that only tracks strings and bracket depth, and every item is parsed on its own.
/// Items that still don't parse come back as invalid values carrying libjq's reason (the walk skips
/// them with a warning); the others are mirrored as usual, and `pageInfo` still gives the cursor.
enum PageSalvage {
    struct Page {
        /// Parsed items in page order; an unreadable one is an invalid `jv` with the reason.
        var items: [JQValue]
        var nextCursor: String?
        /// `pageInfo` is there but unreadable, or its `nextCursor` is not a string: the walk can't
        /// know whether more pages follow, so it must not count as complete.
        var cursorUnreadable = false
    }

    /// The page's items and cursor, or nil when the text is not a JSON object with an `items` array.
    static func salvage(_ bytes: [UInt8]) -> Page? {
        var scanner = Scanner(bytes: bytes)
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var itemSpans: [Range<Int>]?
        var pageInfo: Range<Int>?
        while true {
            scanner.skipSpace()
            if scanner.consume(UInt8(ascii: "}")) { break }
            guard let key = scanner.string(), scanner.skipSpace(), scanner.consume(UInt8(ascii: ":")) else { return nil }
            scanner.skipSpace()
            if key == "items" {
                guard let spans = scanner.arrayElements() else { return nil }
                itemSpans = spans
            } else {
                guard let span = scanner.value() else { return nil }
                if key == "pageInfo" { pageInfo = span }
            }
            scanner.skipSpace()
            if scanner.consume(UInt8(ascii: ",")) { continue }
            guard scanner.consume(UInt8(ascii: "}")) else { return nil }
            break
        }
        guard let itemSpans else { return nil }
        var items: [JQValue] = []
        items.reserveCapacity(itemSpans.count)
        for span in itemSpans {
            do {
                items.append(try JQValue.parse(Array(bytes[span])))
            } catch {
                items.append(JQValue(owning: .invalid(message: error.message)))
            }
        }
        var page = Page(items: items)
        if let pageInfo {
            if let info = try? JQValue.parse(Array(bytes[pageInfo])) {
                let next = info.member("nextCursor")
                page.nextCursor = next?.stringValue
                page.cursorUnreadable = next.map { $0.kind != JV_KIND_STRING && $0.kind != JV_KIND_NULL } ?? false
            } else {
                page.cursorUnreadable = true
            }
        }
        return page
    }

    /// The reason an unreadable item carries.
    static func reason(_ item: JQValue) -> String {
        guard let text = item.reference.copy().invalidMessage().stringValue else { return "unreadable" }
        return String(text.prefix { $0 != "\u{0}" })
    }

    /// A forward-only JSON scanner: finds where values start and end without building them, with
    /// no recursion (depth is a counter), so any nesting is fine.
    struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        @discardableResult
        mutating func skipSpace() -> Bool {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
            return true
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipSpace()
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// A string's raw text (escapes kept); the position ends after the closing quote.
        mutating func string() -> String? {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
            let start = position + 1
            guard skipString() else { return nil }
            return String(decoding: bytes[start..<(position - 1)], as: UTF8.self)
        }

        private mutating func skipString() -> Bool {
            position += 1
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\\"): position += 2
                case UInt8(ascii: "\""):
                    position += 1
                    return true
                default: position += 1
                }
            }
            return false
        }

        /// The span of the value starting here.
        mutating func value() -> Range<Int>? {
            skipSpace()
            let start = position
            var depth = 0
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\""):
                    guard skipString() else { return nil }
                    if depth == 0 { return start..<position }
                    continue
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 0 { return position > start ? start..<position : nil }
                    depth -= 1
                    if depth == 0 {
                        position += 1
                        return start..<position
                    }
                case UInt8(ascii: ","), 0x20, 0x09, 0x0A, 0x0D:
                    if depth == 0 { return position > start ? start..<position : nil }
                default:
                    break
                }
                position += 1
            }
            return depth == 0 && position > start ? start..<position : nil
        }

        /// The spans of an array's elements; the position ends after the closing bracket.
        mutating func arrayElements() -> [Range<Int>]? {
            guard consume(UInt8(ascii: "[")) else { return nil }
            var spans: [Range<Int>] = []
            if consume(UInt8(ascii: "]")) { return spans }
            while true {
                guard let span = value() else { return nil }
                spans.append(span)
                if consume(UInt8(ascii: ",")) { continue }
                guard consume(UInt8(ascii: "]")) else { return nil }
                return spans
            }
        }
    }
}
