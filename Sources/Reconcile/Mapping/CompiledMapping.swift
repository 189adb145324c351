import CJQ
import Store

/// A port-app-config ready to map Backstage entities into Port entities with Ocean's semantics:
/// Ocean's quote rewrite, the first output of every expression, null plus a warning for no output
/// or a jq error, a boolean selector, and entities without identifier or blueprint dropped.
///
/// Every expression is evaluated by libjq, all of them in one jq program (`MappingProgram`, which
/// also lists the few ways this differs from running each expression on its own).
///
/// **Not thread-safe.** It holds a libjq state and jv values, whose reference counts are plain
/// integers. Give every worker thread its own instance (`copy()`, or `init` again with the same
/// config: the program is then known to compile and is compiled when the instance first maps an
/// entity), and entities passed to `map` must also belong to that thread.
public final class CompiledMapping {
    public let config: PortAppConfig
    /// What never changes, shared by copies.
    private let plan: MappingPlan
    /// What this instance is evaluating, for `MappingWatchdog`.
    let progress: MappingProgress
    private var program: JQProgram?
    private var compileFailure: String?
    /// The `[index, entity]` input being evaluated (to recognise the program's field markers; null
    /// between runs), its resource, and the slot reached (0: the selector).
    private var markerPair = JQReference.null
    private var markerResource = 0
    private var markerSlot = 0

    /// Compiles the mapping's jq program, so a jq syntax error is reported here, before anything
    /// is fetched. A config already compiled in this process is not compiled again until it maps.
    /// - Parameter compiledBefore: whether a database records this program (`programKey`) as
    ///   compiled by this libjq; then the check is skipped and it compiles when it first maps.
    /// - Throws: `MappingError.compile` naming the resource index, field and expression.
    public convenience init(_ config: PortAppConfig, compiledBefore: (String) -> Bool = { _ in false }) throws(MappingError) {
        self.init(plan: MappingPlan(config))
        guard !MappingProgram.isKnownToCompile(plan.source), !compiledBefore(programKey) else { return }
        do {
            install(try JQProgram(plan.source))
        } catch {
            throw plan.locate(error)
        }
        MappingProgram.remember(plan.source)
    }

    private init(plan: MappingPlan) {
        config = plan.config
        self.plan = plan
        progress = MappingProgress(descriptions: plan.resources.map(\.descriptions))
    }

    /// Names this mapping's jq program under the libjq that runs it: what a database records
    /// once the program has compiled (a different libjq must check it again).
    public var programKey: String {
        ContentHash(of: Array((JQProgram.libraryIdentity + "\n" + plan.source).utf8)).hex
    }

    /// Whether this process has compiled the program: only then may a database record it.
    public var hasCompiled: Bool {
        MappingProgram.isKnownToCompile(plan.source)
    }

    /// An independent instance for another thread; its program is compiled when it first maps.
    public func copy() -> CompiledMapping {
        CompiledMapping(plan: plan)
    }

    /// Indices of the resources whose `kind` matches `kind`, case-insensitively, in mapping order.
    public func resourceIndices(forKind kind: String) -> [Int] {
        plan.resourcesByKind[kind.lowercased()] ?? []
    }

    /// Maps one Backstage entity (as stored, without `metadata.identifier`) through every
    /// resource whose kind matches `ref.kind`: one result per matching resource, in mapping order.
    /// - Parameters:
    ///   - entity: the entity; borrowed, and not modified.
    ///   - ref: its reference; `ref.description` becomes `metadata.identifier`.
    public func map(_ entity: JQValue, ref: EntityRef) -> [MappingResult] {
        map(entity.reference, ref: ref)
    }

    /// `map` for a borrowed entity value.
    public func map(_ entity: borrowing JQReference, ref: EntityRef) -> [MappingResult] {
        let indices = resourceIndices(forKind: ref.kind)
        guard !indices.isEmpty else { return [] }
        guard let input = OceanInput.prepare(entity, ref: ref) else {
            return indices.map { plan.resources[$0].failed("the entity is not a JSON object") }
        }
        guard let program = compiledProgram() else {
            return indices.map { plan.resources[$0].failed("the mapping's jq program does not compile: \(compileFailure ?? "")") }
        }
        progress.begin(ref)
        defer { progress.end() }
        var results: [MappingResult] = []
        results.reserveCapacity(indices.count)
        for index in indices { results.append(run(plan.resources[index], input: input, ref: ref, program: program)) }
        return results
    }

    /// `map` for an entity in the Swift representation.
    public func map(_ entity: JSONValue, ref: EntityRef) -> [MappingResult] {
        map(JQValue(entity), ref: ref)
    }

    private func compiledProgram() -> JQProgram? {
        if let program { return program }
        if compileFailure != nil { return nil }
        do {
            let compiled = try JQProgram(plan.source)
            install(compiled)
            MappingProgram.remember(plan.source)
            return compiled
        } catch {
            compileFailure = error.message
            return nil
        }
    }

    /// Keeps `program` and routes its `debug` output (the field markers) to `fieldStarted`.
    private func install(_ program: JQProgram) {
        self.program = program
        program.onDebug(context: Unmanaged.passUnretained(self).toOpaque()) { context, value in
            if let context {
                Unmanaged<CompiledMapping>.fromOpaque(context)._withUnsafeGuaranteedRef {
                    $0.fieldStarted(JQReference(adopting: value))
                }
            } else {
                _ = JQReference(adopting: value)
            }
        }
    }

    /// A `debug` output: the program's marker before each field is the input pair itself (the
    /// same value, which no expression can see or rebuild into an identical one).
    private func fieldStarted(_ value: consuming JQReference) {
        guard value.kind == JV_KIND_ARRAY, value.isIdentical(to: markerPair) else { return }
        markerSlot += 1
        progress.at(resource: markerResource, slot: markerSlot)
    }

    /// Runs one resource on the prepared input.
    private func run(_ resource: CompiledResource, input: borrowing JQReference, ref: EntityRef, program: JQProgram) -> MappingResult {
        var pair = JQReference.array(capacity: 2)
        pair.append(JQReference(number: Double(resource.index)))
        pair.append(input.copy())
        markerPair = pair.copy()
        markerResource = resource.index
        markerSlot = 0
        progress.at(resource: resource.index, slot: 0)
        program.start(consuming: pair)
        let output = program.next()
        markerPair = .null
        if output.kind == JV_KIND_ARRAY { return resource.map(output, ref: ref) }
        // Only `halt`/`halt_error` ends the program without a result: every error is caught.
        let field = resource.field(atSlot: markerSlot)
        let problem: String
        if output.hasInvalidMessage {
            problem = "failed: \(JQErrorText.message(ofInvalid: output))"
        } else {
            problem = "called halt or halt_error, which ends the mapping's whole jq program"
        }
        return resource.failed("\(field.path) `\(field.expression.text)` \(problem)")
    }
}

@available(*, unavailable)
extension CompiledMapping: Sendable {}

/// What a config compiles to, apart from the libjq state: the resources and the program text.
/// Immutable; shared by the copies of a `CompiledMapping`.
final class MappingPlan: Sendable {
    let config: PortAppConfig
    let resources: [CompiledResource]
    /// Lower-cased mapping kind → resource indices, in mapping order.
    let resourcesByKind: [String: [Int]]
    /// The whole mapping's jq program (`MappingProgram`).
    let source: String

    init(_ config: PortAppConfig) {
        self.config = config
        resources = config.resources.enumerated().map { CompiledResource(index: $0.offset, resource: $0.element) }
        var byKind: [String: [Int]] = [:]
        for (index, resource) in config.resources.enumerated() {
            byKind[resource.kind.lowercased(), default: []].append(index)
        }
        resourcesByKind = byKind
        source = MappingProgram.mapping(resources: resources.map(\.source))
    }

    /// The expression to blame when the program does not compile. Slow (one compile per resource,
    /// then per expression of the failing resource), so only used once the program has failed.
    func locate(_ failure: JQCompileFailure) -> MappingError {
        for resource in resources {
            guard (try? JQProgram(resource.source)) == nil else { continue }
            let all = [resource.selector] + resource.fields
            for field in all {
                do {
                    _ = try JQProgram(field.source)
                } catch {
                    return field.compileError(resource: resource.index, message: error.message)
                }
            }
            for field in all {
                do {
                    _ = try JQProgram(MappingProgram.field(field.source))
                } catch {
                    return field.compileError(resource: resource.index, message: """
                        compiles on its own but not as part of mirrorctl's mapping program (\(error.message)); \
                        an expression that is only a comment or only definitions yields its input: end it with `.`
                        """)
                }
            }
            return MappingError.compile(resourceIndex: resource.index, field: "(all expressions)", expression: "",
                                        message: failure.message, location: resource.location)
        }
        return MappingError.compile(resourceIndex: 0, field: "(all expressions)", expression: "", message: failure.message,
                                    location: nil)
    }
}

/// One expression of a resource and where its value goes.
struct CompiledField: Sendable {
    /// Ocean's path for it: `identifier`, `title`, `properties.email`, `relations.system`.
    let path: String
    /// The property or relation name (the key itself for top-level fields).
    let name: String
    let expression: MappingExpression
    /// The jq text after Ocean's quote rewrite.
    let source: String

    init(path: String, name: String, expression: MappingExpression) {
        self.path = path
        self.name = name
        self.expression = expression
        source = OceanQuotes.rewrite(expression.text)
    }

    func compileError(resource: Int, message: String) -> MappingError {
        .compile(resourceIndex: resource, field: path, expression: expression.text, message: message,
                 location: expression.location)
    }
}

/// One resource of the config. Fields are evaluated in mapping order; the body is written in
/// canonical (sorted) order straight from the field values.
struct CompiledResource: Sendable {
    let index: Int
    let selector: CompiledField
    let fields: [CompiledField]
    /// Where the resource starts in its file, if known.
    let location: SourceLocation?
    /// This resource's part of the mapping program (`MappingProgram.resource`).
    let source: String
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

    init(index: Int, resource: ResourceMapping) {
        self.index = index
        location = resource.location
        selector = CompiledField(path: "selector.query", name: "query", expression: resource.selectorQuery)
        let mappings = resource.mappings
        var fields: [CompiledField] = []
        func add(_ path: String, _ name: String, _ expression: MappingExpression?) -> Int? {
            guard let expression else { return nil }
            fields.append(CompiledField(path: path, name: name, expression: expression))
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
            let sorted = slotByName.keys.sorted().compactMap { slotByName[$0] }
            return (sorted, order)
        }
        propertySlots = group("properties", mappings.properties).sorted
        let relations = group("relations", mappings.relations)
        relationSlots = relations.sorted
        relationOrder = relations.order
        self.fields = fields
        source = MappingProgram.resource(selector: selector.source, fields: fields.map(\.source))
    }

    /// The field at a progress slot (0: the selector).
    func field(atSlot slot: Int) -> CompiledField {
        slot > 0 && slot <= fields.count ? fields[slot - 1] : selector
    }

    /// `(path, expression)` of the selector and every field, in evaluation order.
    var descriptions: [(path: String, expression: String)] {
        [(selector.path, selector.expression.text)] + fields.map { ($0.path, $0.expression.text) }
    }

    /// Builds the result from the program's output: the selector's collected outputs, then each
    /// field's when the selector was true.
    func map(_ output: consuming JQReference, ref: EntityRef) -> MappingResult {
        // The selector first: false means the entity is not generated and no field was evaluated.
        switch MappingProgram.firstOutput(of: output.element(0)) {
        case .value(let value):
            let kind = value.kind
            if kind == JV_KIND_FALSE { return MappingResult(resourceIndex: index, outcome: .filtered, warnings: []) }
            if kind != JV_KIND_TRUE {
                return selectorError("must yield a boolean, got \(CompiledResource.typeName(kind))")
            }
        case .none:
            return selectorError("must yield a boolean, got no output")
        case .error(let message):
            return selectorError("failed: \(message)")
        }
        guard output.count == fields.count + 1 else {
            return failed("unexpected result from the mapping program")
        }

        var warnings: [MappingWarning] = []
        var multipleOutputs: [String: Int] = [:]
        var values = JQReferenceList(capacity: fields.count)
        for (slot, field) in fields.enumerated() {
            let collected = output.element(slot + 1)
            if let outputs = MappingProgram.severalOutputs(in: collected) { multipleOutputs[field.path] = outputs }
            switch MappingProgram.firstOutput(of: collected) {
            case .value(let value):
                values.append(value)
            case .none:
                values.append(.null)
                warnings.append(MappingWarning(resourceIndex: index, field: field.path, expression: field.expression.text,
                                               entity: ref, problem: .noOutput))
            case .error(let message):
                values.append(.null)
                warnings.append(MappingWarning(resourceIndex: index, field: field.path, expression: field.expression.text,
                                               entity: ref, problem: .error(message)))
            }
        }

        let identifier: String
        switch values.withElement(identifierSlot, CompiledResource.nonEmptyString) {
        case .success(let text): identifier = text
        case .failure(.empty): return dropped(.emptyIdentifier, warnings)
        case .failure(.notString(let type)): return dropped(.identifierNotString(type), warnings)
        }
        let blueprint: String
        switch values.withElement(blueprintSlot, CompiledResource.nonEmptyString) {
        case .success(let text): blueprint = text
        case .failure(.empty): return dropped(.emptyBlueprint, warnings)
        case .failure(.notString(let type)): return dropped(.blueprintNotString(type), warnings)
        }

        let bytes = writeBody(values)
        var targets: [RelationTarget] = []
        for slot in relationOrder {
            values.withElement(slot) { value in
                CompiledResource.collectTargets(of: value, relation: fields[slot].name, into: &targets)
            }
        }
        let entity = PortEntity(identifier: identifier, blueprint: blueprint, canonical: bytes, relationTargets: targets)
        return MappingResult(resourceIndex: index, outcome: .entity(entity), warnings: warnings, multipleOutputs: multipleOutputs)
    }

    /// The entity could not be mapped by this resource: an error, and the run must not delete.
    func failed(_ problem: String) -> MappingResult {
        MappingResult(resourceIndex: index, outcome: .selectorError(problem), warnings: [])
    }

    /// The relation targets in one relation value: a string, or the strings of an array.
    private static func collectTargets(of value: borrowing JQReference, relation: String, into targets: inout [RelationTarget]) {
        switch value.kind {
        case JV_KIND_STRING:
            targets.append(RelationTarget(relation: relation, identifier: value.string))
        case JV_KIND_ARRAY:
            for position in 0..<value.count {
                let item = value.element(position)
                if item.kind == JV_KIND_STRING { targets.append(RelationTarget(relation: relation, identifier: item.string)) }
            }
        default:
            break
        }
    }

    /// The canonical bytes of the body: the mapped keys assembled as one jv object and printed
    /// canonically (`CanonicalJSON`), the same rule as every other hash in mirrorctl.
    private func writeBody(_ values: borrowing JQReferenceList) -> [UInt8] {
        var body = JQReference.object()
        set(&body, "blueprint", blueprintSlot, values)
        set(&body, "icon", iconSlot, values)
        set(&body, "identifier", identifierSlot, values)
        setGroup(&body, "properties", propertySlots, values)
        setGroup(&body, "relations", relationSlots, values)
        set(&body, "team", teamSlot, values)
        set(&body, "title", titleSlot, values)
        return body.canonicalBytes()
    }

    private func set(_ body: inout JQReference, _ key: String, _ slot: Int?, _ values: borrowing JQReferenceList) {
        guard let slot else { return }
        body.set(key, values.withElement(slot) { $0.copy() })
    }

    private func setGroup(_ body: inout JQReference, _ key: String, _ slots: [Int]?, _ values: borrowing JQReferenceList) {
        guard let slots else { return }
        var object = JQReference.object()
        for slot in slots { object.set(fields[slot].name, values.withElement(slot) { $0.copy() }) }
        body.set(key, object)
    }

    private func selectorError(_ problem: String) -> MappingResult {
        failed("selector.query `\(selector.expression.text)` \(problem)")
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
    private static func nonEmptyString(_ value: borrowing JQReference) -> Result<String, NotUsable> {
        let kind = value.kind
        switch kind {
        case JV_KIND_STRING:
            let text = value.string
            return text.isEmpty ? .failure(.empty) : .success(text)
        case JV_KIND_NULL, JV_KIND_FALSE, JV_KIND_INVALID:
            return .failure(.empty)
        case JV_KIND_NUMBER:
            return value.number == 0 ? .failure(.empty) : .failure(.notString("number"))
        case JV_KIND_ARRAY:
            return value.count == 0 ? .failure(.empty) : .failure(.notString("array"))
        case JV_KIND_OBJECT:
            return value.count == 0 ? .failure(.empty) : .failure(.notString("object"))
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

