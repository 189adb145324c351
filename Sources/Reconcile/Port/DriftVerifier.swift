import Fetch
import Foundation
import Store

/// What one verification found: entities compared, edited and missing in Port, and how many of
/// those the push afterwards made match again.
public struct DriftReport: Sendable {
    /// The `verifications` row.
    public let verification: Int
    public var counts = VerificationCounts()
    /// Blueprints that could not be read, with Port's reason (their entities count as unchecked).
    public var errors: [String] = []
    /// The first drifted or missing entities, `blueprint/identifier: fields` (all are in the database).
    public var samples: [String] = []

    /// `{"checked", "drifted", "missing", "repaired"}` (plus `errors` when there are any), as
    /// printed by `verify --json` and inside `sync --json`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "checked": .number(Double(counts.checked)), "drifted": .number(Double(counts.drifted)),
            "missing": .number(Double(counts.missing)), "repaired": .number(Double(counts.repaired)),
        ]
        if !errors.isEmpty { object["errors"] = .array(errors.map(JSONValue.string)) }
        return .object(object)
    }
}

/// Finds owned entities someone edited or deleted in Port by hand, and has them pushed again.
///
/// For every blueprint in the ledger it pages through `POST /v1/blueprints/{bp}/entities/search`,
/// including only the fields mirrorctl sends, and compares each entity mirrorctl owns (acknowledged
/// in its desired form) with the body Port acknowledged (`DriftComparison`). A drifted or missing
/// entity loses its acknowledgement in the ledger, so the next push plan upserts it exactly as any
/// pending entity. Entities mirrorctl did not create are never looked at; nothing is deleted.
public final class DriftVerifier {
    private let store: MirrorStore
    private let settings: PortSettings
    private let pageSize: Int
    private let log: VerificationLog

    /// - Parameter pageSize: entities per search page (Port allows 1…1000).
    public init(store: MirrorStore, settings: PortSettings, pageSize: Int = 1000) {
        self.store = store
        // Its own run (`verify`) gets a retry budget; within a sync it shares the sync's.
        self.settings = settings.retry.budget == nil ? settings.forOneRun() : settings
        self.pageSize = min(max(pageSize, 1), 1000)
        log = VerificationLog(store: store)
    }

    /// Compares Port with the ledger and records the drift within `run`; pushes nothing.
    /// Port failures are reported per blueprint in `errors`; only database failures throw.
    public func detect(run: Int) throws -> DriftReport {
        var report = DriftReport(verification: try log.begin(run: run))
        let auth = PortAuth(baseURL: settings.baseURL, credentials: settings.credentials)
        let client: PortClient
        do {
            client = try PortClient(baseURL: settings.baseURL, auth: auth, transport: settings.transport, retry: settings.retry)
        } catch {
            report.errors.append("cannot open a connection to Port: \(error)")
            try log.finish(report.verification, counts: report.counts, error: report.errors.joined(separator: "; "))
            return report
        }
        let blueprints = try log.blueprints()
        for (position, blueprint) in blueprints.enumerated() {
            let found = try check(blueprint: blueprint, client: client)
            try store.inTransaction {
                for (key, fields) in found.drifted {
                    try log.recordDrift(key, .drifted, fields: fields, verification: report.verification)
                    if report.samples.count < 20 { report.samples.append("\(key): \(fields.joined(separator: ", "))") }
                }
                for key in found.missing {
                    try log.recordDrift(key, .missing, fields: [], verification: report.verification)
                    if report.samples.count < 20 { report.samples.append("\(key): missing") }
                }
            }
            report.counts.drifted += found.drifted.count
            report.counts.missing += found.missing.count
            if let error = found.error {
                report.errors.append("blueprint \(blueprint): \(error)")
                // Port unreachable or the credentials refused: the other blueprints would only
                // repeat the same retries.
                if found.portDown {
                    let rest = blueprints.dropFirst(position + 1)
                    if !rest.isEmpty { report.errors.append("not verified: \(rest.joined(separator: ", ")) (Port unavailable)") }
                    break
                }
            } else {
                report.counts.checked += found.checked
            }
        }
        try log.finish(report.verification, counts: report.counts,
                       error: report.errors.isEmpty ? nil : report.errors.joined(separator: "; "))
        return report
    }

    /// Fills in `repaired` (drifted or missing entities Port has acknowledged again since) and
    /// stores it; call after the push.
    public static func settle(_ report: DriftReport, store: MirrorStore) throws -> DriftReport {
        let log = VerificationLog(store: store)
        var settled = report
        settled.counts.repaired = try log.repairedCount(verification: report.verification)
        try log.setRepaired(report.verification, settled.counts.repaired)
        return settled
    }

    /// `mirrorctl verify`: a run of its own that detects drift, pushes every planned upsert (the
    /// repairs and anything else pending; never deletes) and records the outcome.
    public func verifyAndRepair(config: PortAppConfig) throws -> (report: DriftReport, push: PushReport, run: Int, status: RunStatus) {
        let run = try log.beginRun(source: settings.baseURL)
        do {
            var report = try detect(run: run)
            let push = try PortPusher(store: store, settings: settings, config: config, run: run)
                .push(upserts: try Ledger(store: store).pendingCount(), deletes: [])
            report = try DriftVerifier.settle(report, store: store)
            let failed = push.notTaken
            let status: RunStatus
            if push.aborted != nil || (report.counts.checked == 0 && !report.errors.isEmpty) {
                status = .failed
            } else {
                status = report.errors.isEmpty && failed == 0 ? .succeeded : .partial
            }
            var problems = report.errors
            if let aborted = push.aborted { problems.append("Port push stopped: \(aborted)") }
            if failed > 0 { problems.append("\(failed) entit\(failed == 1 ? "y" : "ies") not accepted by Port") }
            try log.finishRun(run, status: status, error: problems.isEmpty ? nil : problems.joined(separator: "; "),
                              port: push.json)
            return (report, push, run, status)
        } catch {
            try? log.finishRun(run, status: .failed, error: "\(error)", port: nil)
            throw error
        }
    }

    /// What one blueprint's comparison found.
    private struct BlueprintDrift {
        var checked = 0
        var drifted: [(PortKey, [String])] = []
        var missing: [PortKey] = []
        /// Why the comparison stopped short, if it did (printed in the report's `errors`).
        var error: Error?

        /// The failure was Port itself (unreachable, retries exhausted, credentials refused).
        var portDown: Bool {
            switch error as? PortError {
            case .transport?, .gaveUp?, .stopped?: return true
            case .http(let status, _, _, _)? where status == 401 || status == 403: return true
            default: return false
            }
        }
    }

    private func check(blueprint: String, client: PortClient) throws -> BlueprintDrift {
        var result = BlueprintDrift()
        let owned = Set(try log.acknowledgedIdentifiers(blueprint: blueprint))
        result.checked = owned.count
        var seen = Set<String>()
        do {
            let include = try includes(blueprint: blueprint)
            var cursor: String?
            repeat {
                let page = try client.searchPage(blueprint: blueprint, include: include, limit: pageSize, from: cursor)
                for entity in page.entities {
                    guard let identifier = entity["identifier"]?.stringValue, owned.contains(identifier),
                          seen.insert(identifier).inserted else { continue }
                    let key = PortKey(blueprint: blueprint, identifier: identifier)
                    guard let text = try log.acknowledgedBody(key), let body = try? CanonicalJSON.parse(text) else { continue }
                    let fields = DriftComparison.differences(acknowledged: body, port: entity)
                    if !fields.isEmpty { result.drifted.append((key, fields)) }
                }
                cursor = page.next
            } while cursor != nil
        } catch let error as DatabaseError {
            throw error
        } catch {
            // A walk cut short says nothing about the entities not reached: none counts as missing.
            result.error = error
            return result
        }
        result.missing = owned.subtracting(seen).sorted().map { PortKey(blueprint: blueprint, identifier: $0) }
        return result
    }

    /// The fields of every acknowledged body of `blueprint`, for the search's `include`.
    private func includes(blueprint: String) throws -> [String] {
        var fields: Set<String> = ["$identifier"]
        var after = ""
        while true {
            let chunk = try log.acknowledgedBodies(blueprint: blueprint, after: after, limit: 500)
            guard let last = chunk.last else { break }
            for (_, text) in chunk {
                if let body = try? CanonicalJSON.parse(text) { fields.formUnion(DriftComparison.includes(of: body)) }
            }
            after = last.hash
        }
        return fields.sorted()
    }
}

@available(*, unavailable)
extension DriftVerifier: Sendable {}

extension PushReport {
    /// The `port` object of `verify --json`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "upserted": .number(Double(upserted)), "failed": .number(Double(notTaken)),
            "requests": .number(Double(stats.requests + tokenFetches)),
        ]
        if let aborted { object["error"] = .string(aborted) }
        return .object(object)
    }
}
