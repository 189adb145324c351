import CJQ
import Store
import Synchronization

/// The text of the single jq program that evaluates a whole mapping, and the reading of its result.
///
/// libjq 1.6 re-parses its builtins on every `jq_compile` (~15–25 ms each), so one program per
/// expression (~90 in the built-in mapping) per worker thread would cost seconds before the first
/// entity is mapped. Instead every expression is embedded in one program, compiled once per
/// `CompiledMapping`. It is started once per (entity, resource) with the input
/// `[resource index, entity]`, bound to `$__mirrorctl_pair`.
///
/// Its first output is the selector's outputs collected into an array (`collected`). Only when the
/// selector's first output is `true` does it go on to the fields, one after another, each preceded
/// by `debug` of the input pair (the marker that tells `CompiledMapping` which field runs now) and
/// streaming its outputs straight out of `jq_next`, uncollected: the first output after a marker is
/// the field's value, exactly what Ocean's `next(iter(outputs))` sees. An error is caught and
/// reported through `debug` as `[$__mirrorctl_pair, error]`; it counts only when the field had no
/// output yet. Markers are recognised by identity with the input pair, which no expression sees
/// unless it names `$__mirrorctl_pair`. Streaming instead of collecting every field into arrays
/// saves ~12% of libjq's evaluation per entity of the built-in mapping (callgrind on `mapbench`).
///
/// Each expression `E` (after Ocean's quote rewrite) is wrapped in `def __mirrorctl_field: E⏎;`,
/// which keeps a stray `)`, `]`, `;` or quote in the text from closing the wrapper and running as
/// something else: the program does not compile, and `MappingPlan.locate` names the expression
/// (only text that goes on with a `def` of its own, like `.a; def g: .b`, gets through, and runs as
/// `.a`). The newline before `;` ends a trailing `#` comment.
///
/// What differs from one program per expression (documented in README's mapping section):
/// - every output of an expression is computed, not only the first: an expression that keeps
///   generating after its first output (`.a, (def f: f; f)`, `.a, range(1e9)`) runs until the
///   watchdog's time or memory budget stops the run, where Ocean would return the first output;
/// - `halt` or `halt_error` in any expression ends the whole program: the resource gets a selector
///   error naming the expression that was running (Ocean would give that field null);
/// - `$__loc__` reports the line within the combined program, and `$__mirrorctl_pair` is bound.
///
/// `first(f)`/`limit(1; f)` can't stop an expression early instead: in libjq 1.6 `break` is an
/// error, which a `try` or `?` inside the expression catches, giving extra outputs or a bogus error.
enum MappingProgram {
    /// The variable holding the input pair.
    static let pairVariable = "$__mirrorctl_pair"

    /// One field's expression, streaming its outputs and reporting an error through `debug`
    /// (`source` already has Ocean's quote rewrite). Needs `pairVariable` bound.
    static func field(_ source: String) -> String {
        "try (def __mirrorctl_field: \(source)\n; __mirrorctl_field) catch ([\(pairVariable), .] | debug | empty)"
    }

    /// The selector's expression with every output `v` collected as `[v]`, and an error stopping
    /// the collection with `{e: message}`: the first element is the first output, the error raised
    /// before it, or nothing.
    static func collected(_ source: String) -> String {
        "[try (def __mirrorctl_field: \(source)\n; __mirrorctl_field | [.]) catch {e: .}]"
    }

    /// `field` on its own, compilable (for `MappingPlan.locate`).
    static func standalone(field source: String) -> String {
        ". as \(pairVariable) | \(field(source))"
    }

    /// One resource, for the input `[index, entity]`.
    static func resource(selector: String, fields: [String]) -> String {
        let body = fields.map { "(\(pairVariable) | debug | .[1] | \(field($0)))" }.joined(separator: ",\n")
        return ". as \(pairVariable) | (.[1] | \(collected(selector)))\n| ., (if .[0] == [true] then (\(body.isEmpty ? "empty" : body)) else empty end)"
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

    /// Reads the selector's collected outputs: the first output, no output, or the error raised
    /// before the first output.
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
