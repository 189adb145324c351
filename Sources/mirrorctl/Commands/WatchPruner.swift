import Foundation
import Store

/// `watch --prune-keep-days D`: retention for a long-running watcher. Every `--prune-every`
/// (default 24h), between two runs, it runs `mirrorctl prune --keep-days D` as a child process
/// (the same writer lock, so it never overlaps a sync), so a watcher that records a run per tick
/// does not grow its database without bound. A prune that finds the lock taken is tried again
/// after the next run; one that fails is logged and tried again at the next period.
final class WatchPruner {
    static let options = [
        OptionSpec(name: "prune-keep-days", value: "D", help: "Also prune history older than D days, every --prune-every (config watch.pruneKeepDays)."),
        OptionSpec(name: "prune-every", value: "DURATION", help: "How often --prune-keep-days prunes (default 24h; config watch.pruneEvery)."),
    ]

    let keepDays: Int
    let every: Double
    private let executable: URL
    private let arguments: [String]
    private let environment: [String: String]
    private var lastAttempt: Date?

    /// The pruner `watch` was asked for, or nil without `--prune-keep-days`.
    init?(_ configuration: Configuration, database: String?, environment: [String: String]) {
        guard let keepDays = configuration.watchPruneKeepDays else { return nil }
        self.keepDays = keepDays
        every = configuration.watchPruneEvery
        executable = SyncChild.selfExecutable()
        arguments = ["prune", "--keep-days", String(keepDays), "--json"] + (database.map { ["--db", $0] } ?? [])
        self.environment = environment
    }

    /// `watch --once`: one sync (exactly `mirrorctl sync`), then, with `--prune-keep-days`, one
    /// prune, for schedulers that start a process per run (a Kubernetes CronJob). The exit status
    /// is the sync's.
    static func syncOnce(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let status = try Walk.run(arguments, context: context, dryRun: false)
        let configuration = try Configuration.load(arguments, environment: context.environment)
        // The prune child gets the environment a watch's sync child gets (config file, log settings).
        let environment = try SyncChild(arguments: arguments, context: context).environment
        WatchPruner(configuration, database: arguments.value("db"), environment: environment)?.pruneIfDue(log: context.console.logger)
        return status
    }

    /// Prunes when the period has passed since the last prune (the first time: at once).
    func pruneIfDue(log: Logger, now: Date = Date()) {
        if let lastAttempt, now.timeIntervalSince(lastAttempt) < every { return }
        let (process, output) = Process.mirrorctlChild(executable, arguments, environment: environment)
        do {
            try process.run()
        } catch {
            log.error("watch.prune.failed", "cannot start a prune: \(error)")
            lastAttempt = now
            return
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == ExitStatus.lockHeldCode {
            log.info("watch.prune.skipped", "prune skipped: another process holds the database's writer lock; trying after the next run")
            return
        }
        lastAttempt = now
        guard process.terminationStatus == 0, let report = try? CanonicalJSON.parse(String(decoding: data, as: UTF8.self)) else {
            log.warn("watch.prune.failed", "prune --keep-days \(keepDays) exited with status \(process.terminationStatus) (see its message above); next try in \(DurationText.describe(every))")
            return
        }
        let count = { (key: String) in Int(report[key]?.numberValue ?? 0) }
        let from = report["historyFromRun"]?.numberValue.map { String(Int($0)) } ?? "-"
        log.info("watch.prune", "pruned history older than \(keepDays) days: kept from run \(from); deleted \(count("runsDeleted")) runs, \(count("changesDeleted")) change events, \(count("blobsDeleted")) bodies",
                 fields: ["keepDays": .number(Double(keepDays)), "report": report])
    }
}

extension Process {
    /// A `mirrorctl` child of `watch`: its stdout (a `--json` result) to a pipe the caller reads,
    /// its stderr (log lines) to ours, no stdin.
    static func mirrorctlChild(_ executable: URL, _ arguments: [String], environment: [String: String]) -> (Process, Pipe) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        process.standardInput = FileHandle.nullDevice
        return (process, output)
    }
}
