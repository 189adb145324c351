/// Ocean's rewrite of single-quote string delimiters into double quotes, applied to every jq
/// expression before it is compiled (Ocean's `_format_filter`). Ocean uses the Python regex
/// `(^|\s)'(?!\s|")|(?<!\s|")'(\s|$)` replaced by `\1"\2`; this is the same rule written out,
/// scanning left to right and trying the first alternative before the second at each position,
/// as Python's `re.sub` does.
public enum OceanQuotes {
    /// Rewrites `text`: a `'` at the start or after whitespace, not followed by whitespace or `"`,
    /// opens a string; a `'` not preceded by whitespace or `"`, followed by whitespace or the end,
    /// closes one. Both become `"`. `'foo'` → `"foo"`; `'"x"'` is left alone.
    public static func rewrite(_ text: String) -> String {
        let quote: Unicode.Scalar = "'"
        let doubleQuote: Unicode.Scalar = "\""
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains(quote) else { return text }
        var out = String.UnicodeScalarView()
        let count = scalars.count
        var index = 0
        while index < count {
            // Alternative 1: (^|\s)'(?!\s|")  — `^` is tried before `\s`.
            if index == 0, scalars[0] == quote, opensString(scalars, after: 0) {
                out.append(doubleQuote)
                index += 1
                continue
            }
            if isSpace(scalars[index]), index + 1 < count, scalars[index + 1] == quote,
               opensString(scalars, after: index + 1)
            {
                out.append(scalars[index])
                out.append(doubleQuote)
                index += 2
                continue
            }
            // Alternative 2: (?<!\s|")'(\s|$)
            if scalars[index] == quote,
               index == 0 || !(isSpace(scalars[index - 1]) || scalars[index - 1] == doubleQuote),
               index + 1 == count || isSpace(scalars[index + 1])
            {
                out.append(doubleQuote)
                if index + 1 < count { out.append(scalars[index + 1]) }
                index += 2
                continue
            }
            out.append(scalars[index])
            index += 1
        }
        return String(out)
    }

    /// The negative lookahead `(?!\s|")` after the quote at `quoteIndex`.
    private static func opensString(_ scalars: [Unicode.Scalar], after quoteIndex: Int) -> Bool {
        let next = quoteIndex + 1
        guard next < scalars.count else { return true }
        return !(isSpace(scalars[next]) || scalars[next] == "\"")
    }

    /// Python 3's `\s` for `str` patterns: Unicode white space plus the separators U+001C–U+001F.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value >= 0x1C && scalar.value <= 0x1F { return true }
        return scalar.properties.isWhitespace
    }
}
