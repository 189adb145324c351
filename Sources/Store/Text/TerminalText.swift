/// The one rule for showing untrusted text (entity fields, server messages) to a person: every
/// control character — C0 (`\n`, `\r`, `\t`, ESC, BEL…), DEL and C1 — is shown escaped, so no
/// server can move the cursor, set the terminal title or forge a line of a table or log.
/// `--json` output needs none of this: JSON escaping already makes it inert.
public enum TerminalText {
    /// `text` with each control character shown as `\n`, `\r`, `\t` or `\xHH` (C1 as `\u{80}`…).
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                out.append(scalar)
                continue
            }
            out.append(contentsOf: shown(scalar).unicodeScalars)
        }
        return String(out)
    }

    /// `escape` applied to each line of a block of our own making: its line breaks stay, every
    /// other control character is escaped. For whole outputs whose fields were escaped already.
    public static func escapeLines(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && $0 != "\n" }) else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { escape(String($0)) }.joined(separator: "\n")
    }

    /// The one rule for shortening text in a one-line message or a table cell: over `limit`
    /// characters, the first `limit - 1` and `…`, so the result is never longer than `limit`.
    /// The default suits a value quoted inside a message (an identifier, a field's value).
    public static func shortened(_ text: String, to limit: Int = 80) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(0, limit - 1))) + "…"
    }

    /// C0, DEL and C1.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func shown(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            let hex = String(scalar.value, radix: 16)
            return scalar.value <= 0xFF ? "\\x" + (hex.count == 1 ? "0" + hex : hex) : "\\u{\(hex)}"
        }
    }
}
