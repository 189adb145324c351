import Fetch
import Foundation
import Store

/// How a run ended: every kind walked completely, some did, or none did.
public enum RunStatus: String, Sendable, Codable {
    case succeeded, partial, failed
}

/// Something worth telling a person while a run goes on.
public enum SyncEvent: Sendable {
    case kindStarted(String)
    case page(kind: String, number: Int, entities: Int, totalSoFar: Int)
    case kindFinished(KindOutcome)
    case warning(String)
}

/// What one `sync` or `diff` found and did.
public struct SyncReport: Sendable {
    public var run: Int?
    public var status: RunStatus
    public var dryRun: Bool
    public var counts: ChangeCounts
    public var kinds: [KindOutcome]
    /// Created, updated and deleted entities (unchanged ones are only counted).
    public var changes: [EntityChange]
    public var warnings: [String]
    public var error: String?
    public var sourceStats: SourceStats
}

/// Walks the catalog source kind by kind and compares it with the mirror. In a real run every
/// write happens inside one transaction that commits after the walk, so a killed run leaves the
/// database as it was; in a dry run (`diff`) nothing is written at all.
public final class MirrorSync {
    private let store: MirrorStore
    private let source: CatalogSource
    private let onEvent: (SyncEvent) -> Void

    public init(store: MirrorStore, source: CatalogSource, onEvent: @escaping (SyncEvent) -> Void = { _ in }) {
        self.store = store
        self.source = source
        self.onEvent = onEvent
    }

    /// Runs one walk. Throws only when the database fails (the run is then rolled back).
    public func run(kinds: [String], dryRun: Bool, collectChanges: Bool) throws -> SyncReport {
        let startedAt = Timestamp.now()
        let index = try store.loadIndex()
        var writer: SnapshotWriter?
        var differ = SnapshotDiffer(index: index)
        if !dryRun {
            writer = try SnapshotWriter(store: store, command: "sync", source: source.sourceDescription,
                                        kinds: kinds, startedAt: startedAt, index: index)
        }
        var outcomes: [KindOutcome] = []
        var changes: [EntityChange] = []
        var warnings: [String] = []
        func note(_ change: EntityChange?) {
            if collectChanges, let change, change.change != .unchanged { changes.append(change) }
        }

        do {
            for kind in kinds {
                onEvent(.kindStarted(kind))
                var fetched = 0
                var failure: String?
                do {
                    try source.walk(kind: kind) { page in
                        for item in page.items {
                            let entity: SnapshotEntity
                            do {
                                entity = try SnapshotEntity(item: item)
                            } catch {
                                let warning = "\(kind) page \(page.number): skipped an item: \(error)"
                                warnings.append(warning)
                                onEvent(.warning(warning))
                                continue
                            }
                            fetched += 1
                            if let writer {
                                note(try writer.record(entity))
                            } else {
                                note(differ.classify(entity))
                            }
                        }
                        onEvent(.page(kind: kind, number: page.number, entities: page.items.count, totalSoFar: fetched))
                    }
                } catch let error as DatabaseError {
                    throw error
                } catch {
                    failure = "\(error)"
                }
                let outcome = KindOutcome(kind: kind, complete: failure == nil, fetched: fetched, error: failure)
                outcomes.append(outcome)
                if let writer {
                    for deletion in try writer.finishKind(outcome) { note(deletion) }
                } else if outcome.complete {
                    for deletion in differ.deletions(ofKind: kind) { note(deletion) }
                }
                onEvent(.kindFinished(outcome))
            }
        } catch {
            writer?.rollback()
            throw error
        }

        let failed = outcomes.filter { !$0.complete }
        let status: RunStatus = failed.isEmpty ? .succeeded : (failed.count == outcomes.count ? .failed : .partial)
        let error = failed.isEmpty ? nil : failed.map { "\($0.kind): \($0.error ?? "incomplete")" }.joined(separator: "; ")
        let counts = writer?.differ.counts ?? differ.counts
        try writer?.commit(status: status.rawValue, error: error)
        return SyncReport(run: writer?.runID, status: status, dryRun: dryRun, counts: counts, kinds: outcomes,
                          changes: changes, warnings: warnings, error: error, sourceStats: source.stats)
    }
}

@available(*, unavailable)
extension MirrorSync: Sendable {}
