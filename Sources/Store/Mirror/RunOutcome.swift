/// How a run ended: `succeeded` only when it did all its job, `partial` when it did some,
/// `failed` when no kind could be walked.
public enum RunStatus: String, Sendable, Codable {
    case succeeded, partial, failed
}

/// Where a recorded run stands: still `running` (a `verify` in progress: a sync's row is only
/// seen once it has ended), or ended with its `RunStatus`. Shown and stored as the status text.
public enum RunState: Sendable, Equatable, CustomStringConvertible {
    case running
    case ended(RunStatus)

    /// The state stored as `text` in `runs.status`. Text no mirrorctl writes reads as `failed`.
    public init(stored text: String?) {
        if text == "running" {
            self = .running
        } else {
            self = .ended(text.flatMap(RunStatus.init(rawValue:)) ?? .failed)
        }
    }

    /// How the run ended; nil while it runs.
    public var ended: RunStatus? {
        if case .ended(let status) = self { return status }
        return nil
    }

    public var description: String { ended?.rawValue ?? "running" }
}

/// Why a run is not `succeeded`: stable names, stored with the run (`runs.reasons`, view
/// `v_run_reasons`) and shown by `runs`, `status`, `sync --json` and `diff --json`.
public enum RunReason: String, Sendable, CaseIterable, Comparable {
    /// Backstage did not answer (after the run's retry budget).
    case sourceUnreachable = "source-unreachable"
    /// Backstage refused the token (401).
    case sourceAuthRejected = "source-auth-rejected"
    /// At least one kind's walk did not complete (no deletes for it).
    case kindIncomplete = "kind-incomplete"
    /// A `file:` source has descriptor files or documents it could not read (no deletes).
    case descriptorErrors = "descriptor-errors"
    /// A mapping expression failed with a jq error for some entity (the field was sent as null).
    case mappingErrors = "mapping-errors"
    /// A resource's selector failed for some entity (its previous Port entities are kept).
    case selectorErrors = "selector-errors"
    /// Planned deletes were not sent (incomplete walk, selector errors, or the deletion threshold).
    case deletesWithheld = "deletes-withheld"
    /// Port did not answer: the push stopped and the rest stays pending.
    case portUnreachable = "port-unreachable"
    /// Port refused the client credentials: the push stopped and the rest stays pending.
    case portAuthRejected = "port-auth-rejected"
    /// Some Port requests failed (5xx, no answer): those entities stay pending.
    case pushFailed = "push-failed"
    /// Port rejected some entities for their content (4xx): they stay pending.
    case pushRejected = "push-rejected"
    /// The run's `--timeout` cut the push short: the rest stays pending.
    case runTimeout = "run-timeout"

    public static func < (lhs: RunReason, rhs: RunReason) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    /// Whether a server was down or refused us: retrying soon is unlikely to help, so a
    /// scheduler backs off. Mapping and content problems are not outages: waiting fixes nothing,
    /// and the rest of the catalog still deserves its regular runs.
    public var isOutage: Bool {
        switch self {
        case .sourceUnreachable, .sourceAuthRejected, .kindIncomplete, .portUnreachable, .portAuthRejected, .pushFailed, .runTimeout:
            return true
        case .descriptorErrors, .mappingErrors, .selectorErrors, .deletesWithheld, .pushRejected:
            return false
        }
    }

    /// What to change when the reason is a configuration problem.
    public var hint: String? {
        switch self {
        case .sourceAuthRejected: return "set BACKSTAGE_TOKEN (or BACKSTAGE_TOKEN_FILE) to a token this Backstage accepts"
        case .portAuthRejected: return "check PORT_CLIENT_ID and PORT_CLIENT_SECRET (or *_FILE)"
        default: return nil
        }
    }
}

/// Everything a run's outcome depends on, gathered as the run goes.
public struct RunFacts: Sendable {
    /// Kinds the run set out to walk, and those whose walk did not complete.
    public var kinds = 0
    public var incompleteKinds = 0
    /// Why kinds did not complete, when the cause was the source itself.
    public var sourceFailures: Set<RunReason> = []
    /// Descriptor files and documents a `file:` source could not read.
    public var descriptorProblems = 0
    /// Mapping fields that failed with a jq error, and selector evaluations that failed.
    public var mappingErrors = 0
    public var selectorErrors = 0
    /// Planned deletes were held back.
    public var deletesWithheld = false
    /// What the push did; nil when the run pushed nothing by design (mirror-only, `diff`).
    public var push: PushFacts?

    public init() {}
}

/// The Port half of `RunFacts`.
public struct PushFacts: Sendable {
    public enum Stop: Sendable {
        /// Port never answered; it kept failing (5xx) past the run's retry budget; it refused
        /// the credentials; the run's `--timeout` came first.
        case unreachable, failing, credentialsRefused, timeout
    }

    /// Entities Port answered with an error (5xx, no answer) or refused for their content.
    public var failed = 0
    public var rejected = 0
    /// Why the push stopped before sending everything, if it did.
    public var stop: Stop?

    public init(failed: Int = 0, rejected: Int = 0, stop: Stop? = nil) {
        self.failed = failed
        self.rejected = rejected
        self.stop = stop
    }
}

/// The one rule for how a run ended: `succeeded` only when every kind was walked, nothing failed
/// to map, every planned delete was allowed and everything planned reached Port (or the run is
/// mirror-only by configuration); `failed` when no kind could be walked; `partial` otherwise.
/// Every shortfall is a reason.
public struct RunOutcome: Sendable, Equatable {
    public let status: RunStatus
    /// Sorted, without duplicates.
    public let reasons: [RunReason]

    public init(status: RunStatus, reasons: [RunReason]) {
        self.status = status
        self.reasons = Array(Set(reasons)).sorted()
    }

    public init(_ facts: RunFacts) {
        var reasons = facts.sourceFailures.filter { [.sourceUnreachable, .sourceAuthRejected].contains($0) }
        if facts.incompleteKinds > 0 { reasons.insert(.kindIncomplete) }
        if facts.descriptorProblems > 0 { reasons.insert(.descriptorErrors) }
        if facts.mappingErrors > 0 { reasons.insert(.mappingErrors) }
        if facts.selectorErrors > 0 { reasons.insert(.selectorErrors) }
        if facts.deletesWithheld { reasons.insert(.deletesWithheld) }
        if let push = facts.push {
            switch push.stop {
            case .unreachable: reasons.insert(.portUnreachable)
            case .failing: reasons.insert(.pushFailed)
            case .credentialsRefused: reasons.insert(.portAuthRejected)
            case .timeout: reasons.insert(.runTimeout)
            case nil: break
            }
            if push.failed > 0 && push.stop == nil { reasons.insert(.pushFailed) }
            if push.rejected > 0 { reasons.insert(.pushRejected) }
        }
        let status: RunStatus
        if facts.kinds > 0 && facts.incompleteKinds == facts.kinds {
            status = .failed
        } else {
            status = reasons.isEmpty ? .succeeded : .partial
        }
        self.init(status: status, reasons: Array(reasons))
    }

    /// One short reason for a table cell: the first, and how many more.
    public var short: String {
        guard let first = reasons.first else { return "" }
        return reasons.count == 1 ? first.rawValue : "\(first.rawValue) (+\(reasons.count - 1))"
    }
}

extension MirrorStore {
    /// Records how a committed run ended (after its push, or after `--timeout` cut it short).
    public func recordOutcome(run: Int, _ outcome: RunOutcome, error: String?) throws(DatabaseError) {
        try db.run("UPDATE runs SET status = ?, reasons = ?, error = ? WHERE id = ?",
                   [.text(outcome.status.rawValue), .text(RunOutcome.encode(outcome.reasons)), .optionalText(error), .int(run)])
    }
}

extension RunOutcome {
    /// The `runs.reasons` column: a JSON array of reason names.
    static func encode(_ reasons: [RunReason]) -> String {
        CanonicalJSON.string(.array(reasons.map { .string($0.rawValue) }))
    }

    /// Reads `runs.reasons` (unknown names from a newer mirrorctl are skipped).
    static func decode(_ text: String?) -> [RunReason] {
        guard let text, let array = (try? CanonicalJSON.parse(text))?.arrayValue else { return [] }
        return array.compactMap { $0.stringValue.flatMap(RunReason.init(rawValue:)) }
    }
}
