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
    case pushProgress(done: Int)
    case warning(String)
}

/// What a run should do.
public struct SyncOptions: Sendable {
    public var kinds: [String]
    /// `diff`: compute everything, then roll back.
    public var dryRun = false
    /// Port to push to; nil makes the run mirror-only (the plan is still recorded).
    public var port: PortSettings?
    public var allowMassDelete = false

    public init(kinds: [String]) {
        self.kinds = kinds
    }
}

/// The Port half of a run's report.
public struct PortReport: Sendable {
    public var skipped = true
    public var upserted = 0
    public var deleted = 0
    public var failed = 0
    public var unchanged = 0
    public var pending = 0
    public var deletesSkipped = false
    public var deletesSkippedBecause: String?
    public var thresholdExceeded = false
    public var protectedFromDelete = 0
    public var requests = 0
    public var plan = PortPlan()
    public var errors: [String] = []
    public var aborted: String?
}

/// Everything one `sync` or `diff` found and did.
public struct SyncReport: Sendable {
    public var run: Int?
    public var status: RunStatus
    public var dryRun: Bool
    public var counts: ChangeCounts
    public var kinds: [KindOutcome]
    /// Created, updated and deleted entities (unchanged ones are only counted).
    public var changes: [EntityChange]
    public var mapping: MappingSummary
    public var port: PortReport
    public var warnings: [String]
    public var error: String?
    public var sourceStats: SourceStats
}

/// One run: walk the source into the mirror, map what changed into the desired Port state,
/// plan against the ledger, and push. The walk and the mapping share one transaction that commits
/// before anything is pushed, so a killed run leaves the database as it was; a dry run (`diff`)
/// does the same work and rolls it back. Pushes record intent and acknowledgement in the ledger.
public final class SyncEngine {
    private let store: MirrorStore
    private let source: CatalogSource
    private let mapping: LoadedMapping
    private let onEvent: (SyncEvent) -> Void

    public init(store: MirrorStore, source: CatalogSource, mapping: LoadedMapping,
                onEvent: @escaping (SyncEvent) -> Void = { _ in }) {
        self.store = store
        self.source = source
        self.mapping = mapping
        self.onEvent = onEvent
    }

    /// Runs once. Throws only when the database fails (the run is then rolled back).
    public func run(_ options: SyncOptions) throws -> SyncReport {
        let startedAt = Timestamp.now()
        let writer = try SnapshotWriter(store: store, command: options.dryRun ? "diff" : "sync",
                                        source: source.sourceDescription, kinds: options.kinds, startedAt: startedAt,
                                        index: try store.loadIndex())
        var outcomes: [KindOutcome] = []
        var changes: [EntityChange] = []
        var warnings: [String] = []
        let warn: (String) -> Void = { [onEvent] message in
            if warnings.count < 1_000 { warnings.append(message) }
            onEvent(.warning(message))
        }
        let report: SyncReport
        do {
            for kind in options.kinds {
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
                                warn("\(kind) page \(page.number): skipped an item: \(error)")
                                continue
                            }
                            fetched += 1
                            if let change = try writer.record(entity), change.change != .unchanged { changes.append(change) }
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
                changes.append(contentsOf: try writer.finishKind(outcome))
                onEvent(.kindFinished(outcome))
            }
            // A ref that changed twice in one walk is mapped once.
            var seen = Set<String>()
            changes = changes.reversed().filter { seen.insert($0.ref).inserted }.reversed()

            let stage = MappingStage(store: store, mapping: mapping.compiled, mappingHash: mapping.hash, run: writer.runID)
            let summary = try stage.apply(changedRefs: changes.filter { $0.change != .deleted }.map(\.ref),
                                          deletedRefs: changes.filter { $0.change == .deleted }.map(\.ref),
                                          onWarning: warn)
            try store.db.run("UPDATE runs SET mapping_hash = ? WHERE id = ?", [.text(mapping.hash), .int(writer.runID)])

            let incomplete = outcomes.filter { !$0.complete }
            let status: RunStatus = incomplete.isEmpty ? .succeeded : (incomplete.count == outcomes.count ? .failed : .partial)
            let error = incomplete.isEmpty ? nil : incomplete.map { "\($0.kind): \($0.error ?? "incomplete")" }.joined(separator: "; ")
            let ledger = Ledger(store: store)
            let policy = DeletePolicy(threshold: mapping.config.entityDeletionThreshold,
                                      createMissingRelatedEntities: mapping.config.createMissingRelatedEntities,
                                      allowMassDelete: options.allowMassDelete)
            let decision = try policy.decide(try ledger.plannedDeletes(), owned: try ledger.ownedCount(),
                                             incompleteKinds: incomplete.map(\.kind),
                                             selectorErrors: summary.selectorErrors.count,
                                             isRelationTarget: { try ledger.isRelationTarget($0) })
            var port = PortReport()
            port.skipped = options.port == nil || options.dryRun
            port.deletesSkipped = decision.skippedBecause != nil
            port.deletesSkippedBecause = decision.skippedBecause
            port.thresholdExceeded = decision.thresholdExceeded
            port.protectedFromDelete = decision.protected.count
            if options.dryRun {
                port.plan = try PortPlan.describe(ledger: ledger, deletes: decision.allowed)
            }
            port.unchanged = try ledger.unchangedCount()
            port.pending = try ledger.pendingCount()
            if let reason = decision.skippedBecause { warn("no Port deletes this run: \(reason)") }

            var partialReport = SyncReport(run: writer.runID, status: status, dryRun: options.dryRun,
                                           counts: writer.differ.counts, kinds: outcomes, changes: changes,
                                           mapping: summary, port: port, warnings: [], error: error,
                                           sourceStats: source.stats)
            if options.dryRun {
                writer.rollback()
                partialReport.run = nil
                partialReport.warnings = warnings
                return partialReport
            }
            try writer.commit(status: status.rawValue, error: error)

            if let settings = options.port {
                let pusher = PortPusher(store: store, settings: settings, config: mapping.config, run: writer.runID)
                let pushed = try pusher.push(deletes: decision.allowed) { [onEvent] done, _ in onEvent(.pushProgress(done: done)) }
                partialReport.port.upserted = pushed.upserted
                partialReport.port.deleted = pushed.deleted
                partialReport.port.failed = pushed.failed + pushed.rejected
                partialReport.port.requests = pushed.stats.requests + pushed.tokenFetches
                partialReport.port.errors = pushed.errors
                partialReport.port.aborted = pushed.aborted
                partialReport.port.pending = try ledger.pendingCount()
                partialReport.port.unchanged = max(0, try ledger.unchangedCount() - pushed.upserted)
                for message in pushed.errors { warn("Port: \(message)") }
                if let aborted = pushed.aborted { warn("Port push stopped: \(aborted)") }
            }
            try store.db.run("UPDATE runs SET port = ? WHERE id = ?",
                             [.text(CanonicalJSON.string(partialReport.port.json)), .int(writer.runID)])
            partialReport.warnings = warnings
            report = partialReport
        } catch {
            writer.rollback()
            throw error
        }
        return report
    }
}

@available(*, unavailable)
extension SyncEngine: Sendable {}

extension PortReport {
    /// The `port` object of `sync --json` (also stored on the run).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "upserted": .number(Double(upserted)), "deleted": .number(Double(deleted)),
            "failed": .number(Double(failed)), "unchanged": .number(Double(unchanged)),
            "pending": .number(Double(pending)), "skipped": .bool(skipped), "deletesSkipped": .bool(deletesSkipped),
            "requests": .number(Double(requests)),
        ]
        if let deletesSkippedBecause { object["deletesSkippedReason"] = .string(deletesSkippedBecause) }
        if let aborted { object["error"] = .string(aborted) }
        return .object(object)
    }
}
