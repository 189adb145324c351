import Store

/// Decides which planned deletes may go to Port. Deletes are the dangerous half of a sync, so
/// they happen only after a clean run and below the mapping's `entityDeletionThreshold`, and —
/// with `createMissingRelatedEntities` — never for an entity a kept entity still points at
/// (Port would re-create it, as Ocean reasons).
public struct DeletePolicy: Sendable {
    public var threshold: Double
    public var createMissingRelatedEntities: Bool
    public var allowMassDelete: Bool

    public init(threshold: Double, createMissingRelatedEntities: Bool, allowMassDelete: Bool) {
        self.threshold = threshold
        self.createMissingRelatedEntities = createMissingRelatedEntities
        self.allowMassDelete = allowMassDelete
    }

    public struct Decision: Sendable {
        public var allowed: [PlannedDelete] = []
        public var protected: [PlannedDelete] = []
        /// Why no delete is sent this run (nil when deletes proceed).
        public var skippedBecause: String?
        /// True when the threshold stopped the deletes (the run then exits 3).
        public var thresholdExceeded = false
    }

    /// - Parameters:
    ///   - incompleteKinds: kinds whose walk did not complete this run.
    ///   - selectorErrors: how many selector evaluations failed this run.
    ///   - descriptorProblems: descriptor files or documents the source could not read this run
    ///     (their entities can't be told from deleted ones).
    public func decide(_ deletes: [PlannedDelete], owned: Int, incompleteKinds: [String], selectorErrors: Int,
                       descriptorProblems: Int = 0, isRelationTarget: (String) throws -> Bool) rethrows -> Decision {
        var decision = Decision()
        guard !deletes.isEmpty else { return decision }
        if !incompleteKinds.isEmpty {
            decision.skippedBecause = "the walk of \(incompleteKinds.joined(separator: ", ")) did not complete"
            return decision
        }
        if descriptorProblems > 0 {
            decision.skippedBecause = "\(descriptorProblems) descriptor\(descriptorProblems == 1 ? "" : "s") could not be read"
            return decision
        }
        if selectorErrors > 0 {
            decision.skippedBecause = "\(selectorErrors) selector evaluation\(selectorErrors == 1 ? "" : "s") failed"
            return decision
        }
        var candidates: [PlannedDelete] = []
        for delete in deletes {
            if createMissingRelatedEntities, try isRelationTarget(delete.key.identifier) {
                decision.protected.append(delete)
            } else {
                candidates.append(delete)
            }
        }
        let rate = owned == 0 ? 0 : Double(candidates.count) / Double(owned)
        if rate > threshold && !allowMassDelete {
            decision.thresholdExceeded = true
            decision.skippedBecause = "deleting \(candidates.count) of \(owned) owned entities (\(Int((rate * 100).rounded()))%) exceeds entityDeletionThreshold \(threshold); rerun with --allow-mass-delete if this is intended"
            return decision
        }
        decision.allowed = candidates
        return decision
    }
}
