import CJQ
import Store

/// A port-app-config ready to map Backstage entities into Port entities with Ocean's semantics:
/// Ocean's quote rewrite, the first output of every expression, null plus a warning for no output
/// or a jq error, a boolean selector, and entities without identifier or blueprint dropped.
///
/// **Not thread-safe.** It holds libjq states and jv constants, whose reference counts are plain
/// integers. Give every worker thread its own instance: `copy()` makes one without recompiling
/// anything up front (libjq programs are compiled when first needed), and entities passed to
/// `map` must also belong to that thread.
public final class CompiledMapping {
    public let config: PortAppConfig
    private let resources: [CompiledResource]
    /// What this instance is evaluating, for `MappingWatchdog`.
    let progress: MappingProgress
    /// Lower-cased mapping kind → resource indices, in mapping order.
    private let resourcesByKind: [String: [Int]]

    /// Compiles and validates every expression: a jq syntax error is reported here, before
    /// anything is fetched.
    /// - Throws: `MappingError.compile` naming the resource index, field and expression.
    public convenience init(_ config: PortAppConfig) throws(MappingError) {
        self.init(validated: config)
        for resource in resources { try resource.validate() }
    }

    /// Builds the evaluators without compiling libjq programs (they compile on first use).
    private init(validated config: PortAppConfig) {
        self.config = config
        var evaluators: [String: Evaluator] = [:]
        var resources: [CompiledResource] = []
        var byKind: [String: [Int]] = [:]
        for (index, resource) in config.resources.enumerated() {
            resources.append(CompiledResource(index: index, resource: resource, evaluators: &evaluators))
            byKind[resource.kind.lowercased(), default: []].append(index)
        }
        self.resources = resources
        progress = MappingProgress(descriptions: resources.map(\.descriptions))
        for resource in resources { resource.progress = progress }
        resourcesByKind = byKind
    }

    /// An independent instance for another thread (the configuration was validated already).
    public func copy() -> CompiledMapping {
        CompiledMapping(validated: config)
    }

    /// Indices of the resources whose `kind` matches `kind`, case-insensitively, in mapping order.
    public func resourceIndices(forKind kind: String) -> [Int] {
        resourcesByKind[kind.lowercased()] ?? []
    }

    /// How many expressions run natively, and how many only with libjq (for diagnostics).
    public var evaluatorCounts: (native: Int, libjq: Int) {
        var seen: Set<ObjectIdentifier> = []
        var native = 0
        var libjq = 0
        for resource in resources {
            for evaluator in resource.allEvaluators where seen.insert(ObjectIdentifier(evaluator)).inserted {
                if evaluator.isNative { native += 1 } else { libjq += 1 }
            }
        }
        return (native, libjq)
    }

    /// Maps one Backstage entity (as stored, without `metadata.identifier`) through every
    /// resource whose kind matches `ref.kind`: one result per matching resource, in mapping order.
    /// - Parameters:
    ///   - entity: the entity; borrowed, and not modified.
    ///   - ref: its reference; `ref.description` becomes `metadata.identifier`.
    public func map(_ entity: JQValue, ref: EntityRef) -> [MappingResult] {
        let indices = resourceIndices(forKind: ref.kind)
        guard !indices.isEmpty else { return [] }
        guard let input = OceanInput.prepare(entity.raw, ref: ref) else {
            return indices.map {
                MappingResult(resourceIndex: $0, outcome: .selectorError("the entity is not a JSON object"),
                              warnings: [])
            }
        }
        defer { jv_free(input) }
        progress.begin(ref)
        defer { progress.end() }
        return indices.map { resources[$0].map(input, ref: ref) }
    }

    /// `map` for an entity in the Swift representation.
    public func map(_ entity: JSONValue, ref: EntityRef) -> [MappingResult] {
        map(JQValue(entity), ref: ref)
    }
}

@available(*, unavailable)
extension CompiledMapping: Sendable {}

/// One expression of a resource and where its value goes.
struct CompiledField {
    /// Ocean's path for it: `identifier`, `title`, `properties.email`, `relations.system`.
    let path: String
    /// The property or relation name (the key itself for top-level fields).
    let name: String
    let expression: MappingExpression
    let evaluator: Evaluator
}

/// One resource of the config, compiled. Fields are evaluated in mapping order; the body is
/// written in canonical (sorted) order straight from the field values.
final class CompiledResource {
    let index: Int
    let selector: CompiledField
    let fields: [CompiledField]
    var progress: MappingProgress?
    private let identifierSlot: Int
    private let blueprintSlot: Int
    private let titleSlot: Int?
    private let iconSlot: Int?
    private let teamSlot: Int?
    /// Slots of properties in canonical key order (the last one wins for a repeated name); nil
    /// when the mapping has no `properties`.
    private let propertySlots: [Int]?
    private let relationSlots: [Int]?
    /// Slots of relations in mapping order, for `relationTargets`.
    private let relationOrder: [Int]

    init(index: Int, resource: ResourceMapping, evaluators: inout [String: Evaluator]) {
        self.index = index
        func field(_ path: String, _ name: String, _ expression: MappingExpression) -> CompiledField {
            let source = OceanQuotes.rewrite(expression.text)
            let evaluator: Evaluator
            if let shared = evaluators[source] {
                evaluator = shared
            } else {
                evaluator = Evaluator(source: source)
                evaluators[source] = evaluator
            }
            return CompiledField(path: path, name: name, expression: expression, evaluator: evaluator)
        }
        selector = field("selector.query", "query", resource.selectorQuery)
        let mappings = resource.mappings
        var fields: [CompiledField] = []
        func add(_ path: String, _ name: String, _ expression: MappingExpression?) -> Int? {
            guard let expression else { return nil }
            fields.append(field(path, name, expression))
            return fields.count - 1
        }
        identifierSlot = add("identifier", "identifier", mappings.identifier) ?? 0
        titleSlot = add("title", "title", mappings.title)
        blueprintSlot = add("blueprint", "blueprint", mappings.blueprint) ?? 0
        iconSlot = add("icon", "icon", mappings.icon)
        teamSlot = add("team", "team", mappings.team)

        func group(_ prefix: String, _ named: [NamedExpression]?) -> (sorted: [Int]?, order: [Int]) {
            guard let named else { return (nil, []) }
            var slotByName: [String: Int] = [:]
            var order: [Int] = []
            for item in named {
                if let slot = add("\(prefix).\(item.name)", item.name, item.expression) {
                    slotByName[item.name] = slot
                    order.append(slot)
                }
            }
            let sorted = slotByName.keys.sorted(by: JVConverter.precedes).compactMap { slotByName[$0] }
            return (sorted, order)
        }
        propertySlots = group("properties", mappings.properties).sorted
        let relations = group("relations", mappings.relations)
        relationSlots = relations.sorted
        relationOrder = relations.order
        self.fields = fields
    }

    var allEvaluators: [Evaluator] { [selector.evaluator] + fields.map(\.evaluator) }

    /// Compiles every expression the native evaluator does not cover.
    func validate() throws(MappingError) {
        for field in [selector] + fields {
            do {
                try field.evaluator.validate()
            } catch {
                throw MappingError.compile(resourceIndex: index, field: field.path, expression: field.expression.text,
                                           message: error.message, location: field.expression.location)
            }
        }
    }

    /// Maps the prepared input (borrowed).
    func map(_ input: jv, ref: EntityRef) -> MappingResult {
        // The selector first: false means the entity is not generated and no field is evaluated.
        progress?.at(resource: index, slot: 0)
        switch selector.evaluator.first(input) {
        case .value(let value):
            let kind = jvKind(value)
            jv_free(value)
            if kind == JV_KIND_FALSE { return MappingResult(resourceIndex: index, outcome: .filtered, warnings: []) }
            if kind != JV_KIND_TRUE {
                return selectorError("must yield a boolean, got \(CompiledResource.typeName(kind))")
            }
        case .none:
            return selectorError("must yield a boolean, got no output")
        case .error(let message):
            return selectorError("failed: \(message)")
        }

        var warnings: [MappingWarning] = []
        var values: [jv] = []
        values.reserveCapacity(fields.count)
        defer { for value in values { jv_free(value) } }
        for (slot, field) in fields.enumerated() {
            progress?.at(resource: index, slot: slot + 1)
            switch field.evaluator.first(input) {
            case .value(let value):
                values.append(value)
            case .none:
                values.append(jv_null())
                warnings.append(MappingWarning(resourceIndex: index, field: field.path, expression: field.expression.text,
                                               entity: ref, problem: .noOutput))
            case .error(let message):
                values.append(jv_null())
                warnings.append(MappingWarning(resourceIndex: index, field: field.path, expression: field.expression.text,
                                               entity: ref, problem: .error(message)))
            }
        }

        let identifier: String
        switch CompiledResource.nonEmptyString(values[identifierSlot]) {
        case .success(let text): identifier = text
        case .failure(.empty): return dropped(.emptyIdentifier, warnings)
        case .failure(.notString(let type)): return dropped(.identifierNotString(type), warnings)
        }
        let blueprint: String
        switch CompiledResource.nonEmptyString(values[blueprintSlot]) {
        case .success(let text): blueprint = text
        case .failure(.empty): return dropped(.emptyBlueprint, warnings)
        case .failure(.notString(let type)): return dropped(.blueprintNotString(type), warnings)
        }

        let bytes = writeBody(values)
        var targets: [RelationTarget] = []
        for slot in relationOrder {
            let value = values[slot]
            let name = fields[slot].name
            switch jvKind(value) {
            case JV_KIND_STRING:
                targets.append(RelationTarget(relation: name, identifier: JVConverter.string(value)))
            case JV_KIND_ARRAY:
                let count = jv_array_length(jv_copy(value))
                var position: Int32 = 0
                while position < count {
                    let item = jv_array_get(jv_copy(value), position)
                    if jvKind(item) == JV_KIND_STRING {
                        targets.append(RelationTarget(relation: name, identifier: JVConverter.string(item)))
                    }
                    jv_free(item)
                    position += 1
                }
            default:
                break
            }
        }
        let entity = PortEntity(identifier: identifier, blueprint: blueprint, canonical: bytes, relationTargets: targets)
        return MappingResult(resourceIndex: index, outcome: .entity(entity), warnings: warnings)
    }

    /// The canonical bytes of the body, written in sorted key order straight from the values.
    private func writeBody(_ values: [jv]) -> [UInt8] {
        var writer = JVConverter()
        var needsComma = false
        func member(_ key: StaticString, _ slot: Int?) {
            guard let slot else { return }
            if needsComma { writer.append(UInt8(ascii: ",")) }
            needsComma = true
            writer.appendKey(key)
            writer.write(values[slot])
        }
        func group(_ key: StaticString, _ slots: [Int]?) {
            guard let slots else { return }
            if needsComma { writer.append(UInt8(ascii: ",")) }
            needsComma = true
            writer.appendKey(key)
            writer.append(UInt8(ascii: "{"))
            for (position, slot) in slots.enumerated() {
                if position > 0 { writer.append(UInt8(ascii: ",")) }
                writer.appendString(fields[slot].name)
                writer.append(UInt8(ascii: ":"))
                writer.write(values[slot])
            }
            writer.append(UInt8(ascii: "}"))
        }
        writer.append(UInt8(ascii: "{"))
        // Canonical order of the top-level keys (byte-wise).
        member("blueprint", blueprintSlot)
        member("icon", iconSlot)
        member("identifier", identifierSlot)
        group("properties", propertySlots)
        group("relations", relationSlots)
        member("team", teamSlot)
        member("title", titleSlot)
        writer.append(UInt8(ascii: "}"))
        return writer.bytes
    }

    private func selectorError(_ problem: String) -> MappingResult {
        MappingResult(resourceIndex: index,
                      outcome: .selectorError("selector.query `\(selector.expression.text)` \(problem)"),
                      warnings: [])
    }

    private func dropped(_ reason: DropReason, _ warnings: [MappingWarning]) -> MappingResult {
        MappingResult(resourceIndex: index, outcome: .dropped(reason), warnings: warnings)
    }

    private enum NotUsable: Error {
        case empty
        case notString(String)
    }

    /// A usable identifier or blueprint: a non-empty string. Values Python finds false (null,
    /// false, 0, "", [], {}) are "empty", as in Ocean; other non-strings are refused by type.
    private static func nonEmptyString(_ value: jv) -> Result<String, NotUsable> {
        let kind = jvKind(value)
        switch kind {
        case JV_KIND_STRING:
            let text = JVConverter.string(value)
            return text.isEmpty ? .failure(.empty) : .success(text)
        case JV_KIND_NULL, JV_KIND_FALSE, JV_KIND_INVALID:
            return .failure(.empty)
        case JV_KIND_NUMBER:
            return jv_number_value(value) == 0 ? .failure(.empty) : .failure(.notString("number"))
        case JV_KIND_ARRAY:
            return jv_array_length(jv_copy(value)) == 0 ? .failure(.empty) : .failure(.notString("array"))
        case JV_KIND_OBJECT:
            return jv_object_length(jv_copy(value)) == 0 ? .failure(.empty) : .failure(.notString("object"))
        default:
            return .failure(.notString(typeName(kind)))
        }
    }

    static func typeName(_ kind: jv_kind) -> String {
        switch kind {
        case JV_KIND_NULL: return "null"
        case JV_KIND_TRUE, JV_KIND_FALSE: return "boolean"
        case JV_KIND_NUMBER: return "number"
        case JV_KIND_STRING: return "string"
        case JV_KIND_ARRAY: return "array"
        case JV_KIND_OBJECT: return "object"
        default: return "invalid value"
        }
    }
}

@available(*, unavailable)
extension CompiledResource: Sendable {}
