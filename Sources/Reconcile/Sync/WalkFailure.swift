import Fetch
import Store

/// Why a kind's walk stopped short, kept typed until it is printed or recorded (`KindOutcome.problem`).
enum WalkFailure: Error, Sendable, CustomStringConvertible {
    /// Backstage (or the local catalog) failed or answered wrongly.
    case source(BackstageError)
    /// Entities of the kind were refused one by one.
    case refused(CatalogWalker.Refusals)
    /// The run's `--timeout` passed.
    case timeout(RunTimeout)
    /// Another failure (no connection could be made, the walk was cancelled), by its words.
    case other(DescribedProblem)

    init(_ error: any Error) {
        switch error {
        case let error as BackstageError: self = .source(error)
        case let error as CatalogWalker.Refusals: self = .refused(error)
        case let error as RunTimeout: self = .timeout(error)
        default: self = .other(DescribedProblem("\(error)"))
        }
    }

    /// The run reason when the source itself is unusable (not this kind's data).
    var runReason: RunReason? {
        guard case .source(let error) = self else { return nil }
        switch error {
        case .stopped(let trip): return trip.cause == .credentialsRefused ? .sourceAuthRejected : .sourceUnreachable
        case .http(401, _, _, _, _): return .sourceAuthRejected
        case .transport: return .sourceUnreachable
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .source(let error): return "\(error)"
        case .refused(let refusals): return "\(refusals)"
        case .timeout(let timeout): return "\(timeout)"
        case .other(let problem): return "\(problem)"
        }
    }
}

extension KindOutcome {
    /// A kind whose walk stopped short because of `error`, typed (`WalkFailure`) and with the run
    /// reason when the source itself was the cause.
    static func incomplete(_ kind: String, fetched: Int, mode: WalkMode, error: any Error) -> KindOutcome {
        let failure = WalkFailure(error)
        var outcome = KindOutcome(kind: kind, complete: false, fetched: fetched, problem: failure, mode: mode)
        outcome.failure = failure.runReason
        return outcome
    }
}
