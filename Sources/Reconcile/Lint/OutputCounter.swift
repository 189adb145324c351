import CJQ
import Store

/// Counts how many outputs a mapping expression yields for one entity, with libjq and Ocean's
/// quote rewrite: the evidence for "several outputs, only the first kept". One compiled program
/// per expression text; not thread-safe (libjq states).
final class OutputCounter {
    private var programs: [String: JQProgram] = [:]
    private var failures: Set<String> = []

    /// The number of outputs of `expression` for `input` (borrowed), counting at most `limit`;
    /// stops at a jq error. Nil when the expression does not compile.
    func count(_ expression: String, input: jv, limit: Int = 100) -> Int? {
        let source = OceanQuotes.rewrite(expression)
        guard let program = program(source) else { return nil }
        program.start(consuming: jv_copy(input))
        var count = 0
        while count < limit {
            let output = program.next()
            if jv_get_kind(output) == JV_KIND_INVALID {
                jv_free(output)
                break
            }
            jv_free(output)
            count += 1
        }
        return count
    }

    private func program(_ source: String) -> JQProgram? {
        if let program = programs[source] { return program }
        if failures.contains(source) { return nil }
        do {
            let program = try JQProgram(source)
            programs[source] = program
            return program
        } catch {
            failures.insert(source)
            return nil
        }
    }
}

@available(*, unavailable)
extension OutputCounter: Sendable {}

/// Port's rule for entity identifiers and relation values (port-api.md §5.2):
/// `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$`, 1 to 1000 characters.
public enum PortIdentifierRule {
    /// Why Port would refuse `identifier`, or nil when it is acceptable.
    public static func problem(_ identifier: String) -> String? {
        let length = identifier.unicodeScalars.count
        if length == 0 { return "is empty" }
        if length > 1000 { return "is \(length) characters long (Port allows 1000)" }
        if identifier == "." || identifier == ".." { return "may not be \".\" or \"..\"" }
        for scalar in identifier.unicodeScalars {
            let isDigit = ("0"..."9").contains(scalar)
            let isLetter = scalar.isASCII ? (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar))
                                          : scalar.properties.isAlphabetic
            if !(isDigit || isLetter || "@_.+:\\/=-".unicodeScalars.contains(scalar)) {
                return "contains \"\(scalar.escaped(asASCII: true))\" (Port allows letters, digits and @ _ . + : \\ / = -)"
            }
        }
        return nil
    }
}
