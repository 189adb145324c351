import Store

/// What the fields of one resource yielded while the mapping program streamed them
/// (`MappingProgram`): for each field, its first output, or the error raised before it, or
/// nothing; and how many outputs it had.
struct FieldOutputs: ~Copyable {
    enum Outcome {
        case none
        case value
        case error(String)
    }

    /// One value per field: the first output, or null until there is one.
    private(set) var values: JQReferenceList
    /// Outputs per field.
    private(set) var counts: [Int]
    /// The error that ended each field, when it came before any output.
    private var errors: [String?]

    init(fields: Int) {
        values = JQReferenceList(capacity: fields)
        for _ in 0..<fields { values.append(.null) }
        counts = Array(repeating: 0, count: fields)
        errors = Array(repeating: nil, count: fields)
    }

    /// The field at `index`: its value, the error raised before it, or nothing.
    func outcome(_ index: Int) -> Outcome {
        if counts[index] > 0 { return .value }
        return errors[index].map(Outcome.error) ?? .none
    }

    /// An output of the field at `index`; only its first is kept.
    mutating func output(_ value: consuming JQReference, field index: Int) {
        guard counts.indices.contains(index) else { return }
        counts[index] += 1
        if counts[index] == 1 { values.replace(at: index, with: value) }
    }

    /// The error that ended the field at `index`: it counts only before the field's first output.
    mutating func error(_ message: String, field index: Int) {
        guard counts.indices.contains(index), counts[index] == 0, errors[index] == nil else { return }
        errors[index] = message
    }
}
