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
    private(set) var outcomes: [Outcome]
    private(set) var counts: [Int]

    init(fields: Int) {
        values = JQReferenceList(capacity: fields)
        for _ in 0..<fields { values.append(.null) }
        outcomes = Array(repeating: .none, count: fields)
        counts = Array(repeating: 0, count: fields)
    }

    /// An output of the field at `index`; only its first is kept.
    mutating func output(_ value: consuming JQReference, field index: Int) {
        guard counts.indices.contains(index) else { return }
        counts[index] += 1
        guard counts[index] == 1 else { return }
        values.replace(at: index, with: value)
        outcomes[index] = .value
    }

    /// The error that ended the field at `index`: it counts only before the field's first output.
    mutating func error(_ message: String, field index: Int) {
        guard counts.indices.contains(index), counts[index] == 0, case .none = outcomes[index] else { return }
        outcomes[index] = .error(message)
    }
}
