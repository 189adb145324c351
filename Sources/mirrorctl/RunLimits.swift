import Fetch
import Foundation
import Reconcile
import Store

/// How far one `sync` or `diff` may go: `--timeout` bounds the whole run (every request is capped
/// to the time left, retry waits stop there, walks stop between pages) and `--max-retries` bounds
/// the retries of each request, for Backstage and Port alike.
struct RunLimits {
    var deadline: RunDeadline?
    var maxRetries: Int?

    static let timeoutOption = OptionSpec(name: "timeout", value: "DURATION", help: "Stop the whole run after this long: 90s, 5m, 1h30m (a plain number is seconds).")
    static let maxRetriesOption = OptionSpec(name: "max-retries", value: "N", help: "Retries per request after 408/429/5xx or connection errors (default 5 for Backstage, 10 for Port).")

    /// Reads `--timeout` and `--max-retries`; the deadline counts from `start`.
    static func load(_ arguments: ParsedArguments, start: Date = Date()) throws(UsageError) -> RunLimits {
        var limits = RunLimits()
        if let text = arguments.value("timeout") {
            guard let seconds = DurationText.seconds(text), seconds > 0 else {
                throw UsageError("--timeout must be a duration such as 90s, 5m or 1h30m, got '\(text)'")
            }
            let label = Double(text) != nil ? "\(text)s" : text
            limits.deadline = RunDeadline(seconds: seconds, label: label, start: start)
        }
        limits.maxRetries = try arguments.int("max-retries", range: 0...100)
        return limits
    }

    /// `policy` within these limits.
    func bounding(_ policy: RetryPolicy) -> RetryPolicy {
        var bounded = policy
        if let maxRetries { bounded.maxAttempts = maxRetries + 1 }
        bounded.deadline = deadline?.end
        return bounded
    }

    /// The catalog source, stopped at the deadline when there is one.
    func bounding(_ source: CatalogSource) -> CatalogSource {
        deadline.map { DeadlineCatalogSource.bounding(source, by: $0) } ?? source
    }

    /// A sync whose walk committed but whose Port push the deadline cut short is partial
    /// (`run-timeout`): the run is marked so in the database and in `report`, with the reason.
    /// Pushes that did not happen stay pending in the ledger for the next run.
    func settle(_ report: inout SyncReport, store: MirrorStore) throws {
        guard let deadline, deadline.isExpired, let run = report.run, !report.dryRun, !report.port.skipped,
              report.port.failed > 0 || report.port.aborted != nil else { return }
        let reason = "\(deadline.reason) during the Port push: \(report.port.pending) entities pending"
        report.facts.push = report.facts.push ?? PushFacts()
        report.facts.push?.stop = .timeout
        let outcome = RunOutcome(report.facts)
        report.status = outcome.status
        report.reasons = outcome.reasons
        report.error = [report.error, reason].compactMap { $0 }.joined(separator: "; ")
        try store.recordOutcome(run: run, outcome, error: report.error)
    }
}

/// `--insecure`: the only way to turn TLS verification off. There is deliberately no environment
/// variable or config key for it, and every use says so on stderr.
enum InsecureOption {
    static let spec = OptionSpec(name: "insecure", value: nil, help: "Do not verify TLS certificates or host names (test setups only; warns on stderr).")

    static func apply(_ arguments: ParsedArguments, to transport: inout TransportOptions, console: Console) {
        guard arguments.flag("insecure") else { return }
        transport.insecure = true
        console.logger.warn("tls.insecure", "--insecure: TLS certificates and host names are NOT verified; anyone on the network path can read and change this traffic, credentials included")
    }
}

/// Credentials belong in BACKSTAGE_TOKEN or PORT_CLIENT_SECRET, never in a URL: a URL is printed in
/// errors and recorded as the run's source.
enum URLCredentials {
    /// Throws when one of `urls` (setting name, value) has a `user:password@` part.
    static func reject(_ urls: [(setting: String, url: String)]) throws(UsageError) {
        for (setting, url) in urls {
            guard let scheme = url.range(of: "://") else { continue }
            let authority = url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            if authority.contains("@") {
                throw UsageError("\(setting) must not contain credentials (user:password@host): use BACKSTAGE_TOKEN or PORT_CLIENT_ID/PORT_CLIENT_SECRET (or *_FILE)")
            }
        }
    }
}
