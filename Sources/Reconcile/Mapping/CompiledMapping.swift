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
    /// What the fields of the running resource have yielded so far.
    private var fieldOutputs = FieldOutputs(fields: 0)

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
        map(taking: entity.copy(), ref: ref)
    }

    /// `map` for an entity the caller no longer needs (its last use): the input is then made from
    /// it in place instead of from a copy (`OceanInput.prepare(taking:ref:)`).
    public func map(taking entity: consuming JQReference, ref: EntityRef) -> [MappingResult] {
        let indices = resourceIndices(forKind: ref.kind)
        guard !indices.isEmpty else { return [] }
        guard let input = OceanInput.prepare(taking: entity, ref: ref) else {
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

    /// Keeps `program` and routes its `debug` output (the field markers) to `marker`.
    private func install(_ program: JQProgram) {
        self.program = program
        program.onDebug(context: Unmanaged.passUnretained(self).toOpaque()) { context, value in
            if let context {
                Unmanaged<CompiledMapping>.fromOpaque(context)._withUnsafeGuaranteedRef {
                    $0.marker(JQReference(adopting: value))
                }
            } else {
                _ = JQReference(adopting: value)
            }
        }
    }

    /// A `debug` output. The program's marker before each field is the input pair itself, and a
    /// field's error is `[pair, error]` (the same pair, which no expression sees or rebuilds into
    /// an identical value); anything else is an expression's own `debug`, passed over.
    private func marker(_ value: consuming JQReference) {
        guard value.kind == JV_KIND_ARRAY else { return }
        if value.copy().isIdentical(to: markerPair) {
            markerSlot += 1
            progress.at(resource: markerResource, slot: markerSlot)
        } else if value.count == 2, value.element(0).isIdentical(to: markerPair), markerSlot > 0 {
            fieldOutputs.error(JQErrorText.describeErrorValue(value.takeElement(1)), field: markerSlot - 1)
        }
    }

    /// Runs one resource on the prepared input: the selector's collected outputs first, then, when
    /// it was true, every field's outputs as they stream out (`MappingProgram`).
    private func run(_ resource: CompiledResource, input: borrowing JQReference, ref: EntityRef, program: JQProgram) -> MappingResult {
        var pair = JQReference.array(capacity: 2)
        pair.append(JQReference(number: Double(resource.index)))
        pair.append(input.copy())
        markerPair = pair.copy()
        markerResource = resource.index
        markerSlot = 0
        progress.at(resource: resource.index, slot: 0)
        defer { markerPair = .null }
        program.start(consuming: pair)
        let selector = program.next()
        guard selector.kind == JV_KIND_ARRAY else { return ended(selector, resource, program) }
        if let decided = resource.selectorOutcome(selector) { return decided }
        fieldOutputs = FieldOutputs(fields: resource.fields.count)
        while true {
            let output = program.next()
            guard output.kind != JV_KIND_INVALID else {
                if output.hasInvalidMessage || program.halted { return ended(output, resource, program) }
                break
            }
            fieldOutputs.output(output, field: markerSlot - 1)
        }
        return resource.map(fieldOutputs, ref: ref)
    }

    /// The program stopped early: `halt`/`halt_error` (every error is caught, but the message of an
    /// uncaught one is kept).
    private func ended(_ output: consuming JQReference, _ resource: CompiledResource, _ program: JQProgram) -> MappingResult {
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
