import Store

/// A run's one plan against Port: the desired entities not yet in sync with it (the upserts), the
/// deletes the `DeletePolicy` allows, and why it withheld or protected the rest. Made after the
/// walk and the mapping, inside the run's transaction.
struct RunPlan {
    /// What the policy decided about the ledger's planned deletes.
    let deletes: DeletePolicy.Decision
    /// The Port half of the run's report as planned, before any push.
    let port: PortReport

    /// Desired entities Port does not have as desired (one join over desired ⋈ ledger).
    var pendingUpserts: Int { port.pending }
    /// The deletes this run may send.
    var allowedDeletes: [PlannedDelete] { deletes.allowed }

    /// - Parameters:
    ///   - pushes: whether the run pushes (not a dry run, and Port is configured).
    ///   - describe: whether to spell the plan out entity by entity (`diff`).
    init(ledger: Ledger, desired: DesiredState, policy: DeletePolicy, walk: WalkStage.Result, mapping: MappingSummary,
         pushes: Bool, describe: Bool) throws {
        deletes = try policy.decide(try ledger.plannedDeletes(), owned: try ledger.ownedCount(),
                                    incompleteKinds: walk.incomplete.map(\.kind),
                                    selectorErrors: mapping.selectorErrors,
                                    descriptorProblems: walk.descriptors.problems.count,
                                    isRelationTarget: { try ledger.isRelationTarget($0) })
        var port = PortReport()
        port.skipped = !pushes
        port.deletesSkipped = deletes.skippedBecause != nil
        port.deletesSkippedBecause = deletes.skippedBecause
        port.thresholdExceeded = deletes.thresholdExceeded
        port.protectedFromDelete = deletes.protected.count
        if describe {
            port.plan = try PortPlan.describe(ledger: ledger, deletes: deletes.allowed)
        }
        // One join over desired ⋈ ledger; the rest of the desired state is in sync with Port.
        port.pending = try ledger.pendingCount()
        port.unchanged = try desired.count() - port.pending
        self.port = port
    }
}

extension RunFacts {
    /// What the run's status is judged from before the push.
    init(walk: WalkStage.Result, mapping: MappingSummary, plan: RunPlan) {
        self.init()
        kinds = walk.outcomes.count
        incompleteKinds = walk.incomplete.count
        sourceFailures = Set(walk.incomplete.compactMap(\.failure))
        mappingErrors = mapping.fieldErrors
        selectorErrors = mapping.selectorErrors
        descriptorProblems = walk.descriptors.problems.count
        deletesWithheld = plan.deletes.skippedBecause != nil
    }
}
