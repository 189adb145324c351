import Store

/// Bounds a catalog source by the run's deadline: no walk starts after it, and the walk stops
/// between pages once it has passed. Whatever stopped because of the deadline (a capped request,
/// a retry wait cut short, the check between pages) fails with `RunTimeout`, so the run records
/// "run timeout (90s) reached" and the kind counts as incomplete. Database errors pass through
/// untouched: they must still roll the run back.
public class DeadlineCatalogSource: CatalogSource {
    let base: CatalogSource
    public let deadline: RunDeadline

    /// The source bounded by `deadline`, keeping the base's etag-first scans when it has them.
    public static func bounding(_ base: CatalogSource, by deadline: RunDeadline) -> CatalogSource {
        if let incremental = base as? IncrementalCatalogSource {
            return DeadlineIncrementalSource(incremental, deadline: deadline)
        }
        return DeadlineCatalogSource(base: base, deadline: deadline)
    }

    init(base: CatalogSource, deadline: RunDeadline) {
        self.base = base
        self.deadline = deadline
    }

    public var sourceDescription: String { base.sourceDescription }
    public var stats: SourceStats { base.stats }
    public var descriptorReport: DescriptorReport { base.descriptorReport }

    public func walk(kind: String, onPage: (EntityPage) throws -> Void) throws {
        try bounded {
            try base.walk(kind: kind) { page in
                try onPage(page)
                try deadline.check()
            }
        }
    }

    /// Runs `body` unless the deadline has passed; a failure after the deadline becomes `RunTimeout`.
    func bounded<T>(_ body: () throws -> T) throws -> T {
        try deadline.check()
        do {
            return try body()
        } catch let error as DatabaseError {
            throw error
        } catch {
            if deadline.isExpired { throw RunTimeout(deadline: deadline) }
            throw error
        }
    }
}

/// `DeadlineCatalogSource` for a source that also scans by etag and fetches by ref.
final class DeadlineIncrementalSource: DeadlineCatalogSource, IncrementalCatalogSource {
    private let incremental: IncrementalCatalogSource

    init(_ base: IncrementalCatalogSource, deadline: RunDeadline) {
        incremental = base
        super.init(base: base, deadline: deadline)
    }

    func scan(kind: String, onPage: (ScannedPage) throws -> Void) throws {
        try bounded {
            try incremental.scan(kind: kind) { page in
                try onPage(page)
                try deadline.check()
            }
        }
    }

    func fetch(refs: [EntityRef]) throws -> [JQValue?] {
        try bounded { try incremental.fetch(refs: refs) }
    }
}
