import Store

/// How field changes are printed: whole values in JSON (`{"path", "old", "new"}`, absent as
/// null), shortened one-line values in text (absent as `(absent)`).
enum FieldChangeOutput {
    /// Longest value shown in text before it is cut with `…`.
    static let valueLimit = 60

    /// `{"ref", "change", "fields"}`: one changed entity of `diff` or `diff --from`.
    static func entityJSON(ref: String, change: ChangeKind, fields: [FieldChange]) -> JSONValue {
        ["ref": .string(ref), "change": .string(change.rawValue), "fields": .array(fields.map(\.json))]
    }

    /// One line per field, indented: the path, and with `values` what it was and became.
    static func lines(_ fields: [FieldChange], values: Bool, indent: String = "    ") -> [String] {
        fields.map { field in
            guard values else { return indent + field.path }
            return "\(indent)\(field.path): \(text(field.old)) → \(text(field.new))"
        }
    }

    /// A value for a person: canonical JSON on one line, cut to `valueLimit`.
    static func text(_ value: JSONValue?) -> String {
        guard let value else { return "(absent)" }
        return OneLine.cut(CanonicalJSON.string(value), limit: valueLimit)
    }

    /// The changed entities of a mirror comparison, each with its field lines (updates only:
    /// a created or deleted entity is all its fields, which `--json` lists).
    static func printEntities(_ entities: [(ref: String, change: ChangeKind, fields: [FieldChange])], console: Console) {
        for entity in entities {
            console.print("\(entity.change.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(entity.ref)")
            if entity.change == .updated {
                for line in lines(entity.fields, values: true) { console.print(line) }
            }
        }
    }
}

/// Text for one table cell or line: control characters (line breaks and tabs included) are shown
/// escaped by the one rule for untrusted text (`TerminalText`), and text over `limit` characters is
/// cut with `…`, so a table keeps one line per row.
enum OneLine {
    static func cut(_ text: String, limit: Int) -> String {
        TerminalText.shortened(TerminalText.escape(text), to: limit)
    }
}
