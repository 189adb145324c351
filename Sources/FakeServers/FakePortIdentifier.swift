/// The identifier patterns of Port's spec (port-api.md §4.2, §5.2), checked by hand so the hot path
/// needs no regex engine.
enum FakePortIdentifier {
    /// Entity identifiers (and relation values): `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$`, 1–1000 long.
    static func entityProblem(_ text: String) -> String? {
        pattern(text, extra: "@_.+:\\/=-", maxLength: 1000)
    }

    /// Blueprint identifiers: `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$` (no `=`), 1–100 long.
    static func blueprintProblem(_ text: String) -> String? {
        pattern(text, extra: "@_.+:\\/-", maxLength: 100)
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

    private static func pattern(_ text: String, extra: String, maxLength: Int) -> String? {
        let count = text.unicodeScalars.count
        guard count >= 1 else { return "must NOT have fewer than 1 characters" }
        guard count <= maxLength else { return "must NOT have more than \(maxLength) characters" }
        guard text != ".", text != ".." else { return "must not be \".\" or \"..\"" }
        for scalar in text.unicodeScalars where !allowed(scalar, extra: extra) {
            return "contains the character \"\(scalar.escaped(asASCII: true))\", which is not allowed"
        }
        return nil
    }

    private static func allowed(_ scalar: Unicode.Scalar, extra: String) -> Bool {
        if scalar.isASCII {
            return ("0"..."9").contains(scalar) || ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar)
                || extra.unicodeScalars.contains(scalar)
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
}
