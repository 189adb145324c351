import Foundation

/// Which runs `prune` keeps whole: the newest N, or those started in the last D days (always at
/// least the newest run, so a quiet mirror never loses its only history).
public enum RetentionPolicy: Sendable, Equatable, CustomStringConvertible {
    case keepRuns(Int)
    case keepDays(Int)

    public var description: String {
        switch self {
        case .keepRuns(let count): return "keep-runs \(count)"
        case .keepDays(let days): return "keep-days \(days)"
        }
    }

    /// The oldest run this policy keeps in `db`, judged at `now`; nil when there are no runs.
    func oldestKeptRun(in db: Database, now: Date) throws(DatabaseError) -> Int? {
        guard let newest = try db.row("SELECT max(id) FROM runs")?.int(0) else { return nil }
        switch self {
        case .keepRuns(let count):
            if let oldest = try db.row("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", [.int(max(1, count) - 1)])?.int(0) {
                return oldest
            }
            return try db.row("SELECT min(id) FROM runs")?.int(0)
        case .keepDays(let days):
            let cutoff = Timestamp.string(now.addingTimeInterval(-Double(days) * 86_400))
            let recent = try db.row("SELECT min(id) FROM runs WHERE started_at >= ?", [.text(cutoff)])?.int(0)
            return recent ?? newest
        }
    }
}
