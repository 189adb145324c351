import Store

/// The Port side of `diff`: what a sync would upsert (create or update, with the fields each
/// sets or changes) and delete.
public struct PortPlan: Sendable {
    public struct Upsert: Sendable {
        public let key: PortKey
        public let isCreate: Bool
        /// What Port would change, by `FieldChanges`: for an update, the fields that differ from
        /// what Port acknowledged; for a create, every field the entity sets.
        public let fields: [FieldChange]
    }

    public var upserts: [Upsert] = []
    public var deletes: [PortKey] = []

    public init() {}

    static func describe(ledger: Ledger, deletes: [PlannedDelete]) throws -> PortPlan {
        var plan = PortPlan()
        var after: PortKey?
        while true {
            let chunk = try ledger.plannedUpserts(after: after, limit: 1_000)
            guard let last = chunk.last else { break }
            after = last.key
            for upsert in chunk {
                let acked = try upsert.ackedHash.flatMap { hash in try ledger.body(hash: hash) }
                let fields = FieldChanges.between(acked.map { (try? CanonicalJSON.parse($0)) ?? .null },
                                                  (try? CanonicalJSON.parse(upsert.body.bytes)) ?? .null)
                plan.upserts.append(Upsert(key: upsert.key, isCreate: upsert.ackedHash == nil, fields: fields))
            }
        }
        plan.deletes = deletes.map(\.key)
        return plan
    }
}
