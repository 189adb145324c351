/// How an entity changed between the mirror and a new walk.
public enum ChangeKind: String, Sendable, Codable, CaseIterable {
    case created, updated, deleted, unchanged
}

/// Counts of a walk's outcome, per kind or in total.
public struct ChangeCounts: Sendable, Equatable, Codable {
    public var fetched = 0
    public var created = 0
    public var updated = 0
    public var deleted = 0
    public var unchanged = 0

    public init() {}

    public mutating func add(_ change: ChangeKind, by amount: Int = 1) {
        switch change {
        case .created: created += amount
        case .updated: updated += amount
        case .deleted: deleted += amount
        case .unchanged: unchanged += amount
        }
    }

    public static func + (lhs: ChangeCounts, rhs: ChangeCounts) -> ChangeCounts {
        var sum = lhs
        sum.fetched += rhs.fetched
        sum.created += rhs.created
        sum.updated += rhs.updated
        sum.deleted += rhs.deleted
        sum.unchanged += rhs.unchanged
        return sum
    }
}

/// One entity's change in a walk.
public struct EntityChange: Sendable, Equatable {
    public let ref: EntityRef
    public let change: ChangeKind
    public let oldHash: ContentHash?
    public let newHash: ContentHash?
    /// True when this copy replaces an earlier copy of the same ref seen in the same walk.
    public var replacesEarlierCopy = false

    public init(ref: EntityRef, change: ChangeKind, oldHash: ContentHash?, newHash: ContentHash?) {
        self.ref = ref
        self.change = change
        self.oldHash = oldHash
        self.newHash = newHash
    }

    /// The entity's kind (lower-case, as the mirror files it).
    public var kind: String { ref.kind }
}

/// How a kind was walked.
public enum WalkMode: String, Sendable {
    /// Every entity body, page by page.
    case full
    /// Refs, uids and etags first; then only new or changed bodies, by ref.
    case scan
}

/// Outcome of walking one kind.
public struct KindOutcome: Sendable {
    public let kind: String
    public let complete: Bool
    public let fetched: Int
    /// Why the walk stopped short, typed until it is printed or recorded.
    public let problem: (any Error & Sendable)?
    public var mode: WalkMode
    /// Why the walk did not complete, when the source itself was the cause
    /// (`source-unreachable`, `source-auth-rejected`).
    public var failure: RunReason?

    public init(kind: String, complete: Bool, fetched: Int, problem: (any Error & Sendable)?, mode: WalkMode = .full) {
        self.kind = kind
        self.complete = complete
        self.fetched = fetched
        self.problem = problem
        self.mode = mode
    }

    /// An outcome whose problem is known only by its words.
    public init(kind: String, complete: Bool, fetched: Int, error: String?, mode: WalkMode = .full) {
        self.init(kind: kind, complete: complete, fetched: fetched, problem: error.map(DescribedProblem.init), mode: mode)
    }

    /// `problem`, as text (what reports print and the database records).
    public var error: String? { problem.map { "\($0)" } }
}

/// A problem known only by its words.
public struct DescribedProblem: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
