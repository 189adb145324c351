/// Port's identifier patterns (port-api.md §4.2, §5.2), checked by hand so hot paths need no regex
/// engine: what mirrorctl checks before sending and what the fake Port enforces.
public enum PortIdentifierRule {
    /// Why a text breaks the pattern.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        case empty
        case tooLong(length: Int, limit: Int)
        /// `.` or `..`, which the pattern's lookahead refuses.
        case dots
        case character(Unicode.Scalar)

        public var description: String {
            switch self {
            case .empty: return "is empty"
            case .tooLong(let length, let limit): return "is \(length) characters long, over Port's limit of \(limit)"
            case .dots: return "may not be \".\" or \"..\" in Port"
            case .character(let scalar): return "contains \"\(scalar.escaped(asASCII: true))\", which Port does not allow in identifiers"
            }
        }
    }

    /// Why Port would refuse `identifier` as an entity identifier or relation value, in words
    /// (`contains "%", which Port does not allow in identifiers`), or nil when it is acceptable.
    public static func problem(_ identifier: String) -> String? {
        entity(identifier).map(\.description)
    }

    /// Why Port would refuse `identifier` as a blueprint identifier, in words, or nil.
    public static func blueprintProblem(_ identifier: String) -> String? {
        blueprint(identifier).map(\.description)
    }

    /// Entity identifiers and relation values: `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$`, 1–1000 long.
    public static func entity(_ text: String) -> Problem? {
        check(text, extra: "@_.+:\\/=-", maxLength: 1000)
    }

    /// Blueprint identifiers: `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$` (no `=`), 1–100 long.
    public static func blueprint(_ text: String) -> Problem? {
        check(text, extra: "@_.+:\\/-", maxLength: 100)
    }

    private static func check(_ text: String, extra: String, maxLength: Int) -> Problem? {
        let count = text.unicodeScalars.count
        guard count >= 1 else { return .empty }
        guard count <= maxLength else { return .tooLong(length: count, limit: maxLength) }
        guard text != ".", text != ".." else { return .dots }
        for scalar in text.unicodeScalars where !allowed(scalar, extra: extra) { return .character(scalar) }
        return nil
    }

    /// ASCII letters and digits, the `extra` punctuation, and any Unicode letter (`\p{L}`).
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
