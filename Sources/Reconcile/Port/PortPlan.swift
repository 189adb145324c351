import Store

/// The Port side of `diff`: what a sync would upsert (create or update, with the changed fields)
/// and delete.
public struct PortPlan: Sendable {
    public struct Upsert: Sendable {
        public let key: PortKey
        public let isCreate: Bool
        /// Changed top-level fields and `properties.x` / `relations.x` keys (updates only).
        public let changedFields: [String]
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
                var fields: [String] = []
                if let acked = upsert.ackedHash, let old = try ledger.body(hash: acked) {
                    fields = PortPlan.changedFields(old: (try? CanonicalJSON.parse(old)) ?? .null,
                                                    new: (try? CanonicalJSON.parse(upsert.body)) ?? .null)
                }
                plan.upserts.append(Upsert(key: upsert.key, isCreate: upsert.ackedHash == nil, changedFields: fields))
            }
        }
        plan.deletes = deletes.map(\.key)
        return plan
    }

    /// Which fields differ between two mapped entities, one level into properties and relations.
    public static func changedFields(old: JSONValue, new: JSONValue) -> [String] {
        let oldObject = old.objectValue ?? [:]
        let newObject = new.objectValue ?? [:]
        var changed: [String] = []
        for key in Set(oldObject.keys).union(newObject.keys).sorted() where oldObject[key] != newObject[key] {
            if (key == "properties" || key == "relations"),
               let before = oldObject[key]?.objectValue ?? (oldObject[key] == nil ? [:] : nil),
               let after = newObject[key]?.objectValue ?? (newObject[key] == nil ? [:] : nil) {
                for member in Set(before.keys).union(after.keys).sorted() where before[member] != after[member] {
                    changed.append("\(key).\(member)")
                }
            } else {
                changed.append(key)
            }
        }
        return changed
    }
}
