import Store

/// The push: optionally verifies Port against the ledger, then sends the plan's upserts and
/// allowed deletes through `PortPusher`, saying its problems once.
struct PushStage {
    /// What the push did.
    struct Result {
        /// What drift verification found, when the run verified.
        var drift: DriftReport?
        var pushed: PushReport
        /// Upserts still pending after the push (they go with the next run).
        var pending: Int

        /// The push's part of what the run's status is judged from.
        var facts: PushFacts {
            PushFacts(failed: pushed.failed, rejected: pushed.rejected, stop: pushed.stop.map(PushFacts.Stop.init))
        }
    }

    let store: MirrorStore
    let ledger: Ledger
    let settings: PortSettings
    let config: PortAppConfig
    let run: Int
    let messages: RunMessages

    func push(_ plan: RunPlan, verify: Bool) throws -> Result {
        var pending = plan.pendingUpserts
        var drift: DriftReport?
        if verify {
            drift = try DriftVerifier(store: store, settings: settings).detect(run: run)
            pending = try ledger.pendingCount()
        }
        let pusher = PortPusher(store: store, settings: settings, config: config, run: run)
        messages.send(.pushStarted(total: pending + plan.allowedDeletes.count))
        let pushed = try pusher.push(upserts: pending, deletes: plan.allowedDeletes) { [messages] done, _ in
            messages.send(.pushProgress(done: done))
        }
        if pushed.upserted + pushed.notTaken > 0 { pending = try ledger.pendingCount() }
        for line in pushed.errors { messages.warn(line) }
        if let aborted = pushed.aborted {
            messages.fail("port: push stopped, \(ProblemTally.count(pending)) entities left pending for the next run: \(aborted)")
        }
        return Result(drift: drift, pushed: pushed, pending: pending)
    }
}

extension PortReport {
    /// Adds what the push did to the planned report.
    mutating func record(_ push: PushStage.Result) {
        upserted = push.pushed.upserted
        deleted = push.pushed.deleted
        failed = push.pushed.notTaken
        rejected = push.pushed.rejected
        requests = push.pushed.stats.requests + push.pushed.tokenFetches
        errors = push.pushed.errors
        aborted = push.pushed.aborted
        pending = push.pending
    }
}
