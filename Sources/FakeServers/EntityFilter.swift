
/// The query-string filter of the catalog (reference §1.8): each `filter` parameter is a set of
/// comma-separated statements that are AND-ed, separate parameters are OR-ed, a key repeated in a
/// set is OR-ed, a bare key means "exists", and keys and values compare case-insensitively.
struct EntityFilter {
    /// One key of a set: the entity matches when any of `values` is stored under `key`, or when the
    /// key exists at all if `values` is empty.
    struct Condition {
        let key: String
        var values: Set<String>
    }

    /// The raw parameters, kept for cursors.
    let parameters: [String]
    let sets: [[Condition]]

    /// Parses the `filter` parameters; nil when there are none (everything matches).
    init?(parameters: [String]) throws(BackstageError) {
        guard !parameters.isEmpty else { return nil }
        var sets: [[Condition]] = []
        for parameter in parameters {
            var conditions: [Condition] = []
            var position: [String: Int] = [:]
            for piece in parameter.split(separator: ",", omittingEmptySubsequences: false) {
                let statement = piece.trimmingCharacters(in: .whitespaces)
                if statement.isEmpty { continue }
                let key: String
                var value: String?
                if let equals = statement.firstIndex(of: "=") {
                    key = statement[..<equals].trimmingCharacters(in: .whitespaces)
                    value = statement[statement.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                } else {
                    key = statement
                }
                guard !key.isEmpty else {
                    throw .input("Invalid filter, '\(statement)' is not a valid statement "
                        + "(expected a string on the form a=b or a= or a)")
                }
                let index: Int
                if let existing = position[key] {
                    index = existing
                } else {
                    index = conditions.count
                    position[key] = index
                    conditions.append(Condition(key: key.lowercased(), values: []))
                }
                if let value { conditions[index].values.insert(value.lowercased()) }
            }
            if !conditions.isEmpty { sets.append(conditions) }
        }
        guard !sets.isEmpty else { return nil }
        self.parameters = parameters
        self.sets = sets
    }

    func matches(_ entity: FakeJSON) -> Bool {
        sets.contains { conditions in
            conditions.allSatisfy { condition in
                let stored = EntitySearch.values(forKey: condition.key, in: entity)
                if condition.values.isEmpty { return !stored.isEmpty }
                return stored.contains { value in value.map(condition.values.contains) ?? false }
            }
        }
    }

    /// The lower-case kinds an entity must have to match, when every set names its kinds;
    /// nil when some set accepts any kind. Lets a walk use the per-kind uid index.
    var candidateKinds: Set<String>? {
        var kinds = Set<String>()
        for conditions in sets {
            guard let kind = conditions.first(where: { $0.key == "kind" }), !kind.values.isEmpty else { return nil }
            kinds.formUnion(kind.values)
        }
        return kinds
    }

    /// True when every set is only `kind=...`, so membership in the kind index decides a match.
    var isKindOnly: Bool {
        sets.allSatisfy { $0.count == 1 && $0[0].key == "kind" && !$0[0].values.isEmpty }
    }
}
