import Foundation

/// An entity ref as Backstage's catalog-model writes and reads it (reference §3.3): the fakes'
/// own reading of the rule, so a misreading in mirrorctl's `EntityRef` shows up in tests.
struct BackstageRef: Hashable, Sendable, CustomStringConvertible {
    let kind: String
    let namespace: String
    let name: String

    /// `stringifyEntityRef`: every part lower-cased, the namespace `default` when not given.
    init(kind: String, namespace: String?, name: String) {
        self.kind = kind.lowercased()
        let namespace = namespace ?? ""
        self.namespace = namespace.isEmpty ? "default" : namespace.lowercased()
        self.name = name.lowercased()
    }

    /// `parseEntityRef` with no defaults: `[kind:][namespace/]name` on the trimmed text, parts
    /// free of `:` and `/`; a kind is required, a namespace defaults to `default`.
    init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var rest = Substring(trimmed)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let kind = rest[..<colon]
        rest = rest[rest.index(after: colon)...]
        var namespace: Substring?
        if let slash = rest.firstIndex(of: "/") {
            namespace = rest[..<slash]
            rest = rest[rest.index(after: slash)...]
        }
        let parts = [kind, namespace ?? "default", rest]
        guard parts.allSatisfy({ !$0.isEmpty && !$0.contains(":") && !$0.contains("/") }) else { return nil }
        self.init(kind: String(kind), namespace: namespace.map(String.init), name: String(rest))
    }

    /// The ref of an entity (`kind`, `metadata.namespace`, `metadata.name`); nil without kind or name.
    init?(entity: FakeJSON) {
        guard let kind = entity["kind"]?.stringValue, let name = entity[path: ["metadata", "name"]]?.stringValue
        else { return nil }
        self.init(kind: kind, namespace: entity[path: ["metadata", "namespace"]]?.stringValue, name: name)
    }

    var description: String { "\(kind):\(namespace)/\(name)" }
}
