import Foundation

/// `include`/`exclude` projection of entity JSON (port-api.md §5.6, §5.9). Paths are entity-JSON
/// paths (`identifier`, `properties.url`, `relations.owner`), `$`-prefixed meta-properties
/// (`$identifier`), or bare property names (`url` = `properties.url`).
struct FakePortProjection {
    private let include: [[String]]
    private let exclude: [[String]]

    private static let topLevel: Set<String> = [
        "identifier", "title", "icon", "team", "blueprint", "properties", "relations", "createdAt", "createdBy",
        "updatedAt", "updatedBy",
    ]

    init(include: [String], exclude: [String]) {
        self.include = include.map(Self.path)
        self.exclude = exclude.map(Self.path)
    }

    /// From the query string: `include`/`exclude` (or `include[]`/`exclude[]`), repeated or comma-joined.
    init(query request: HTTPRequest) {
        func values(_ name: String) -> [String] {
            (request.queryValues(name) + request.queryValues(name + "[]"))
                .flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
                .filter { !$0.isEmpty }
        }
        self.init(include: values("include"), exclude: values("exclude"))
    }

    var isEmpty: Bool { include.isEmpty && exclude.isEmpty }

    func apply(_ entity: FakeJSON) -> FakeJSON {
        guard !isEmpty else { return entity }
        var result: FakeJSON = entity
        if !include.isEmpty {
            result = .object([:])
            for path in include {
                if let value = entity[path: path] { Self.set(value, at: path[...], in: &result) }
            }
        }
        for path in exclude { Self.remove(path[...], from: &result) }
        return result
    }

    private static func path(_ text: String) -> [String] {
        if text.hasPrefix("$") { return [String(text.dropFirst())] }
        if text.contains(".") { return text.split(separator: ".").map(String.init) }
        return topLevel.contains(text) ? [text] : ["properties", text]
    }

    private static func set(_ value: FakeJSON, at path: ArraySlice<String>, in target: inout FakeJSON) {
        guard let key = path.first, var members = target.objectValue else { return }
        if path.count == 1 {
            members[key] = value
        } else {
            var child = members[key] ?? .object([:])
            if child.objectValue == nil { child = .object([:]) }
            set(value, at: path.dropFirst(), in: &child)
            members[key] = child
        }
        target = .object(members)
    }

    private static func remove(_ path: ArraySlice<String>, from target: inout FakeJSON) {
        guard let key = path.first, var members = target.objectValue else { return }
        if path.count == 1 {
            members[key] = nil
        } else if var child = members[key] {
            remove(path.dropFirst(), from: &child)
            members[key] = child
        }
        target = .object(members)
    }
}
