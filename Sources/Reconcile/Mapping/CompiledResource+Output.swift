import CJQ
import Store

/// Reading the mapping program's output for one resource into a `MappingResult`: Ocean's rules for
/// the selector, the identifier and blueprint, relation targets, and the canonical body.
extension CompiledResource {
    /// What the selector's collected outputs decide: nil when it was `true` (the fields follow),
    /// else the result: filtered for `false`, an error for anything else.
    func selectorOutcome(_ collected: consuming JQReference) -> MappingResult? {
        switch MappingProgram.firstOutput(of: collected) {
        case .value(let value):
            let kind = value.kind
            if kind == JV_KIND_TRUE { return nil }
            if kind == JV_KIND_FALSE { return MappingResult(resourceIndex: index, outcome: .filtered, warnings: []) }
            return selectorError("must yield a boolean, got \(CompiledResource.typeName(kind))")
        case .none:
            return selectorError("must yield a boolean, got no output")
        case .error(let message):
            return selectorError("failed: \(message)")
        }
    }

    /// Builds the result from what the fields yielded, once the selector was true.
    func map(_ outputs: borrowing FieldOutputs, ref: EntityRef) -> MappingResult {
        var warnings: [MappingWarning] = []
        var multipleOutputs: [String: Int] = [:]
        for (slot, field) in fields.enumerated() {
            if outputs.counts[slot] > 1 { multipleOutputs[field.path] = outputs.counts[slot] }
            switch outputs.outcome(slot) {
            case .value:
                break
            case .none:
                warnings.append(MappingWarning(resourceIndex: index, field: field.path, expression: field.expression.text,
                                               entity: ref, problem: .noOutput))
            case .error(let message):
                warnings.append(MappingWarning(resourceIndex: index, field: field.path, expression: field.expression.text,
                                               entity: ref, problem: .error(message)))
            }
        }

        let identifier: String
        switch outputs.values.withElement(identifierSlot, CompiledResource.nonEmptyString) {
        case .success(let text): identifier = text
        case .failure(.empty): return dropped(.emptyIdentifier, warnings)
        case .failure(.notString(let type)): return dropped(.identifierNotString(type), warnings)
        }
        let blueprint: String
        switch outputs.values.withElement(blueprintSlot, CompiledResource.nonEmptyString) {
        case .success(let text): blueprint = text
        case .failure(.empty): return dropped(.emptyBlueprint, warnings)
        case .failure(.notString(let type)): return dropped(.blueprintNotString(type), warnings)
        }

        let bytes = writeBody(outputs.values)
        var targets: [RelationTarget] = []
        for slot in relationOrder {
            outputs.values.withElement(slot) { value in
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
