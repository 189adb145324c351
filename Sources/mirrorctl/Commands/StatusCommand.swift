import Foundation
import Store

/// `mirrorctl status`: is the mirror healthy? For people, liveness/readiness probes and
/// monitoring checks: exit 0 when healthy, non-zero when the last sync failed or is too old.
enum StatusCommand {
    static let spec = CommandSpec(
        name: "status", abstract: "Show the last run, pending pushes and drift; exit non-zero when unhealthy.",
        usage: "status [--db PATH] [--max-age DURATION] [--liveness] [--json]",
        options: [Configuration.databaseOption,
                  OptionSpec(name: "max-age", value: "DURATION", help: "Unhealthy when the last sync finished longer ago (e.g. 10m; env MIRROR_MAX_AGE)."),
                  OptionSpec(name: "liveness", value: nil, help: "Only ask whether syncs still happen: exit 1 when none has finished or the last one is older than --max-age, else 0 (for a Kubernetes liveness probe)."),
                  OptionSpec(name: "json", value: nil, help: "Print one JSON object.")],
        discussion: """
            Exit status: 0 healthy; 1 no sync yet, the last sync failed, or it is older than --max-age;
            3 degraded: the last sync was partial (see its reasons) or Port pushes are pending or failed
            after it; 4 the database can't be read. With --liveness: 1 only when no sync has finished or the
            last one is older than --max-age (a probe must not restart a pod over a mapping error or
            a Port outage).
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let configuration = try Configuration.load(arguments, environment: context.environment)
        let store = try openStore(configuration.databasePath, readOnly: true)
        let report = try MirrorHealth.check(store, maxAge: configuration.statusMaxAge, now: Date())
        if arguments.flag("json") {
            context.console.json(report.json)
        } else {
            context.console.print(report.text)
        }
        if arguments.flag("liveness") {
            if configuration.statusMaxAge == nil { throw UsageError("--liveness needs --max-age (or MIRROR_MAX_AGE)") }
            return report.isLive ? .success : .failed
        }
        return report.exitStatus
    }
}

/// The health of a mirror: the last sync, Port's backlog and the last drift check.
struct MirrorHealth {
    enum Verdict: String {
        /// `partial`: the last sync was partial, or Port pushes are pending or failed after it.
        case healthy, stale, failed, partial, never
    }

    var lastRun: RunRecord?
    var lastRunPort: JSONValue?
    var lastSuccess: RunRecord?
    var ageSeconds: Double?
    var maxAge: Double?
    var pending = 0
    var failedPushes = 0
    var drift: JSONValue = .null
    var verdict = Verdict.never
    var problem: String?
    /// The last run's reasons, and the mirror's own: `stale`, `pushes-pending`, `pushes-failed`.
    var reasons: [String] = []

    /// Whether syncs still happen: one has finished within `maxAge`, whatever its status (what
    /// a liveness probe asks; a restart fixes a wedged process, not a mapping or an outage).
    var isLive: Bool {
        guard lastRun != nil else { return false }
        return !reasons.contains("stale")
    }

    var exitStatus: ExitStatus {
        switch verdict {
        case .healthy: return .success
        case .partial: return .partial
        case .stale, .failed, .never: return .failed
        }
    }

    /// Reads everything from `store` (read-only) and judges it.
    static func check(_ store: MirrorStore, maxAge: Double?, now: Date) throws -> MirrorHealth {
        var health = MirrorHealth()
        health.maxAge = maxAge
        health.lastRun = try store.lastRun(of: "sync")
        health.lastSuccess = try store.lastRun(of: "sync", status: .succeeded)
        if let run = health.lastRun {
            health.lastRunPort = try store.portReport(ofRun: run.id)
            if let finished = Timestamp.date(run.finishedAt ?? run.startedAt) {
                health.ageSeconds = max(0, now.timeIntervalSince(finished))
            }
        }
        let ledger = Ledger(store: store)
        health.pending = try ledger.pendingCount()
        health.failedPushes = try ledger.failedCount()
        health.drift = try lastVerification(store, now: now)
        health.judge()
        return health
    }

    /// The newest finished drift verification (`mirrorctl verify`), when the database has them.
    private static func lastVerification(_ store: MirrorStore, now: Date) throws -> JSONValue {
        guard let last = try VerificationLog(store: store).lastFinished() else { return .null }
        let counts = last.counts
        var object: [String: JSONValue] = [
            "at": .string(last.finishedAt), "checked": .number(Double(counts.checked)), "drifted": .number(Double(counts.drifted)),
            "missing": .number(Double(counts.missing)), "repaired": .number(Double(counts.repaired)),
        ]
        if let date = Timestamp.date(last.finishedAt) { object["ageSeconds"] = .number(max(0, now.timeIntervalSince(date)).rounded()) }
        if let error = last.error { object["error"] = .string(error) }
        return .object(object)
    }

    /// The verdict, worst first: failed, stale, then degraded (partial run, pushes not acknowledged).
    private mutating func judge() {
        guard let run = lastRun else {
            verdict = .never
            problem = "no sync has run yet"
            reasons = ["never-run"]
            return
        }
        reasons = run.reasons.map(\.rawValue)
        let because = run.reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))"
        // A mirror-only sync (no Port credentials) leaves its plan pending on purpose.
        let pushes = lastRunPort?["skipped"]?.boolValue != true
        var backlog: [String] = []
        if pushes && pending > 0 {
            reasons.append("pushes-pending")
            backlog.append("\(pending) Port entities pending")
        }
        if pushes && failedPushes > 0 {
            reasons.append("pushes-failed")
            backlog.append("\(failedPushes) rejected or failed")
        }
        let stale = maxAge.flatMap { maxAge in ageSeconds.map { $0 > maxAge } } ?? false
        if stale { reasons.append("stale") }
        if run.status == .ended(.failed) {
            verdict = .failed
            problem = "the last sync (run \(run.id)) failed\(because): \(run.error ?? "no error recorded")"
        } else if stale, let maxAge, let age = ageSeconds {
            verdict = .stale
            problem = "the last sync (run \(run.id)) finished \(DurationText.describe(age)) ago, more than --max-age \(DurationText.describe(maxAge))"
        } else if run.status == .ended(.partial) {
            verdict = .partial
            problem = "the last sync (run \(run.id)) was partial\(because): \(run.error ?? "see its reasons")"
        } else if !backlog.isEmpty {
            verdict = .partial
            problem = "after the last sync (run \(run.id)): \(backlog.joined(separator: ", "))"
        } else {
            verdict = .healthy
        }
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "healthy": .bool(verdict == .healthy), "verdict": .string(verdict.rawValue),
            "pending": .number(Double(pending)), "failedPushes": .number(Double(failedPushes)), "drift": drift,
            "reasons": .array(reasons.map(JSONValue.string)),
        ]
        object["problem"] = problem.map(JSONValue.string) ?? .null
        object["maxAgeSeconds"] = maxAge.map { .number($0) } ?? .null
        if let run = lastRun {
            var last: [String: JSONValue] = [
                "run": .number(Double(run.id)), "status": .string(run.status.description), "startedAt": .string(run.startedAt),
                "source": .string(run.source), "counts": Walk.counts(run.counts),
            ]
            last["finishedAt"] = run.finishedAt.map(JSONValue.string) ?? .null
            last["ageSeconds"] = ageSeconds.map { .number($0.rounded()) } ?? .null
            last["error"] = run.error.map(JSONValue.string) ?? .null
            last["reasons"] = .array(run.reasons.map { .string($0.rawValue) })
            last["port"] = lastRunPort ?? .null
            object["lastRun"] = .object(last)
        } else {
            object["lastRun"] = .null
        }
        object["lastSuccess"] = lastSuccess.map { run in
            ["run": .number(Double(run.id)), "finishedAt": run.finishedAt.map(JSONValue.string) ?? .null]
        } ?? .null
        return .object(object)
    }

    var text: String {
        var rows: [[String]] = []
        if let run = lastRun {
            let age = ageSeconds.map { " (\(DurationText.describe($0)) ago)" } ?? ""
            let because = run.reasons.isEmpty ? "" : " (\(run.reasons.map(\.rawValue).joined(separator: ", ")))"
            rows.append(["last run", "\(run.id) \(run.status)\(because), finished \(run.finishedAt ?? "-")\(age)"])
            let c = run.counts
            rows.append(["source", "\(run.source): \(c.fetched) fetched, \(c.created) created, \(c.updated) updated, \(c.deleted) deleted"])
            if let success = lastSuccess, success.id != run.id {
                rows.append(["last success", "\(success.id), finished \(success.finishedAt ?? "-")"])
            }
        } else {
            rows.append(["last run", "none"])
        }
        rows.append(["pending", "\(pending) Port entities not yet acknowledged"])
        rows.append(["failed pushes", "\(failedPushes) Port entities rejected or failed"])
        if let drift = drift.objectValue {
            let count = { (key: String) in Int(drift[key]?.numberValue ?? 0) }
            rows.append(["drift", "\(count("drifted")) drifted, \(count("missing")) missing of \(count("checked")) checked at \(drift["at"]?.stringValue ?? "-")"])
        } else {
            rows.append(["drift", "never verified"])
        }
        rows.append(["health", verdict == .healthy ? "ok" : "\(verdict.rawValue): \(problem ?? "")"])
        let width = rows.map { $0[0].count }.max() ?? 0
        // Values hold run errors, which quote servers: one line each, escaped.
        return rows.map { $0[0].padding(toLength: width + 2, withPad: " ", startingAt: 0) + TerminalText.escape($0[1]) }.joined(separator: "\n")
    }
}
