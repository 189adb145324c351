
/// The `fields` projection: keeps only the listed dotted paths, like lodash `get`/`set` per path;
/// paths that are missing are left out.
struct FieldProjection {
    let paths: [[String]]

    /// Parses comma-separated (and repeated) `fields` values; nil when none are given.
    init?(parameters: [String]) throws(BackstageError) {
        let fields = parameters.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !fields.isEmpty else { return nil }
        if fields.contains(where: { $0.contains("[") }) {
            throw .input("invalid fields, array type fields are not supported")
        }
        paths = fields.map { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
    }

    func apply(_ entity: FakeJSON) -> FakeJSON {
        var result: FakeJSON = .object([:])
        for path in paths {
            guard let value = entity[path: path] else { continue }
            result = Self.setting(value, at: path[...], in: result)
        }
        return result
    }

    private static func setting(_ value: FakeJSON, at path: ArraySlice<String>, in node: FakeJSON) -> FakeJSON {
        guard let key = path.first else { return value }
        var members = node.objectValue ?? [:]
        members[key] = setting(value, at: path.dropFirst(), in: members[key] ?? .object([:]))
        return .object(members)
    }
}
