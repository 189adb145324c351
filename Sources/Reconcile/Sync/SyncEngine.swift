import Fetch
import Foundation
import Store

/// Something worth telling a person while a run goes on.
public enum SyncEvent: Sendable {
    case kindStarted(String)
    case page(kind: String, number: Int, entities: Int, totalSoFar: Int)
    case kindFinished(KindOutcome)
    case pushProgress(done: Int)
    /// A problem worth a line of its own: said once per cause, with a count and an example.
    case warning(String)
    /// Worth telling once, not a problem (a URL Location target a `file:` source does not fetch).
    case notice(String)
    /// Part of the run's job could not be done (a kind not walked, the push stopped): said once.
    case error(String)
    /// Detail for `--log-level debug`: one entity's problem (the run also counts it under its
    /// cause), a document that is not an entity.
    case detail(String)
    /// The run's id (not for `diff`, whose run is rolled back), for log lines.
    case runStarted(Int)
    /// Port entities the push is about to send (upserts and deletes), for an ETA.
    case pushStarted(total: Int)
}

/// How to open the catalog source: once per walking thread, each with its own connection.
public struct SourceFactory: Sendable {
    /// What runs record as their source: a URL or `file:` path, never a credential.
    public let description: String
    /// Whether the source can do etag-first scans.
    public let incremental: Bool
    public let make: @Sendable () throws -> CatalogSource

    public init(description: String, incremental: Bool, make: @escaping @Sendable () throws -> CatalogSource) {
        self.description = description
        self.incremental = incremental
        self.make = make
    }
}

/// What a run should do.
public struct SyncOptions: Sendable {
    public var kinds: [String]
    /// Walk full bodies even where an etag-first scan would do.
    public var fullWalk = false
    /// A kind is walked with full bodies when its last full walk is older than this (seconds).
    public var fullWalkEvery: Double = 24 * 3600
    /// Backstage connections walking kinds at once.
    public var walkConcurrency = 4
    /// `diff`: compute everything, then roll back.
    public var dryRun = false
    /// Port to push to; nil makes the run mirror-only (the plan is still recorded).
    public var port: PortSettings?
    public var allowMassDelete = false
    /// Compare Port with the ledger before pushing, so entities edited or deleted in Port by hand are pushed again.
    public var verify = false
    /// Threads mapping entities (one libjq state each).
    public var mappingWorkers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// `--max-entity-size`: a larger entity is refused (a warning naming it), never stored.
    public var maxEntityBytes = SnapshotEntity.defaultMaxBytes

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
    /// Of `failed`, the entities Port refused (4xx) rather than could not be reached for.
    public var rejected = 0
    public var unchanged = 0
    public var pending = 0
    public var deletesSkipped = false
    public var deletesSkippedBecause: String?
    public var thresholdExceeded = false
    public var protectedFromDelete = 0
    public var requests = 0
    public var plan = PortPlan()
    /// One line per distinct rejection or failure.
    public var errors: [String] = []
    public var aborted: String?
}

/// Everything one `sync` or `diff` found and did.
public struct SyncReport: Sendable {
    public var run: Int?
    public var status: RunStatus
    /// Why `status` is not `succeeded` (empty when it is).
    public var reasons: [RunReason] = []
    /// What `status` and `reasons` were judged from (`RunOutcome`).
    public var facts = RunFacts()
    public var dryRun: Bool
    public var counts: ChangeCounts
    public var kinds: [KindOutcome]
    /// Created, updated and deleted entities (unchanged ones are only counted).
    public var changes: [EntityChange]
    /// What changed in each of `changes`, by ref (dry runs only: `diff` shows it).
    public var fieldChanges: [EntityRef: [FieldChange]] = [:]
    public var mapping: MappingSummary
    public var port: PortReport
    /// What the run said on stderr: one line per distinct problem.
    public var warnings: [String]
    public var error: String?
    /// Descriptor files and documents the source could not read (a `file:` source), all of them.
    public var descriptorProblems: [DescriptorProblem] = []
    public var sourceStats: SourceStats
    /// Seconds spent per stage (walk, map, plan, commit, push): where a run's time went.
    public var seconds: [String: Double] = [:]
    /// What drift verification found, when the run verified (`SyncOptions.verify`).
    public var verify: DriftReport? = nil
}

/// One run: walk the source into the mirror, map what changed into the desired Port state,
/// plan against the ledger, and push. The walk and the mapping share one transaction that commits
/// before anything is pushed, so a killed run leaves the database as it was; a dry run (`diff`)
/// does the same work and rolls it back. Pushes record intent and acknowledgement in the ledger.
public final class SyncEngine {
    private let store: MirrorStore
    private let source: SourceFactory
    private let mapping: LoadedMapping
    private let onEvent: (SyncEvent) -> Void

    public init(store: MirrorStore, source: SourceFactory, mapping: LoadedMapping,
                onEvent: @escaping (SyncEvent) -> Void = { _ in }) {
        self.store = store
        self.source = source
        self.mapping = mapping
        self.onEvent = onEvent
    }

    /// Full walks for new kinds, stale kinds and when asked; etag-first scans otherwise.
    func plans(_ options: SyncOptions, index: MirrorIndex) throws -> [CatalogWalker.Plan] {
        let counts = index.countsByKind()
        return try options.kinds.map { kind in
            guard source.incremental, !options.fullWalk, (counts[kind.lowercased()] ?? 0) > 0,
                  let last = try store.lastFullWalk(ofKind: kind), Date().timeIntervalSince(last) < options.fullWalkEvery
            else { return CatalogWalker.Plan(kind: kind, mode: .full) }
            return CatalogWalker.Plan(kind: kind, mode: .scan)
        }
    }

    /// Runs once: walk → record → map → plan → commit → push → report. Throws only when the
    /// database fails (the run is then rolled back).
    public func run(_ options: SyncOptions) throws -> SyncReport {
        let startedAt = Timestamp.now()
        let index = try store.loadIndex()
        let writer = try SnapshotWriter(store: store, command: options.dryRun ? "diff" : "sync",
                                        source: source.description, kinds: options.kinds, startedAt: startedAt,
                                        index: index)
        if !options.dryRun { onEvent(.runStarted(writer.runID)) }
        let messages = RunMessages(onEvent: onEvent)
        // Changed entities are mapped on the walk, from their one parse, unless the whole mirror
        // must be re-mapped from the database (a new mapping).
        let stage = MappingStage(store: store, mapping: mapping, run: writer.runID, workers: options.mappingWorkers)
        let mapper: WalkMapper?
        do {
            mapper = try stage.begin(mirrorIsEmpty: index.count == 0)
                ? WalkMapper(loaded: mapping.compiled, index: index, limit: options.mappingWorkers) : nil
        } catch {
            writer.rollback()
            throw error
        }
        let walker = CatalogWalker(makeSource: source.make, index: index, concurrency: options.walkConcurrency,
                                   maxEntityBytes: options.maxEntityBytes, mapper: mapper)
        var clock = StageClock()
        do {
            let walk = try WalkStage(writer: writer, mapping: stage, messages: messages)
                .run(walker, plans: try plans(options, index: index), kinds: options.kinds)
            try writer.finishWalk()
            clock.lap("walk")
            let summary = try map(stage, unmapped: walk.unmapped, run: writer.runID, messages: messages)
            clock.lap("map")

            let ledger = Ledger(store: store)
            let plan = try RunPlan(ledger: ledger, desired: DesiredState(store: store),
                                   policy: DeletePolicy(threshold: mapping.config.entityDeletionThreshold,
                                                        createMissingRelatedEntities: mapping.config.createMissingRelatedEntities,
                                                        allowMassDelete: options.allowMassDelete),
                                   walk: walk, mapping: summary, pushes: options.port != nil && !options.dryRun,
                                   describe: options.dryRun)
            var facts = RunFacts(walk: walk, mapping: summary, plan: plan)
            var error = walk.error
            var outcome = RunOutcome(facts)
            var report = SyncReport(run: writer.runID, status: outcome.status, dryRun: options.dryRun,
                                    counts: writer.differ.counts, kinds: walk.outcomes,
                                    changes: options.dryRun ? try writer.changes() : [],
                                    mapping: summary, port: plan.port, warnings: [], error: error,
                                    descriptorProblems: walk.descriptors.problems, sourceStats: walker.sourceStats)
            clock.lap("plan")
            // Said once each, before the push (which may take a while): the walk and the mapping.
            SyncEngine.kindLines(walk.incomplete).forEach(messages.fail)
            SyncEngine.problemLines(mapping: summary, walk: walk.problems, deletesWithheld: plan.deletes.skippedBecause)
                .forEach(messages.warn)
            if options.dryRun {
                // Read before the rollback takes this walk's new bodies away.
                report.fieldChanges = try store.fieldChanges(of: report.changes)
                writer.rollback()
                report.run = nil
                report.conclude(outcome, facts: facts, error: error, warnings: messages.said, seconds: clock.seconds)
                return report
            }
            // Committed with what is known now; the push's part is added after it.
            try writer.commit(outcome, error: error)
            clock.lap("commit")
            // The commit left its checkpoint to this, which runs while the push waits on Port.
            let checkpoint = store.checkpointInBackground()
            defer { checkpoint.wait() }

            if let settings = options.port?.forOneRun() {
                let push = try PushStage(store: store, ledger: ledger, settings: settings, config: mapping.config,
                                         run: writer.runID, messages: messages)
                    .push(plan, verify: options.verify)
                report.verify = push.drift
                report.port.record(push)
                facts.push = push.facts
                if let aborted = push.pushed.aborted {
                    error = [error, "Port push stopped: \(aborted)"].compactMap { $0 }.joined(separator: "; ")
                }
                outcome = RunOutcome(facts)
                try store.recordOutcome(run: writer.runID, outcome, error: error)
            }
            try store.recordPortReport(report.port.json, run: writer.runID)
            clock.lap("push")
            if let failure = checkpoint.wait() {
                messages.warn("checkpoint of the write-ahead log failed, which loses nothing (the log keeps every commit and the next run checkpoints it): \(failure)")
            }
            clock.lap("checkpoint")
            report.conclude(outcome, facts: facts, error: error, warnings: messages.said, seconds: clock.seconds)
            return report
        } catch {
            writer.rollback()
            throw error
        }
    }

    /// Maps what the walk did not (see `MappingStage`) and records the mapping the run used and
    /// how it failed.
    private func map(_ stage: MappingStage, unmapped: Set<EntityRef>, run: Int, messages: RunMessages) throws -> MappingSummary {
        // The walk mapped what it fetched; the rest is read back from the run's change events.
        let summary = try stage.finish(unmapped: unmapped, onDetail: messages.detail)
        try store.recordMappingHash(mapping.hash, run: run)
        if mapping.compiled.hasCompiled { try store.recordCompiledMapping(mapping.compiled.programKey, run: run) }
        try store.recordMappingFailures(summary.failures, run: run)
        return summary
    }

    /// Incomplete kinds, one line per cause (what stopped them), naming the kinds.
    static func kindLines(_ incomplete: [KindOutcome]) -> [String] {
        var lines: [String] = []
        var groups: [(key: String, kinds: [KindOutcome])] = []
        for outcome in incomplete {
            let key = outcome.failure?.rawValue ?? outcome.error ?? "incomplete"
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].kinds.append(outcome)
            } else {
                groups.append((key, [outcome]))
            }
        }
        for group in groups {
            let names = group.kinds.map(\.kind)
            var text = group.kinds.first?.error ?? "incomplete"
            if let hint = group.kinds.first?.failure?.hint, !text.contains(hint) { text += "; \(hint)" }
            lines.append(names.count == 1
                ? "backstage: kind \(names[0]) incomplete, no deletes for it: \(text)"
                : "backstage: \(names.count) kinds incomplete (\(names.joined(separator: ", "))), no deletes for them: \(text)")
        }
        return lines
    }

    /// The run's other problems before the push, one line per cause: skipped items, failed mapping
    /// expressions, dropped entities, withheld deletes.
    static func problemLines(mapping: MappingSummary, walk: ProblemTally, deletesWithheld: String?) -> [String] {
        var lines = walk.lines
        lines += mapping.failures.map(\.line)
        lines += mapping.notices.lines
        if let deletesWithheld { lines.append("port: no deletes this run: \(deletesWithheld)") }
        return lines
    }
}

extension MappingFailure {
    /// `mapping: component properties.type (resources[0]): 1,500 entities: jq error "…", e.g. component:default/x (sent as null)`.
    public var line: String {
        let place = resource < 0 ? "the mapping" : "\(kind) \(field) (resources[\(resource)])"
        let consequence = isSelector ? "kept their previous Port entities" : "sent as null"
        return "mapping: \(place): \(ProblemTally.count(count)) \(count == 1 ? "entity" : "entities"): jq error \"\(message)\" in `\(expression)`, e.g. \(example) (\(consequence))"
    }

    /// The `mapping.fields[]` item of `sync --json` and `diff --json`.
    public var json: JSONValue {
        ["kind": .string(kind), "resource": .number(Double(resource)), "field": .string(field), "expression": .string(expression),
         "count": .number(Double(count)), "example": .string(example), "message": .string(message)]
    }
}

extension PushFacts.Stop {
    init(_ trip: CircuitTrip) {
        switch trip.cause {
        case .unreachable: self = .unreachable
        case .failing: self = .failing
        case .credentialsRefused: self = .credentialsRefused
        }
    }
}

@available(*, unavailable)
extension SyncEngine: Sendable {}

/// Seconds spent per stage of a run, each lap measured from the end of the one before.
struct StageClock {
    private(set) var seconds: [String: Double] = [:]
    private var last = Date()

    mutating func lap(_ stage: String) {
        let now = Date()
        seconds[stage, default: 0] += now.timeIntervalSince(last)
        last = now
    }
}

extension SyncReport {
    /// Judges the run: its status and reasons from `facts`, and what it said.
    mutating func conclude(_ outcome: RunOutcome, facts: RunFacts, error: String?, warnings: [String],
                           seconds: [String: Double]) {
        status = outcome.status
        reasons = outcome.reasons
        self.facts = facts
        self.error = error
        self.warnings = warnings
        self.seconds = seconds
    }
}

extension PortReport {
    /// The `port` object of `sync --json` (also stored on the run).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "upserted": .number(Double(upserted)), "deleted": .number(Double(deleted)),
            "failed": .number(Double(failed)), "rejected": .number(Double(rejected)), "unchanged": .number(Double(unchanged)),
            "pending": .number(Double(pending)), "skipped": .bool(skipped), "deletesSkipped": .bool(deletesSkipped),
            "requests": .number(Double(requests)),
        ]
        if let deletesSkippedBecause { object["deletesSkippedReason"] = .string(deletesSkippedBecause) }
        if let aborted { object["error"] = .string(aborted) }
        return .object(object)
    }
}
