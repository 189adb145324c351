import Store

/// The mapping playground: one entity through every matching resource, with what each produced,
/// the fields that fell back to null, and the expressions that yield several outputs (of which
/// Ocean keeps only the first). The local equivalent of Port's jq playground.
public struct EntityTrial: Sendable {
    /// One resource's result for the entity.
    public struct Result: Sendable {
        public let resourceIndex: Int
        public let kind: String
        public let outcome: MappingResult.Outcome
        public let warnings: [MappingWarning]
        /// Fields whose expression yields more than one output, with the count (capped at 100).
        public let multipleOutputs: [(field: MappingField, outputs: Int)]
        /// Identifier or relation values Port would refuse.
        public let identifierProblems: [String]
        /// Fields whose expression gave null itself (not a fallback): Ocean logs these too, as
        /// "Unable to find valid data for".
        public let nullFields: [MappingField]
        /// Fields that gave null and are written to (`MappingField.isOptional`): notes, not warnings.
        public let optionalNullFields: [MappingField]
    }

    public let ref: EntityRef
    public let results: [Result]

    /// Maps `entity` (as stored, without `metadata.identifier`) with `mapping`.
    public init(entity: JSONValue, ref: EntityRef, mapping: LoadedMapping) {
        self.ref = ref
        let value = JQValue(entity)
        let compiled = mapping.compiled.copy()
        results = compiled.map(value, ref: ref).map { result in
            let resource = mapping.config.resources[result.resourceIndex]
            var multiple: [(MappingField, Int)] = []
            var problems: [String] = []
            var nulls: [MappingField] = []
            var optionalNulls: [MappingField] = []
            if let entity = result.entity {
                let warned = Set(result.warnings.map(\.field))
                let body = entity.body
                for field in MappingField.all(of: resource) {
                    if let count = result.multipleOutputs[field.path] { multiple.append((field, count)) }
                    if !warned.contains(field.path), field.value(in: body)?.isNull ?? true {
                        if field.isOptional { optionalNulls.append(field) } else { nulls.append(field) }
                    }
                }
                problems = EntityTrial.identifierProblems(entity)
            }
            return Result(resourceIndex: result.resourceIndex, kind: resource.kind, outcome: result.outcome,
                          warnings: result.warnings, multipleOutputs: multiple, identifierProblems: problems,
                          nullFields: nulls, optionalNullFields: optionalNulls)
        }
    }

    /// True when at least one resource produced a Port entity.
    public var producedEntity: Bool { results.contains { $0.outcome.isEntity } }

    static func identifierProblems(_ entity: PortEntity) -> [String] {
        var problems: [String] = []
        if let problem = PortIdentifierRule.problem(entity.identifier) {
            problems.append("identifier \"\(entity.identifier)\" \(problem)")
        }
        for target in entity.relationTargets {
            if let problem = PortIdentifierRule.problem(target.identifier) {
                problems.append("relations.\(target.relation) value \"\(target.identifier)\" \(problem)")
            }
        }
        return problems
    }
}

extension MappingResult.Outcome {
    public var isEntity: Bool {
        if case .entity = self { return true }
        return false
    }

    /// `mapped`, `filtered`, `dropped` or `selector-error`.
    public var name: String {
        switch self {
        case .entity: return "mapped"
        case .filtered: return "filtered"
        case .dropped: return "dropped"
        case .selectorError: return "selector-error"
        }
    }
}
