import Foundation
import Store

/// `RUN|TIME` options (`show --at`, `export --at`, `diff --from/--to`): a run id, an RFC 3339
/// time, or a duration back from now (`24h`, `7d`, `1h30m`). A point that names no state of the
/// mirror is a usage error naming the valid range (exit 2); a pruned one exits 1, as before.
enum SnapshotPointOption {
    static let valueName = "RUN|TIME"

    /// The `--at RUN|TIME` option of a command that reads `subject` as it was at that point.
    static func at(_ subject: String) -> OptionSpec {
        OptionSpec(name: "at", value: valueName,
                   help: "\(subject) after run RUN, or at TIME (RFC 3339, or back from now: 24h, 7d).")
    }

    /// What `text` names, without looking at a database.
    static func parse(_ text: String, option: String, now: Date = Date()) throws(UsageError) -> SnapshotPoint {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let run = Int(trimmed) {
            guard run >= 1 else { throw UsageError("--\(option) \(text): run ids start at 1") }
            return .run(run)
        }
        if trimmed.contains(where: \.isLetter), !trimmed.contains("-"), !trimmed.contains(":"),
           let seconds = DurationText.seconds(trimmed) {
            return .time(now.addingTimeInterval(-seconds))
        }
        if let date = Timestamp.date(trimmed) { return .time(date) }
        throw UsageError("--\(option) must be a run id, an RFC 3339 time (2026-01-10T08:00:00Z) or a duration back from now (24h, 7d), got '\(text)'")
    }

    /// The run the option `name` names in `store`, or nil when it isn't given.
    static func run(_ arguments: ParsedArguments, _ name: String, store: MirrorStore, now: Date = Date()) throws -> Int? {
        guard let text = arguments.value(name) else { return nil }
        let point = try parse(text, option: name, now: now)
        do {
            return try store.resolve(point, now: now)
        } catch let error as SnapshotPointError where !error.isPruned {
            throw UsageError("--\(name) \(text): \(error.message)")
        }
    }
}
