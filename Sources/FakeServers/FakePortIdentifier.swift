import Store

/// The identifier patterns of Port's spec (port-api.md §4.2, §5.2), checked by hand so the hot path
/// needs no regex engine.
enum FakePortIdentifier {
    /// Entity identifiers (and relation values): `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$`, 1–1000 long.
    static func entityProblem(_ text: String) -> String? {
        PortIdentifierRule.entity(text).map(message)
    }

    /// Blueprint identifiers: `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$` (no `=`), 1–100 long.
    static func blueprintProblem(_ text: String) -> String? {
        PortIdentifierRule.blueprint(text).map(message)
    }

    /// Property and relation keys: `^[A-Za-z0-9@_=\\-]+$`, at most 100 long.
    static func keyProblem(_ text: String) -> String? {
        guard !text.isEmpty, text.unicodeScalars.count <= 100 else {
            return "must be 1 to 100 characters long"
        }
        for scalar in text.unicodeScalars {
            let ascii = scalar.isASCII && (("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar)
                || ("0"..."9").contains(scalar) || "@_=\\-".unicodeScalars.contains(scalar))
            if !ascii { return "must match pattern \"^[A-Za-z0-9@_=\\\\-]+$\"" }
        }
        return nil
    }

    /// The problem in the words of Port's schema validation.
    private static func message(_ problem: PortIdentifierRule.Problem) -> String {
        switch problem {
        case .empty: return "must NOT have fewer than 1 characters"
        case .tooLong(_, let limit): return "must NOT have more than \(limit) characters"
        case .dots: return "must not be \".\" or \"..\""
        case .character(let scalar): return "contains the character \"\(scalar.escaped(asASCII: true))\", which is not allowed"
        }
    }
}
