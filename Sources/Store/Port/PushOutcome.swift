/// What happened to one pushed entity, kept typed from Port's answer until the ledger records it
/// (`recordedError`, the one text for it in `ledger.last_error` and `pushes.error`) or a report
/// prints it.
public enum PushOutcome: Sendable, Equatable {
    case acked
    /// Port refused this entity for its content, or the preflight did on Port's behalf: it stays
    /// pending and is sent again next run.
    case rejected(PushRefusal)
    /// The request failed as a whole (network, 5xx after retries, the run's stop): Port's status
    /// when it answered, and the failure as the push saw it; retried next run.
    case failed(status: Int?, cause: any Error)

    /// `pushes.outcome`.
    var name: String {
        switch self {
        case .acked: return "acked"
        case .rejected: return "rejected"
        case .failed: return "failed"
        }
    }

    /// `ledger.status` after this outcome.
    var ledgerStatus: String {
        switch self {
        case .acked: return "synced"
        case .rejected, .failed: return name
        }
    }

    /// `pushes.http_status`: Port's HTTP status, when it gave one.
    public var httpStatus: Int? {
        switch self {
        case .acked: return nil
        case .rejected(let refusal): return refusal.status
        case .failed(let status, _): return status
        }
    }

    /// Why Port did not take the entity, as the ledger and the push log record it (nil when acked).
    public var recordedError: String? {
        switch self {
        case .acked: return nil
        case .rejected(let refusal): return "\(refusal)"
        case .failed(_, let cause): return "\(cause)"
        }
    }

    /// Two outcomes are the same when the ledger records them the same (errors have no identity).
    public static func == (lhs: PushOutcome, rhs: PushOutcome) -> Bool {
        lhs.name == rhs.name && lhs.httpStatus == rhs.httpStatus && lhs.recordedError == rhs.recordedError
    }
}

/// Why Port refused one entity: what Port said, or what the preflight found Port would say.
public enum PushRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// Port's answer for the entity: its HTTP status (0 when Port named none), its error
    /// identifier (`not_found`, `invalid_request`, …) and message, each when Port gave one.
    case port(status: Int, error: String?, message: String?)
    /// Not sent: the preflight found what Port would refuse (an identifier, a relation target, a
    /// body over the request limit); recorded as Port's 422 would be.
    case notSent(String)
    /// Port's bulk answer named no result for this entity (none at its index with its identifier).
    case noResult

    /// The HTTP status Port gave, or would give (0 when Port named none).
    public var status: Int {
        switch self {
        case .port(let status, _, _): return status
        case .notSent: return 422
        case .noResult: return 0
        }
    }

    /// The one text of a refusal (ledger, push log, reports): `error: message` in Port's words
    /// (either alone when the other is missing, `error` when Port gave neither), or our reason.
    public var description: String {
        switch self {
        case .port(_, let error, let message):
            let said = [error, message].compactMap { $0 }.filter { !$0.isEmpty }
            return said.isEmpty ? "error" : said.joined(separator: ": ")
        case .notSent(let reason):
            return "not sent: \(reason)"
        case .noResult:
            return "missing: Port gave no result for this entity"
        }
    }
}
