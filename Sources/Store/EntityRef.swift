import CJQ
import Foundation

/// A Backstage entity reference in its canonical form `kind:namespace/name`, all lower-case
/// (what `stringifyEntityRef` emits and what relation `targetRef`s hold). The mirror keys entities
/// by it and Ocean's `metadata.identifier` equals it, so this is the one place it is built or parsed.
public struct EntityRef: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let kind: String
    public let namespace: String
    public let name: String
    /// `kind:namespace/name`, built once: a ref is made once per entity and then keys rows,
    /// messages and lookups at every stage of a run.
    public let description: String

    /// Lower-cases every part, as Backstage does; the namespace defaults to `default`.
    public init(kind: String, namespace: String?, name: String) {
        self.kind = kind.lowercased()
        let ns = namespace ?? ""
        self.namespace = ns.isEmpty ? "default" : ns.lowercased()
        self.name = name.lowercased()
        description = "\(self.kind):\(self.namespace)/\(self.name)"
    }

    /// Parses `[kind:][namespace/]name` (Backstage's short forms), filling the defaults given.
    /// Returns nil for text that is not a ref, or when no kind is given and there is no default.
    public init?(parsing text: String, defaultKind: String? = nil, defaultNamespace: String = "default") {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var rest = Substring(trimmed)
        var kind = defaultKind
        if let colon = rest.firstIndex(of: ":") {
            kind = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        var namespace = defaultNamespace
        if let slash = rest.firstIndex(of: "/") {
            namespace = String(rest[..<slash])
            rest = rest[rest.index(after: slash)...]
        }
        guard let kind, !kind.isEmpty, !namespace.isEmpty, !rest.isEmpty,
              !rest.contains(":"), !rest.contains("/"), !kind.contains("/")
        else { return nil }
        self.init(kind: kind, namespace: namespace, name: String(rest))
    }

    /// The ref an entity names: its string `kind` and `metadata.name`, and its `metadata.namespace`
    /// (absent or null: `default`). Nil without a string kind and name, or with a namespace that is
    /// not a string (`7` is not `default`). The one rule for reading a ref off an entity, whether
    /// a parsed page item (a `by-refs` answer checked against the ref asked for) or a Swift value.
    public init?(entity: JQValue) {
        guard let kind = entity.member("kind")?.stringValue, let metadata = entity.member("metadata"),
              let name = metadata.member("name")?.stringValue else { return nil }
        let namespace = metadata.member("namespace")
        if let namespace, namespace.kind != JV_KIND_STRING, namespace.kind != JV_KIND_NULL { return nil }
        self.init(kind: kind, namespace: namespace?.stringValue, name: name)
    }

    /// `init(entity:)` for an entity as a Swift value (a local file, a test fixture).
    public init?(entity: JSONValue) {
        self.init(entity: JQValue(entity))
    }

    /// A ref as the mirror stores it (the `description` of one): Store's readers decode the refs of
    /// their rows with it, so no stage above Store re-parses a ref it did not take from a user.
    /// Nil for a damaged row.
    init?(stored text: String) {
        self.init(parsing: text)
    }

    /// Why `value` can't be a kind, namespace or name: a NUL or other control character (C0,
    /// DEL, C1) would let one entity pass for another once the text is cut or printed. Nil when fine.
    public static func invalidCharacter(in value: String) -> Unicode.Scalar? {
        value.unicodeScalars.first(where: TerminalText.isControl)
    }

    // Equal parts make equal text: hashing the text alone hashes one string instead of four.
    public static func == (lhs: EntityRef, rhs: EntityRef) -> Bool {
        lhs.kind == rhs.kind && lhs.namespace == rhs.namespace && lhs.name == rhs.name
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
    public static func < (lhs: EntityRef, rhs: EntityRef) -> Bool { lhs.description < rhs.description }
}

