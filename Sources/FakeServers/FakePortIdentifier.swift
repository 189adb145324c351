import Foundation

/// The identifier rules of Port's OpenAPI spec (port-api.md §4.2, §5.2), matched with the spec's
/// own regular expressions and answered in the words of its schema validator (ajv), so the fake
/// holds mirrorctl's hand-written identifier check to the documented rule.
enum FakePortIdentifier {
    /// Entity identifiers (and relation values): 1–1000 characters.
    static func entityProblem(_ text: String) -> String? {
        problem(text, pattern: entity, maxLength: 1000)
    }

    /// Blueprint identifiers: as entity identifiers but without `=`, 1–100 characters.
    static func blueprintProblem(_ text: String) -> String? {
        problem(text, pattern: blueprint, maxLength: 100)
    }

    /// Property and relation keys: at most 100 characters.
    static func keyProblem(_ text: String) -> String? {
        problem(text, pattern: key, maxLength: 100)
    }

    private struct Pattern: @unchecked Sendable {
        // NSRegularExpression is immutable and documented as safe to share between threads.
        let source: String
        let expression: NSRegularExpression

        init(_ source: String) {
            self.source = source
            // The patterns are constants of this file; a typo is a programming error.
            expression = try! NSRegularExpression(pattern: source)
        }
    }

    private static let entity = Pattern(#"^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$"#)
    private static let blueprint = Pattern(#"^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$"#)
    private static let key = Pattern(#"^[A-Za-z0-9@_=\\-]+$"#)

    /// JSON Schema counts length in code points (ajv's `unicode` option).
    private static func problem(_ text: String, pattern: Pattern, maxLength: Int) -> String? {
        let length = text.unicodeScalars.count
        if length < 1 { return "must NOT have fewer than 1 characters" }
        if length > maxLength { return "must NOT have more than \(maxLength) characters" }
        let range = NSRange(text.startIndex..., in: text)
        guard pattern.expression.firstMatch(in: text, range: range) != nil else {
            return "must match pattern \"\(pattern.source)\""
        }
        return nil
    }
}
