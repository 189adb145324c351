import Foundation

/// The end of a whole run (`--timeout`): every request, retry wait and page of a run stops there.
/// `label` is how the user wrote the limit, so the reason reads "run timeout (90s) reached".
public struct RunDeadline: Sendable {
    public let end: Date
    public let label: String

    /// A deadline `seconds` after `start`, described by `label` (e.g. "90s", "5m").
    public init(seconds: Double, label: String, start: Date = Date()) {
        self.end = start.addingTimeInterval(seconds)
        self.label = label
    }

    /// Seconds left (negative once passed).
    public var remaining: Double { end.timeIntervalSinceNow }

    public var isExpired: Bool { remaining <= 0 }

    /// Why the run stopped, in the words the run records and prints.
    public var reason: String { "run timeout (\(label)) reached" }

    /// Throws `RunTimeout` once the deadline has passed.
    public func check() throws(RunTimeout) {
        if isExpired { throw RunTimeout(deadline: self) }
    }
}

/// The run reached its `--timeout`.
public struct RunTimeout: Error, CustomStringConvertible, Sendable {
    public let deadline: RunDeadline

    public init(deadline: RunDeadline) {
        self.deadline = deadline
    }

    public var description: String { deadline.reason }
}
