import Store

/// One problem `mapping lint` found, aggregated over the entities it affects.
public struct LintFinding: Sendable {
    public enum Rule: String, Sendable, CaseIterable {
        /// An expression yields several outputs; Ocean keeps only the first (silent data loss).
        case multipleOutputs = "multiple-outputs"
        /// A value's type does not match the blueprint schema, or the blueprint lacks the field.
        case schemaMismatch = "schema-mismatch"
        /// A relation points at an identifier the mapping does not produce.
        case missingTarget = "missing-target"
        /// An identifier or relation value Port would refuse.
        case invalidIdentifier = "invalid-identifier"
        /// An expression gives null (or nothing) for every entity it was evaluated on.
        case alwaysNull = "always-null"
        /// Entities dropped for an empty or non-string identifier or blueprint.
        case dropped
        /// `selector.query` failed or did not yield a boolean.
        case selectorError = "selector-error"
    }

    public let rule: Rule
    public let resourceIndex: Int
    public let kind: String
    /// The field path (`relations.members`), nil for whole-resource findings.
    public let field: String?
    public let expression: String?
    public let location: SourceLocation?
    /// Entities affected.
    public let count: Int
    /// A few affected entities, with detail (`group:default/a (3 outputs)`).
    public let examples: [String]
    public let message: String
    public let suggestion: String?
}

/// What `mapping lint` found over the whole mirror.
public struct LintReport: Sendable {
    public struct ResourceCounts: Sendable {
        public var kind = ""
        public var entities = 0
        public var mapped = 0
        public var filtered = 0
        public var dropped = 0
        public var selectorErrors = 0
    }

    public var entities = 0
    public var resources: [ResourceCounts] = []
    public var findings: [LintFinding] = []
    /// Always-null fields the mapping writes as optional (`MappingField.isOptional`): worth
    /// knowing, not a finding.
    public var notes: [LintFinding] = []
    /// Whether blueprint schemas were known (schema checks ran).
    public var checkedSchemas = false
}

/// Runs a mapping over many entities and reports what Ocean's semantics would silently lose or
/// Port would refuse. Feed entities with `add`, then `finish`. Not thread-safe.
public final class MappingLinter {
    private struct Key: Hashable {
        let rule: LintFinding.Rule
        let resource: Int
        let field: String?
        let detail: String
    }

    private struct Tally {
        var count = 0
        var examples: [String] = []
        var maximum = 0
    }

    private let mapping: LoadedMapping
    private let compiled: CompiledMapping
    private let blueprints: [String: BlueprintSchema]?
    private let fields: [[MappingField]]
    private var report = LintReport()
    private var tallies: [Key: Tally] = [:]
    private var order: [Key] = []
    /// Per resource and field: whether any mapped entity had a non-null value.
    private var nonNull: [[Bool]]
    /// Mapped identifiers (by blueprint) and every relation value, checked at the end.
    private var produced: [String: Set<String>] = [:]
    private var allIdentifiers: Set<String> = []
    private var targets: [(resource: Int, relation: String, blueprint: String, source: String, target: String)] = []

    /// - Parameter blueprints: schemas by blueprint identifier; nil skips schema checks.
    public init(mapping: LoadedMapping, blueprints: [String: BlueprintSchema]?) {
        self.mapping = mapping
        compiled = mapping.compiled.copy()
        self.blueprints = blueprints
        fields = mapping.config.resources.map(MappingField.all(of:))
        nonNull = fields.map { Array(repeating: false, count: $0.count) }
        report.resources = mapping.config.resources.map { resource in
            var counts = LintReport.ResourceCounts()
            counts.kind = resource.kind
            return counts
        }
        report.checkedSchemas = blueprints != nil
    }

    /// Lints one entity (as stored, without `metadata.identifier`).
    public func add(_ entity: JQValue, ref: EntityRef) {
        let results = compiled.map(entity, ref: ref)
        guard !results.isEmpty else { return }
        report.entities += 1
        for result in results {
            let index = result.resourceIndex
            report.resources[index].entities += 1
            switch result.outcome {
            case .entity(let portEntity):
                report.resources[index].mapped += 1
                check(portEntity, ref: ref, resource: index, multipleOutputs: result.multipleOutputs)
            case .filtered:
                report.resources[index].filtered += 1
            case .dropped(let reason):
                report.resources[index].dropped += 1
                tally(.dropped, index, nil, reason.description, example: ref.description)
            case .selectorError(let message):
                report.resources[index].selectorErrors += 1
                tally(.selectorError, index, "selector.query", message, example: ref.description)
            }
        }
    }

    private func check(_ entity: PortEntity, ref: EntityRef, resource index: Int, multipleOutputs: [String: Int]) {
        produced[entity.blueprint, default: []].insert(entity.identifier)
        allIdentifiers.insert(entity.identifier)
        if let problem = PortIdentifierRule.problem(entity.identifier) {
            tally(.invalidIdentifier, index, "identifier", problem, example: "\(ref) → \"\(entity.identifier)\"")
        }
        let schema = blueprints?[entity.blueprint]
        if blueprints != nil, schema == nil {
            tally(.schemaMismatch, index, "blueprint", "blueprint \(entity.blueprint) is not among the known blueprints",
                  example: ref.description)
        }
        let body = entity.body  // decoded from the canonical bytes on each access: once per entity
        for (position, field) in fields[index].enumerated() {
            let value = field.value(in: body) ?? .null
            if !value.isNull { nonNull[index][position] = true }
            if let outputs = multipleOutputs[field.path] {
                tally(.multipleOutputs, index, field.path, "", example: "\(ref) (\(outputs) outputs)", size: outputs)
            }
            guard let schema else { continue }
            switch field.group {
            case .properties:
                if let problem = schema.propertyProblem(field.name, value) {
                    tally(.schemaMismatch, index, field.path, problem, example: ref.description)
                }
            case .relations:
                if let problem = schema.relationProblem(field.name, value) {
                    tally(.schemaMismatch, index, field.path, problem, example: ref.description)
                }
            case .top:
                break
            }
        }
        for target in entity.relationTargets {
            if let problem = PortIdentifierRule.problem(target.identifier) {
                tally(.invalidIdentifier, index, "relations.\(target.relation)", problem, example: "\(ref) → \"\(target.identifier)\"")
            }
            let blueprint = schema?.relations[target.relation]?.target ?? ""
            targets.append((index, target.relation, blueprint, ref.description, target.identifier))
        }
    }

    private func tally(_ rule: LintFinding.Rule, _ resource: Int, _ field: String?, _ detail: String, example: String, size: Int = 0) {
        let key = Key(rule: rule, resource: resource, field: field, detail: detail)
        if tallies[key] == nil { order.append(key) }
        var tally = tallies[key, default: Tally()]
        tally.count += 1
        tally.maximum = max(tally.maximum, size)
        if tally.examples.count < 3 { tally.examples.append(example) }
        tallies[key] = tally
    }

    /// Ends the run: relation targets and always-null fields are judged over everything seen.
    public func finish() -> LintReport {
        for target in targets {
            let exists = target.blueprint.isEmpty ? allIdentifiers.contains(target.target)
                                                  : produced[target.blueprint]?.contains(target.target) == true
            if !exists {
                let detail = target.blueprint.isEmpty ? "" : target.blueprint
                tally(.missingTarget, target.resource, "relations.\(target.relation)", detail,
                      example: "\(target.source) → \(target.target)")
            }
        }
        for (index, resourceFields) in fields.enumerated() where report.resources[index].mapped > 0 {
            for (position, field) in resourceFields.enumerated() where !nonNull[index][position] {
                let key = Key(rule: .alwaysNull, resource: index, field: field.path, detail: "")
                order.append(key)
                tallies[key] = Tally(count: report.resources[index].mapped,
                                     examples: ["all \(report.resources[index].mapped) mapped entities"])
            }
        }
        var result = report
        let all = order.compactMap { key in tallies[key].map { finding(key, $0) } }
            .sorted { ($0.resourceIndex, ruleRank($0.rule)) < ($1.resourceIndex, ruleRank($1.rule)) }
        let optional = { (finding: LintFinding) -> Bool in
            finding.rule == .alwaysNull && MappingField.writesNull(finding.expression ?? "")
        }
        result.findings = all.filter { !optional($0) }
        result.notes = all.filter(optional)
        return result
    }

    private func ruleRank(_ rule: LintFinding.Rule) -> Int { LintFinding.Rule.allCases.firstIndex(of: rule) ?? 0 }

    private func finding(_ key: Key, _ tally: Tally) -> LintFinding {
        let resource = mapping.config.resources[key.resource]
        let field = key.field.flatMap { path in fields[key.resource].first { $0.path == path } }
        let expression = key.field == "selector.query" ? resource.selectorQuery : field?.expression
        let entities = "\(tally.count) entit\(tally.count == 1 ? "y" : "ies")"
        var suggestion: String?
        let message: String
        switch key.rule {
        case .multipleOutputs:
            message = "yields several outputs for \(entities) (up to \(tally.maximum)); Ocean keeps only the first, the rest are silently lost"
            if let text = expression?.text {
                suggestion = field?.group == .relations
                    ? "collect them: '[\(text)]' (and make the relation many: true)"
                    : "collect them with '[\(text)]', or pick one explicitly with 'first(\(text))'"
            }
        case .schemaMismatch:
            message = "\(key.detail) (\(entities))"
        case .missingTarget:
            message = "points at identifiers the mapping does not produce\(key.detail.isEmpty ? "" : " as \(key.detail)") (\(tally.count) value\(tally.count == 1 ? "" : "s"))"
            suggestion = mapping.config.createMissingRelatedEntities
                ? "Port will create empty placeholder entities for them (createMissingRelatedEntities: true)"
                : "Port will refuse these entities (createMissingRelatedEntities: false)"
        case .invalidIdentifier:
            message = "Port would refuse it: \(key.detail) (\(entities))"
        case .alwaysNull:
            message = "is null for every mapped entity (\(report.resources[key.resource].mapped))"
        case .dropped:
            message = "\(entities) dropped: \(key.detail)"
        case .selectorError:
            message = "\(key.detail) (\(entities))"
        }
        return LintFinding(rule: key.rule, resourceIndex: key.resource, kind: resource.kind, field: key.field,
                           expression: expression?.text, location: expression?.location ?? resource.location,
                           count: tally.count, examples: tally.examples, message: message, suggestion: suggestion)
    }
}

@available(*, unavailable)
extension MappingLinter: Sendable {}
