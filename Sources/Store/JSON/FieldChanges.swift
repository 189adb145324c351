/// One field that differs between two JSON documents: where, and the value on each side
/// (nil when the field is absent on that side).
public struct FieldChange: Sendable, Equatable {
    /// The field's path, such as `spec.owner`, `metadata.tags[1]` or
    /// `metadata.annotations["backstage.io/techdocs-ref"]` (see `FieldChanges.path`).
    public let path: String
    public let old: JSONValue?
    public let new: JSONValue?

    public init(path: String, old: JSONValue?, new: JSONValue?) {
        self.path = path
        self.old = old
        self.new = new
    }

    /// `{"path", "old", "new"}`, an absent side as `null`.
    public var json: JSONValue {
        ["path": .string(path), "old": old ?? .null, "new": new ?? .null]
    }
}

/// The one rule for what changed between two JSON documents (entity versions in `diff`,
/// `history` and snapshot comparisons; mapped Port entities in the Port plan).
///
/// A document's *leaves* are its scalars and its empty objects and arrays. Every path that is a
/// leaf on either side is compared: the change is reported when the value at that path differs,
/// each side's value being whatever is there (a leaf, a container, or nothing). So a created
/// document lists every leaf it sets, a deleted one every leaf it had, and an edit only the leaves
/// it touched; arrays are compared index by index. Results are ordered by path, object keys in
/// the canonical (bytewise) order and array indices by number.
///
/// The view `v_field_changes` (migration 0010) is this rule in SQL over SQLite's `json_tree`,
/// path spelling included, so the command line and the SQL view name the same fields the same way.
public enum FieldChanges {
    /// The changes from `old` to `new` (nil: the document is absent).
    public static func between(_ old: JSONValue?, _ new: JSONValue?) -> [FieldChange] {
        var leaves: Set<[PathComponent]> = []
        for document in [old, new] {
            guard let document else { continue }
            collectLeaves(of: document, at: [], into: &leaves)
        }
        return leaves.sorted(by: PathComponent.precedes).compactMap { components in
            let before = old.flatMap { value(in: $0, at: components) }
            let after = new.flatMap { value(in: $0, at: components) }
            guard before != after else { return nil }
            return FieldChange(path: path(components), old: before, new: after)
        }
    }

    /// One step of a path: an object member or an array element.
    public enum PathComponent: Hashable, Sendable {
        case key(String)
        case index(Int)

        /// Keys in canonical JSON order (bytewise), indices by number, an index before a key.
        static func precedes(_ a: [PathComponent], _ b: [PathComponent]) -> Bool {
            for (x, y) in zip(a, b) where x != y {
                switch (x, y) {
                case (.index(let i), .index(let j)): return i < j
                case (.key(let k), .key(let l)): return Array(k.utf8).lexicographicallyPrecedes(Array(l.utf8))
                case (.index, .key): return true
                case (.key, .index): return false
                }
            }
            return a.count < b.count
        }
    }

    /// The text of a path: `.name` for a key of ASCII letters and digits starting with a letter,
    /// `["key"]` (the key as a canonical JSON string) for any other key, `[n]` for an array index;
    /// no leading dot. The same keys SQLite's `json_tree` leaves unquoted, so the SQL view agrees.
    public static func path(_ components: [PathComponent]) -> String {
        var text = ""
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key) where isPlain(key):
                text += text.isEmpty ? key : "." + key
            case .key(let key):
                text += "[" + CanonicalJSON.string(.string(key)) + "]"
            }
        }
        return text
    }

    private static func isPlain(_ key: String) -> Bool {
        guard let first = key.utf8.first, isASCIILetter(first) else { return false }
        return key.utf8.allSatisfy { isASCIILetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func collectLeaves(of value: JSONValue, at prefix: [PathComponent], into leaves: inout Set<[PathComponent]>) {
        switch value {
        case .object(let members) where !members.isEmpty:
            for (key, member) in members { collectLeaves(of: member, at: prefix + [.key(key)], into: &leaves) }
        case .array(let elements) where !elements.isEmpty:
            for (index, element) in elements.enumerated() { collectLeaves(of: element, at: prefix + [.index(index)], into: &leaves) }
        default:
            leaves.insert(prefix)
        }
    }

    private static func value(in document: JSONValue, at components: [PathComponent]) -> JSONValue? {
        var current = document
        for component in components {
            switch (component, current) {
            case (.key(let key), .object(let members)):
                guard let member = members[key] else { return nil }
                current = member
            case (.index(let index), .array(let elements)):
                guard elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}
