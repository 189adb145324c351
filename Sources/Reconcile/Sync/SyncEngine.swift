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
    public var fieldChanges: [String: [FieldChange]] = [:]
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

    /// Runs once. Throws only when the database fails (the run is then rolled back).
    public func run(_ options: SyncOptions) throws -> SyncReport {
        let startedAt = Timestamp.now()
        let index = try store.loadIndex()
        let writer = try SnapshotWriter(store: store, command: options.dryRun ? "diff" : "sync",
                                        source: source.description, kinds: options.kinds, startedAt: startedAt,
                                        index: index)
        if !options.dryRun { onEvent(.runStarted(writer.runID)) }
        var outcomes: [KindOutcome] = []
        var warnings: [String] = []
        let warn: (String) -> Void = { [onEvent] message in
            if warnings.count < 1_000 { warnings.append(message) }
            onEvent(.warning(message))
        }
        let fail: (String) -> Void = { [onEvent] message in
            if warnings.count < 1_000 { warnings.append(message) }
            onEvent(.error(message))
        }
        let detail: (String) -> Void = { [onEvent] message in onEvent(.detail(message)) }
        var problems = ProblemTally()
        // Changed entities are mapped on the walk, from their one parse, unless the whole mirror
        // must be re-mapped from the database (a new mapping).
        let stage = MappingStage(store: store, mapping: mapping, run: writer.runID, workers: options.mappingWorkers)
        let mapper: WalkMapper?
        do {
            mapper = try stage.begin(mirrorIsEmpty: index.count == 0)
                ? WalkMapper(config: mapping.config, loaded: mapping.compiled, index: index, limit: options.mappingWorkers) : nil
        } catch {
            writer.rollback()
            throw error
        }
        // Refs the run created or updated that the walk did not map (the stage maps them after).
        var unmapped = Set<String>()
        let walker = CatalogWalker(makeSource: source.make, index: index, concurrency: options.walkConcurrency,
                                   maxEntityBytes: options.maxEntityBytes, mapper: mapper)
        var seconds: [String: Double] = [:]
        var clock = Date()
        func lap(_ stage: String) {
            let now = Date()
            seconds[stage, default: 0] += now.timeIntervalSince(clock)
            clock = now
        }
        var descriptors = DescriptorReport()
        let report: SyncReport
        do {
            try walker.run(try plans(options, index: index)) { message in
                switch message {
                case .entities(_, _, let walked):
                    // Stored and mapped page by page: the mapped sources of a page are one batch.
                    var fresh: [MappedSource] = []
                    var replacing: [MappedSource] = []
                    for item in walked {
                        guard let change = try writer.record(item.entity), mapper != nil else { continue }
                        switch change.change {
                        case .created, .updated:
                            if let mapped = item.mapped {
                                if change.replacesEarlierCopy { replacing.append(mapped) } else { fresh.append(mapped) }
                                unmapped.remove(change.ref)
                            } else {
                                unmapped.insert(change.ref)
                            }
                        case .unchanged where change.replacesEarlierCopy:
                            unmapped.insert(change.ref)  // reverts an earlier copy of this walk: map the stored body
                        default:
                            break
                        }
                    }
                    try stage.save(walked: fresh, fresh: true, onDetail: detail)
                    try stage.save(walked: replacing, fresh: false, onDetail: detail)
                case .unchanged(_, let positions):
                    writer.recordUnchanged(positions)
                case .warning(let text):
                    warn(text)
                case .descriptors(let report):
                    guard descriptors.isEmpty else { break }
                    descriptors = report
                    for line in report.skipped { onEvent(.detail("skipped \(line)")) }
                    for line in report.notices { onEvent(.notice(line)) }
                    for problem in report.problems { warn("descriptor \(problem)") }
                case .skipped(let kind, let reason, let place):
                    detail("\(place): skipped an item: \(reason)")
                    problems.add("backstage", cause: "\(kind): skipped an item: \(reason)", example: place, unit: "items")
                case .event(let event):
                    onEvent(event)
                case .finished(let outcome):
                    outcomes.append(outcome)
                    // Entities of a file that could not be read can't be told from deleted ones.
                    try writer.finishKind(outcome, withholdingDeletes: !descriptors.problems.isEmpty)
                    if outcome.complete, outcome.fetched == 0 {
                        onEvent(.notice("kind \(outcome.kind): the source has no entities of this kind"))
                    }
                    onEvent(.kindFinished(outcome))
                }
            }
            // Report kinds in the order asked, whatever order their walks finished in.
            outcomes.sort { (options.kinds.firstIndex(of: $0.kind) ?? 0) < (options.kinds.firstIndex(of: $1.kind) ?? 0) }
            lap("walk")
            // The walk mapped what it fetched; the rest is read back from the run's change events.
            let summary = try stage.finish(unmapped: unmapped, onDetail: detail)
            try store.recordMappingHash(mapping.hash, run: writer.runID)
            if mapping.compiled.hasCompiled { try store.recordCompiledMapping(mapping.compiled.programKey, run: writer.runID) }
            try store.recordMappingFailures(summary.failures, run: writer.runID)
            lap("map")

            let incomplete = outcomes.filter { !$0.complete }
            var errors = incomplete.map { "\($0.kind): \($0.error ?? "incomplete")" }
            if let first = descriptors.problems.first {
                let count = descriptors.problems.count
                errors.append("\(count) descriptor problem\(count == 1 ? "" : "s"), e.g. \(first)")
            }
            var error = errors.isEmpty ? nil : errors.joined(separator: "; ")
            let ledger = Ledger(store: store)
            let policy = DeletePolicy(threshold: mapping.config.entityDeletionThreshold,
                                      createMissingRelatedEntities: mapping.config.createMissingRelatedEntities,
                                      allowMassDelete: options.allowMassDelete)
            let decision = try policy.decide(try ledger.plannedDeletes(), owned: try ledger.ownedCount(),
                                             incompleteKinds: incomplete.map(\.kind),
                                             selectorErrors: summary.selectorErrors,
                                             descriptorProblems: descriptors.problems.count,
                                             isRelationTarget: { try ledger.isRelationTarget($0) })
            var facts = RunFacts()
            facts.kinds = outcomes.count
            facts.incompleteKinds = incomplete.count
            facts.sourceFailures = Set(incomplete.compactMap(\.failure))
            facts.mappingErrors = summary.fieldErrors
            facts.selectorErrors = summary.selectorErrors
            facts.descriptorProblems = descriptors.problems.count
            facts.deletesWithheld = decision.skippedBecause != nil
            var port = PortReport()
            port.skipped = options.port == nil || options.dryRun
            port.deletesSkipped = decision.skippedBecause != nil
            port.deletesSkippedBecause = decision.skippedBecause
            port.thresholdExceeded = decision.thresholdExceeded
            port.protectedFromDelete = decision.protected.count
            if options.dryRun {
                port.plan = try PortPlan.describe(ledger: ledger, deletes: decision.allowed)
            }
            // One join over desired ⋈ ledger; the rest of the desired state is in sync with Port.
            port.pending = try ledger.pendingCount()
            port.unchanged = try DesiredState(store: store).count() - port.pending

            var outcome = RunOutcome(facts)
            var partialReport = SyncReport(run: writer.runID, status: outcome.status, dryRun: options.dryRun,
                                           counts: writer.differ.counts, kinds: outcomes,
                                           changes: options.dryRun ? try writer.changes() : [],
                                           mapping: summary, port: port, warnings: [], error: error,
                                           descriptorProblems: descriptors.problems, sourceStats: walker.sourceStats)
            lap("plan")
            // Said once each, before the push (which may take a while): the walk and the mapping.
            SyncEngine.kindLines(incomplete).forEach(fail)
            SyncEngine.problemLines(mapping: summary, walk: problems, deletesWithheld: decision.skippedBecause).forEach(warn)
            if options.dryRun {
                // Read before the rollback takes this walk's new bodies away.
                partialReport.fieldChanges = try store.fieldChanges(of: partialReport.changes)
                writer.rollback()
                partialReport.run = nil
                partialReport.reasons = outcome.reasons
                partialReport.facts = facts
                partialReport.warnings = warnings
                partialReport.seconds = seconds
                return partialReport
            }
            // Committed with what is known now; the push's part is added after it.
            try writer.commit(outcome, error: error)
            lap("commit")

            if let settings = options.port?.forOneRun() {
                if options.verify {
                    partialReport.verify = try DriftVerifier(store: store, settings: settings).detect(run: writer.runID)
                    partialReport.port.pending = try ledger.pendingCount()
                }
                let pusher = PortPusher(store: store, settings: settings, config: mapping.config, run: writer.runID)
                onEvent(.pushStarted(total: partialReport.port.pending + decision.allowed.count))
                let pushed = try pusher.push(upserts: partialReport.port.pending, deletes: decision.allowed) { [onEvent] done, _ in
                    onEvent(.pushProgress(done: done))
                }
                partialReport.port.upserted = pushed.upserted
                partialReport.port.deleted = pushed.deleted
                partialReport.port.failed = pushed.failed + pushed.rejected
                partialReport.port.rejected = pushed.rejected
                partialReport.port.requests = pushed.stats.requests + pushed.tokenFetches
                partialReport.port.errors = pushed.errors
                partialReport.port.aborted = pushed.aborted
                if pushed.upserted + pushed.rejected + pushed.failed > 0 { partialReport.port.pending = try ledger.pendingCount() }
                facts.push = PushFacts(failed: pushed.failed, rejected: pushed.rejected, stop: pushed.stop.map(PushFacts.Stop.init))
                for line in pushed.errors { warn(line) }
                if let aborted = pushed.aborted {
                    fail("port: push stopped, \(ProblemTally.count(partialReport.port.pending)) entities left pending for the next run: \(aborted)")
                    error = [error, "Port push stopped: \(aborted)"].compactMap { $0 }.joined(separator: "; ")
                }
                outcome = RunOutcome(facts)
                try store.recordOutcome(run: writer.runID, outcome, error: error)
            }
            try store.recordPortReport(partialReport.port.json, run: writer.runID)
            lap("push")
            partialReport.status = outcome.status
            partialReport.reasons = outcome.reasons
            partialReport.facts = facts
            partialReport.error = error
            partialReport.warnings = warnings
            partialReport.seconds = seconds
            report = partialReport
        } catch {
            writer.rollback()
            throw error
        }
        return report
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
