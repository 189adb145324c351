import Foundation
import Store

/// `mirrorctl prune`: drops old history under the writer lock, keeping everything the kept runs
/// and the current state need (see `Retention`).
enum PruneCommand {
    static let spec = CommandSpec(
        name: "prune", abstract: "Drop old runs, change events and pushes; keep what recent history and the current state need.",
        usage: "prune (--keep-runs N | --keep-days D) [--vacuum] [--dry-run] [--wait [--timeout DURATION]] [--db PATH] [--json]",
        options: [Configuration.databaseOption,
                  OptionSpec(name: "keep-runs", value: "N", help: "Keep the newest N runs whole (N ≥ 1)."),
                  OptionSpec(name: "keep-days", value: "D", help: "Keep runs started in the last D days whole (always at least the newest run)."),
                  OptionSpec(name: "vacuum", value: nil, help: "Then rebuild the file to give freed space back (needs room for a copy)."),
                  OptionSpec(name: "dry-run", value: nil, help: "Report what would be removed, remove nothing."),
                  WriterLocking.waitOption,
                  WriterLocking.waitTimeoutOption,
                  OptionSpec(name: "json", value: nil, help: "Print one JSON object.")],
        discussion: """
            For every entity, the newest change event before the oldest kept run stays as its baseline,
            so 'show REF --at RUN' answers as before for every kept run. Older runs still referred to
            (by a baseline, first/last seen, the desired state or the ledger) keep their row; their
            pushes and superseded events go. Bodies nothing refers to any more are deleted.
            Exit status: 0 pruned, 2 usage error, 4 database unusable, 5 another sync or prune holds the database.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let policy = try policy(arguments)
        let path = Configuration.databasePath(arguments, environment: context.environment)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(path: path, message: "no such database (run 'mirrorctl sync' first)")
        }
        let lock = try WriterLocking.acquire(database: path, command: "prune", arguments: arguments,
                                             deadline: try RunLimits.load(arguments).deadline, console: context.console)
        defer { lock?.release() }
        let store = try openStore(path, readOnly: false)
        let retention = Retention(store: store)
        let dryRun = arguments.flag("dry-run")
        let before = try retention.size()
        let report = try retention.prune(policy, dryRun: dryRun)
        let vacuumed = arguments.flag("vacuum") && !dryRun
        let sizes = vacuumed ? try retention.vacuum() : (before, try retention.size())
        if arguments.flag("json") {
            context.console.json(json(report, sizes: sizes, vacuumed: vacuumed))
        } else {
            context.console.print(text(report, sizes: vacuumed ? sizes : nil))
        }
        return .success
    }

    static func policy(_ arguments: ParsedArguments) throws(UsageError) -> RetentionPolicy {
        let runs = try arguments.int("keep-runs", range: 1...Int(Int32.max))
        let days = try arguments.int("keep-days", range: 0...1_000_000)
        switch (runs, days) {
        case (let runs?, nil): return .keepRuns(runs)
        case (nil, let days?): return .keepDays(days)
        case (nil, nil): throw UsageError("prune needs --keep-runs N or --keep-days D", spec: spec)
        case (_?, _?): throw UsageError("give --keep-runs or --keep-days, not both", spec: spec)
        }
    }

    /// `bytesBefore`/`bytesAfter` are always there: the pages in use before and after (without
    /// `--vacuum` the file keeps its size; freed pages are reused by later runs).
    static func json(_ report: PruneReport, sizes: (before: Int, after: Int), vacuumed: Bool) -> JSONValue {
        let object: [String: JSONValue] = [
            "dryRun": .bool(report.dryRun),
            "historyFromRun": report.historyFromRun.map { .number(Double($0)) } ?? .null,
            "runsDeleted": .number(Double(report.runsDeleted)),
            "anchorRuns": .array(report.anchorRuns.map { .number(Double($0)) }),
            "changesDeleted": .number(Double(report.changesDeleted)),
            "baselines": .number(Double(report.baselines)),
            "pushesDeleted": .number(Double(report.pushesDeleted)),
            "blobsDeleted": .number(Double(report.blobsDeleted)),
            "vacuumed": .bool(vacuumed),
            "bytesBefore": .number(Double(sizes.before)),
            "bytesAfter": .number(Double(sizes.after)),
        ]
        return .object(object)
    }

    static func text(_ report: PruneReport, sizes: (before: Int, after: Int)?) -> String {
        guard let from = report.historyFromRun else { return "No runs: nothing to prune." }
        var text = report.dryRun ? "Would keep" : "Kept"
        text += " history from run \(from); \(report.dryRun ? "would delete" : "deleted") \(report.runsDeleted) runs, "
            + "\(report.changesDeleted) change events, \(report.pushesDeleted) pushes, \(report.blobsDeleted) bodies"
        text += "; \(report.baselines) baseline events"
        if !report.anchorRuns.isEmpty { text += " and \(report.anchorRuns.count) older runs they refer to" }
        text += " kept"
        if let sizes { text += "\nVacuumed: \(sizes.before / 1024) KiB → \(sizes.after / 1024) KiB" }
        return text
    }
}
