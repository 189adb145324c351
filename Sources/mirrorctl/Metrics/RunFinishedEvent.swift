import Foundation
import Store

/// The `run.finished` log event: one per sync run, from `sync` itself or, under `watch`, from
/// the watcher (its child stays quiet, so each run is logged once). Info when the run succeeded,
/// a warning otherwise; it carries the run id, status, reasons and counts.
enum RunFinishedEvent {
    static let name = "run.finished"

    /// The environment variable `watch` sets on its child `sync`, which then leaves the event to it.
    static let loggedByParent = "MIRROR_RUN_FINISHED_BY_PARENT"

    static func log(_ summary: RunSummary, exitStatus: Int32, seconds: Double, to logger: Logger) {
        let fields: [String: JSONValue] = [
            "status": .string(summary.status), "reasons": .array(summary.reasons.map(JSONValue.string)),
            "exitStatus": .number(Double(exitStatus)), "seconds": .number(seconds.rounded(toPlaces: 3)),
            "source": summary.source, "port": summary.port, "mappingErrors": .number(Double(summary.mappingErrors)),
        ]
        logger.log(summary.succeeded && exitStatus == 0 ? .info : .warn, name, message(summary, seconds: seconds),
                   fields: fields, run: summary.run)
    }

    /// `run 42 succeeded in 3.41s: 1203 fetched, 3 created, …; port 4 upserted, …`.
    static func message(_ summary: RunSummary, seconds: Double) -> String {
        let count = { (object: JSONValue, key: String) in Int(object[key]?.numberValue ?? 0) }
        let source = summary.source
        let port = summary.port
        var line = "run \(summary.run.map(String.init) ?? "-") \(summary.status) in \(String(format: "%.2f", seconds))s: \(count(source, "fetched")) fetched, \(count(source, "created")) created, \(count(source, "updated")) updated, \(count(source, "deleted")) deleted"
        if port["skipped"]?.boolValue == true {
            line += "; port skipped, \(count(port, "pending")) pending"
        } else {
            line += "; port \(count(port, "upserted")) upserted, \(count(port, "deleted")) deleted, \(count(port, "failed")) failed, \(count(port, "pending")) pending"
        }
        if !summary.reasons.isEmpty { line += " (\(summary.reasons.joined(separator: ", ")))" }
        return line
    }
}
