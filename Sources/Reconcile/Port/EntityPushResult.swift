import Fetch
import Store

/// What became of one entity sent to Port, typed until the ledger records it (`ledgerOutcome`)
/// or the report prints it.
enum EntityPushResult: Equatable {
    case acked
    /// Port refused this entity (422 schema mismatch, 404 missing relation target, …), or the
    /// preflight did for it; the reason as Port (or the preflight) gave it.
    case rejected(PushRefusal)
    /// The request failed as a whole (network, 5xx after retries, the run's stop): retried next run.
    case failed(PushFailure)

    /// The ledger's record of this result.
    var ledgerOutcome: PushOutcome {
        switch self {
        case .acked: return .acked
        case .rejected(let refusal): return .rejected(refusal)
        case .failed(let failure): return .failed(status: failure.status, cause: failure)
        }
    }

    /// Two results are the same when the ledger records them the same (errors have no identity).
    static func == (lhs: EntityPushResult, rhs: EntityPushResult) -> Bool {
        lhs.ledgerOutcome == rhs.ledgerOutcome
    }
}

/// Why a request to Port failed as a whole.
enum PushFailure: Error, CustomStringConvertible {
    /// Port's answer, or the lack of one, as `PortClient` reports it.
    case port(PortError)
    /// No connection to Port could be made, or another failure of this side.
    case local(any Error)
    /// Port's answer for the batch said nothing about this entity.
    case unanswered

    init(_ error: any Error) {
        if let error = error as? PortError {
            self = .port(error)
        } else {
            self = .local(error)
        }
    }

    /// The HTTP status when Port answered.
    var status: Int? {
        if case .port(let error) = self { return error.status }
        return nil
    }

    /// Port was given up on for the rest of the run: the push's stop says so once.
    var stopsRun: Bool {
        if case .port(.stopped) = self { return true }
        return false
    }

    var description: String {
        switch self {
        case .port(let error): return "\(error)"
        case .local(let error): return "\(error)"
        case .unanswered: return "no outcome for this entity"
        }
    }
}
