import CJQ
import Store
import Synchronization

/// The text of the single jq program that evaluates a whole mapping, and the reading of its result.
///
/// libjq 1.6 re-parses its builtins on every `jq_compile` (~15–25 ms each), so one program per
/// expression (~90 in the built-in mapping) per worker thread would cost seconds before the first
/// entity is mapped. Instead every expression is embedded in one program, compiled once per
/// `CompiledMapping`. It is started once per (entity, resource) with the input
/// `[resource index, entity]` and returns one array: the selector's collected outputs, then, only
/// when the selector's first output is `true`, each field's collected outputs in field order.
///
/// Each expression `E` (after Ocean's quote rewrite) becomes
/// `[try (def __mirrorctl_field: E⏎; __mirrorctl_field | [.]) catch {e: .}]`: every output `v` is
/// collected as `[v]`, and a jq error stops the collection with `{e: message}`. The first element
/// is therefore exactly what Ocean's `next(iter(outputs))` sees: `[v]` = the first output, `{e: …}`
/// = an error before any output, nothing = no output. Outputs and errors after the first are
/// collected but never read, so an error raised after the first output does not change the value.
/// The wrapper binds no variables. Its `def` keeps a stray `)`, `]`, `;` or quote in the text from
/// closing the wrapper and running as something else: the program does not compile, and
/// `MappingPlan.locate` names the expression (only text that goes on with a `def` of its own, like
/// `.a; def g: .b`, gets through, and runs as `.a`). The newline before `;` ends a trailing `#`
/// comment.
///
/// What differs from one program per expression (documented in README's mapping section):
/// - every output of an expression is computed, not only the first: an expression that keeps
///   generating after its first output (`.a, (def f: f; f)`, `.a, range(1e9)`) runs until the
///   watchdog's time or memory budget stops the run, where Ocean would return the first output;
/// - `halt` or `halt_error` in any expression ends the whole program: the resource gets a selector
///   error naming the expression that was running (Ocean would give that field null);
/// - `$__loc__` reports the line within the combined program.
///
/// `first(f)`/`limit(1; f)` can't stop an expression early instead: in libjq 1.6 `break` is an
/// error, which a `try` or `?` inside the expression catches, giving extra outputs or a bogus error.
enum MappingProgram {
    /// One expression, collected as described above (`source` already has Ocean's quote rewrite).
    static func field(_ source: String) -> String {
        "[try (def __mirrorctl_field: \(source)\n; __mirrorctl_field | [.]) catch {e: .}]"
    }

    /// One resource, for the input `[index, entity]`. Before each field, `debug` reports the input
    /// pair to the debug callback, which tells the watchdog which field runs now (no expression can
    /// see the pair, so no expression's own `debug` is mistaken for it).
    static func resource(selector: String, fields: [String]) -> String {
        let body = fields.map { "(debug | .[1] | \(field($0)))" }.joined(separator: ",\n")
        return "[(.[1] | \(field(selector))), .]\n| if .[0][0] == [true] then [.[0], (.[1] | \(body))] else [.[0]] end"
    }

    /// The whole mapping: dispatches on the resource index.
    static func mapping(resources: [String]) -> String {
        guard !resources.isEmpty else { return "null" }
        var text = ""
        for (index, body) in resources.enumerated() {
            text += "\(index == 0 ? "if" : "elif") .[0] == \(index) then (\n\(body))\n"
        }
        return text + "else null end"
    }

    /// Reads one collected array: the first output, no output, or the error raised before the
    /// first output.
    static func firstOutput(of collected: consuming JQReference) -> FirstOutput {
        guard collected.kind == JV_KIND_ARRAY, collected.count > 0 else { return .none }
        let head = collected.takeElement(0)
        let kind = head.kind
        switch kind {
        case JV_KIND_ARRAY:
            return .value(head.takeElement(0))
        case JV_KIND_OBJECT:
            return .error(JQErrorText.describeErrorValue(head.takeMember("e")))
        default:
            return .error("unexpected result from the mapping program")
        }
    }

    /// How many outputs a field's collected result holds — its `[v]` elements, before a
    /// trailing `{e: …}` error marker — when that is more than one; nil for none or one (the
    /// common case, decided from the length alone).
    static func severalOutputs(in collected: borrowing JQReference) -> Int? {
        guard collected.kind == JV_KIND_ARRAY else { return nil }
        let length = collected.count
        guard length > 1 else { return nil }
        let outputs = collected.element(length - 1).kind == JV_KIND_OBJECT ? length - 1 : length
        return outputs > 1 ? outputs : nil
    }

    /// Programs known to compile, so that instances made for worker threads skip the check and
    /// compile only when they first map an entity.
    private static let compiled = Mutex<Set<String>>([])

    static func isKnownToCompile(_ source: String) -> Bool {
        compiled.withLock { $0.contains(source) }
    }

    static func remember(_ source: String) {
        _ = compiled.withLock { $0.insert(source) }
    }
}

/// The first output of a jq expression.
enum FirstOutput: ~Copyable {
    case value(JQReference)
    case none
    case error(String)
}
