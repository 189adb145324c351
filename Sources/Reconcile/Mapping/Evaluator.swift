import CJQ

/// One mapping expression ready to run with Ocean's first-output rule: the native `FastJQ` form
/// when the subset covers the expression, and the libjq program, compiled on first need (libjq 1.6
/// takes ~20 ms per compile), for everything else and whenever the native form bails.
///
/// Each field runs as its own program and only its first output is taken (`jq_next` once), which
/// is exactly Ocean's `next(iter(outputs))`. One combined program per resource using
/// `first(f)`/`limit(1; f)` would be wrong on libjq 1.6: `break` is an error there and a
/// `try … catch` or `?` inside `f` catches it, yielding extra outputs or a bogus error; it is
/// also slower than separate runs.
final class Evaluator {
    /// The jq text after Ocean's quote rewrite.
    let source: String
    private let fast: FastJQ?
    private var program: JQProgram?
    private var compileFailure: String?

    init(source: String, useNative: Bool = true) {
        self.source = source
        fast = useNative ? FastJQ(source) : nil
    }

    /// Whether the native evaluator covers the expression.
    var isNative: Bool { fast != nil }

    /// Compiles the libjq program now unless the native form covers the expression (its subset
    /// is valid jq by construction).
    /// - Throws: `JQCompileFailure` with libjq's message.
    func validate() throws(JQCompileFailure) {
        guard fast == nil, program == nil else { return }
        program = try JQProgram(source)
    }

    /// The first output for `input` (borrowed).
    func first(_ input: jv) -> FirstOutput {
        if let fast {
            switch fast.first(input) {
            case .value(let value): return .value(value)
            case .none: return .none
            case .bail: break
            }
        }
        return firstWithLibjq(input)
    }

    /// The first output computed by libjq only (the reference the native form must match).
    func firstWithLibjq(_ input: jv) -> FirstOutput {
        guard let program = compiledProgram() else {
            return .error("jq compile error: \(compileFailure ?? "unknown")")
        }
        return program.first(consuming: jv_copy(input))
    }

    private func compiledProgram() -> JQProgram? {
        if let program { return program }
        if compileFailure != nil { return nil }
        do {
            let compiled = try JQProgram(source)
            program = compiled
            return compiled
        } catch {
            compileFailure = error.message
            return nil
        }
    }
}

@available(*, unavailable)
extension Evaluator: Sendable {}
