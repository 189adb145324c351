import Fetch
import Foundation
import Store

/// One finished sync run, read from its `sync --json` object. Both the `run.finished` log event
/// and the metrics come from here, so `sync` (reading its own report) and `watch` (reading its
/// child's) say the same thing in logs and in `/metrics`.
struct RunSummary {
    var run: Int?
    /// `succeeded`, `partial` or `failed`.
    var status: String
    /// The run's typed reasons (`port-unreachable`, `mapping-errors`, …); empty when it succeeded.
    var reasons: [String]
    var finishedAt: Date
    /// Seconds per stage (walk, map, plan, commit, push).
    var stageSeconds: [String: Double]
    /// The report's `source` and `port` objects, as logged.
    var source: JSONValue
    var port: JSONValue
    var mappingErrors: Int
    /// Requests by target (`backstage`, `port`) and status code.
    var requests: [String: [String: Int]]

    var succeeded: Bool { status == "succeeded" }

    init(report: JSONValue, finishedAt: Date) {
        run = report["run"]?.numberValue.map { Int($0) }
        status = report["status"]?.stringValue ?? "failed"
        reasons = RunSummary.reasons(in: report)
        self.finishedAt = finishedAt
        stageSeconds = (report["seconds"]?.objectValue ?? [:]).compactMapValues(\.numberValue)
        source = report["source"] ?? .object([:])
        port = report["port"] ?? .object([:])
        mappingErrors = Int(report[path: ["mapping", "errors"]]?.numberValue ?? 0)
        requests = (report["requests"]?.objectValue ?? [:]).mapValues { codes in
            (codes.objectValue ?? [:]).compactMapValues { $0.numberValue.map { Int($0) } }
        }
    }

    /// A run that ended without a report (it crashed, was killed, or could not open its
    /// database): failed, with nothing counted.
    init(unreportedAt finishedAt: Date) {
        self.init(report: .object(["status": "failed"]), finishedAt: finishedAt)
    }

    /// Where a run's reasons are read from: the `reasons` array of its `sync --json` object.
    /// The one place logs and metrics learn them.
    static func reasons(in report: JSONValue) -> [String] {
        (report["reasons"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// Entities by change in the mirror: created, updated, deleted, unchanged.
    var entities: [String: Double] {
        Dictionary(uniqueKeysWithValues: ["created", "updated", "deleted", "unchanged"].map { ($0, count(source, $0)) })
    }

    /// Port entities by result: upserted, deleted, failed, rejected, pending, unchanged. `failed`
    /// here leaves out what Port rejected (the report's `failed` counts both), so each entity is
    /// in one result.
    var portEntities: [String: Double] {
        var results = Dictionary(uniqueKeysWithValues: ["upserted", "deleted", "rejected", "pending", "unchanged"].map { ($0, count(port, $0)) })
        results["failed"] = max(0, count(port, "failed") - count(port, "rejected"))
        return results
    }

    private func count(_ object: JSONValue, _ key: String) -> Double { object[key]?.numberValue ?? 0 }
}

/// The `requests` object of `sync --json`: requests per target and status code, counted by the
/// HTTP layer (`RequestTally`), retries included.
struct RequestCounts {
    let backstage = RequestTally()
    let port = RequestTally()

    var json: JSONValue {
        let encode = { (tally: RequestTally) in JSONValue.object(tally.byCode.mapValues { .number(Double($0)) }) }
        return .object(["backstage": encode(backstage), "port": encode(port)])
    }
}
