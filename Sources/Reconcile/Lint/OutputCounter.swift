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
