import Fetch
import Foundation
import Store

/// Where and how to push.
public struct PortSettings: Sendable {
    public var baseURL: String
    public var credentials: PortCredentials
    public var transport: TransportOptions
    public var retry: RetryPolicy
    /// Requests in flight at once.
    public var concurrency: Int
    /// Seconds of retry waits after failures one run may spend on Port, across all requests
    /// (`RetryBudget`); 429 waits don't count.
    public var retryBudget = RetryBudget.defaultMaxWait

    public init(baseURL: String, credentials: PortCredentials, transport: TransportOptions = TransportOptions(),
                retry: RetryPolicy = .port, concurrency: Int = 4) {
        self.baseURL = baseURL
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.concurrency = concurrency
    }

    /// These settings with a fresh retry budget for Port, shared by every request of one run
    /// (drift verification and push alike).
    public func forOneRun() -> PortSettings {
        var settings = self
        settings.retry = retry.sharing(RetryBudget(server: "Port", maxWait: retryBudget))
        return settings
    }
}

/// What a push did.
public struct PushReport: Sendable {
    public var upserted = 0
    public var deleted = 0
    public var rejected = 0
    public var failed = 0
    public var stats = PortStats()
    /// Entities Port did not take, rejected or failed alike: what run reports and
    /// `verify --json` call "failed" (the one place that sum is made).
    public var notTaken: Int { failed + rejected }
    public var tokenFetches = 0
    /// Port's reasons for rejections and failures, one group per distinct answer.
    public var problems = ProblemTally()
    /// Why the push stopped early (Port unreachable, credentials refused), if it did: the rest
    /// stays pending for the next run.
    public var stop: CircuitTrip?

    /// One line per distinct rejection or failure.
    public var errors: [String] { problems.lines }
    /// `stop`, as text (with the hint for refused credentials).
    public var aborted: String? { stop.map { "\(PortError.stopped($0))" } }
}

/// Sends the plan to Port: upserts in bulk batches of ≤20 entities and ≤1 MiB per blueprint,
/// deletes in batches of ≤100, with bounded concurrency. The ledger records intent before each
/// chunk is sent and Port's answers after it.
final class PortPusher {
    static let batchEntities = 20
    static let batchBytes = 1 << 20
    static let deleteBatch = 100
    static let chunk = 400

    private let store: MirrorStore
    private let settings: PortSettings
    private let config: PortAppConfig
    private let auth: PortAuth
    private let run: Int
    /// The run's one retry allowance for Port, shared by every connection: the circuit breaker.
    private let budget: RetryBudget

    init(store: MirrorStore, settings: PortSettings, config: PortAppConfig, run: Int) {
        self.store = store
        self.settings = settings
        self.config = config
        self.run = run
        auth = PortAuth(baseURL: settings.baseURL, credentials: settings.credentials)
        budget = settings.retry.budget ?? RetryBudget(server: "Port", maxWait: settings.retryBudget)
    }

    private func makePool() -> WorkerPool<PortClient, Batch, BatchResult> {
        WorkerPool(count: settings.concurrency) { [settings, auth, budget] in
            try PortClient(baseURL: settings.baseURL, auth: auth, transport: settings.transport, retry: settings.retry.sharing(budget))
        }
    }

    struct Batch {
        enum Work {
            case upsert([PlannedUpsert])
            case delete([PlannedDelete])
        }
        let blueprint: String
        let work: Work
    }

    struct BatchResult {
        var outcomes: [EntityPushResult]
        var stats = PortStats()
        /// Not sent because Port was given up on this run: said once, as the push's stop.
        var stopped = false
    }

    /// Pushes the plan: `upserts` says how many the ledger has pending (none: not even the
    /// planning query runs, so a no-change sync costs Port and the database nothing).
    func push(upserts pending: Int, deletes: [PlannedDelete], onProgress: (Int, Int) -> Void = { _, _ in }) throws -> PushReport {
        let ledger = Ledger(store: store)
        var report = PushReport()
        let pool = makePool()
        var after: PortKey?
        while pending > 0 && report.stop == nil {
            let upserts = try ledger.plannedUpserts(after: after, limit: PortPusher.chunk)
            guard let last = upserts.last else { break }
            after = last.key
            try store.inTransaction { try ledger.markSending(upserts, run: run) }
            try send(PortPusher.upsertBatches(upserts), pool: pool, ledger: ledger, report: &report)
            onProgress(report.upserted + report.notTaken, 0)
        }
        if report.stop == nil && !deletes.isEmpty {
            var batches: [Batch] = []
            for (blueprint, group) in Dictionary(grouping: deletes, by: \.key.blueprint).sorted(by: { $0.key < $1.key }) {
                for start in stride(from: 0, to: group.count, by: PortPusher.deleteBatch) {
                    batches.append(Batch(blueprint: blueprint, work: .delete(Array(group[start..<min(start + PortPusher.deleteBatch, group.count)]))))
                }
            }
            try store.inTransaction { try ledger.markDeleting(deletes, run: run) }
            try send(batches, pool: pool, ledger: ledger, report: &report)
        }
        report.tokenFetches = auth.fetches
        return report
    }

    /// Sends batches on the pool, then records every answer in the ledger in one transaction.
    private func send(_ batches: [Batch], pool: WorkerPool<PortClient, Batch, BatchResult>, ledger: Ledger,
                      report: inout PushReport) throws {
        let results = pool.run(batches, body: { [config] client, batch in
            PortPusher.send(batch, client: client, config: config)
        }, failure: { [budget] batch, error in
            // No connection could even be made: as good as unreachable.
            budget.open(.unreachable, detail: "\(error)")
            return BatchResult(outcomes: Array(repeating: .failed(.local(error)), count: batch.size))
        })
        try store.inTransaction {
            for (batch, result) in zip(batches, results) {
                switch batch.work {
                case .upsert(let items):
                    for (item, outcome) in zip(items, result.outcomes) {
                        try ledger.recordUpsert(item, outcome: outcome.ledgerOutcome, run: run)
                        report.count(outcome, key: item.key, deleted: false, quiet: result.stopped)
                    }
                case .delete(let items):
                    for (item, outcome) in zip(items, result.outcomes) {
                        try ledger.recordDelete(item, outcome: outcome.ledgerOutcome, run: run)
                        report.count(outcome, key: item.key, deleted: true, quiet: result.stopped)
                    }
                }
                report.stats = report.stats + result.stats
            }
        }
        report.stop = budget.trip
    }

    /// Groups upserts by blueprint into batches within Port's limits.
    static func upsertBatches(_ upserts: [PlannedUpsert]) -> [Batch] {
        var batches: [Batch] = []
        var current: [PlannedUpsert] = []
        var bytes = 0
        func flush() {
            if let first = current.first { batches.append(Batch(blueprint: first.key.blueprint, work: .upsert(current))) }
            current = []
            bytes = 0
        }
        for upsert in upserts {
            let size = upsert.body.bytes.count + 1
            if let first = current.first,
               first.key.blueprint != upsert.key.blueprint || current.count == batchEntities || bytes + size > batchBytes - 64 {
                flush()
            }
            current.append(upsert)
            bytes += size
        }
        flush()
        return batches
    }

    /// Sends one batch on a worker's client and turns every answer into per-entity outcomes.
    static func send(_ batch: Batch, client: PortClient, config: PortAppConfig) -> BatchResult {
        let before = client.stats
        var result: BatchResult
        switch batch.work {
        case .upsert(let items):
            result = sendUpserts(items, blueprint: batch.blueprint, client: client, config: config)
        case .delete(let items):
            do {
                let deleted = Set(try client.deleteBulk(blueprint: batch.blueprint, identifiers: items.map(\.key.identifier),
                                                        deleteDependents: config.deleteDependentEntities))
                _ = deleted  // Absent identifiers were already gone: either way Port no longer has them.
                result = BatchResult(outcomes: Array(repeating: .acked, count: items.count))
            } catch {
                result = failedBatch(error, count: items.count)
            }
        }
        let after = client.stats
        result.stats = PortStats(requests: after.requests - before.requests, writes: after.writes - before.writes,
                                 retries: after.retries - before.retries)
        return result
    }

    private static func sendUpserts(_ items: [PlannedUpsert], blueprint: String, client: PortClient, config: PortAppConfig) -> BatchResult {
        if let screened = PortPreflight.screen(items, send: { sendUpserts($0, blueprint: blueprint, client: client, config: config) }) { return screened }
        let entities = items.map { (identifier: $0.key.identifier, body: $0.body.bytes) }
        do {
            let results = try client.upsertBulk(blueprint: blueprint, entities: entities, merge: config.enableMergeEntity,
                                                createMissingRelated: config.createMissingRelatedEntities)
            return BatchResult(outcomes: results.map(outcome))
        } catch PortError.http(413, _, _, _) {
            // Too large as a batch: Ocean's fallback, one entity at a time.
            var outcomes: [EntityPushResult] = []
            for entity in entities {
                do {
                    outcomes.append(outcome(try client.upsertOne(blueprint: blueprint, entity: entity.body, merge: config.enableMergeEntity,
                                                                 createMissingRelated: config.createMissingRelatedEntities)))
                } catch {
                    outcomes.append(contentsOf: failedBatch(error, count: 1).outcomes)
                }
            }
            return BatchResult(outcomes: outcomes)
        } catch PortError.http(let status, let error, let message, _) where status == 422 || status == 404 {
            // The whole request was refused for its content (e.g. an identifier Port rejects).
            return BatchResult(outcomes: Array(repeating: .rejected(.port(status: status, error: error, message: message)), count: items.count))
        } catch {
            return failedBatch(error, count: items.count)
        }
    }

    private static func outcome(_ result: PortItemResult) -> EntityPushResult {
        switch result {
        case .acked: return .acked
        case .rejected(let refusal): return .rejected(refusal)
        }
    }

    /// A batch that failed as a whole (refused credentials have tripped the budget: the push stops).
    private static func failedBatch(_ error: Error, count: Int) -> BatchResult {
        let failure = PushFailure(error)
        return BatchResult(outcomes: Array(repeating: .failed(failure), count: count), stopped: failure.stopsRun)
    }
}

extension PortPusher.Batch {
    var size: Int {
        switch work {
        case .upsert(let items): return items.count
        case .delete(let items): return items.count
        }
    }
}

extension PushReport {
    /// Counts one entity's outcome; `quiet` leaves it out of `problems` (the stop says it).
    mutating func count(_ outcome: EntityPushResult, key: PortKey, deleted: Bool, quiet: Bool = false) {
        switch outcome {
        case .acked:
            if deleted { self.deleted += 1 } else { upserted += 1 }
        case .rejected(let refusal):
            rejected += 1
            problems.add("port", cause: "rejected: \(refusal.status) \(refusal)", example: TerminalText.shortened(key.description))
        case .failed(let failure):
            failed += 1
            if quiet { return }
            problems.add("port", cause: "failed: \(failure)", example: TerminalText.shortened(key.description))
        }
    }
}
