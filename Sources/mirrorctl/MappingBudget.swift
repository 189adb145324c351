import Foundation
import Reconcile

/// `--jq-timeout`: the most CPU time one entity's mapping may take. libjq can't interrupt an expression,
/// so a watchdog ends the process instead (exit 2) with the entity, field and expression; the run's
/// transaction is not committed, so the database is left as it was.
enum MappingBudget {
    static let option = OptionSpec(name: "jq-timeout", value: "SECONDS",
                                   help: "Abandon the run when one entity's mapping takes more CPU seconds (env MIRROR_JQ_TIMEOUT, default 2).")

    /// Starts the watchdog for this process.
    static func start(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        // CPU seconds of the mapping thread, so a busy machine doesn't trip it; libjq compiling a
        // program on first use takes milliseconds of it.
        var seconds = 2.0
        if let text = arguments.value("jq-timeout") ?? environment["MIRROR_JQ_TIMEOUT"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let value = Double(text), value > 0, value <= 86_400 else {
                throw UsageError("--jq-timeout must be a number of seconds above 0 (at most 86400), got '\(text)'")
            }
            seconds = value
        }
        MappingWatchdog(timeBudget: seconds) { overrun in
            let message = "mirrorctl: \(overrun); the run was abandoned and nothing was written (a slow but finite mapping may raise --jq-timeout)\n"
            FileHandle.standardError.write(Data(message.utf8))
            _exit(ExitStatus.usage.rawValue)
        }.start()
    }
}
