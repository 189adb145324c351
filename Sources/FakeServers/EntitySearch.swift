
/// What Backstage's search table holds for an entity key (reference §1.8), computed on demand:
/// every leaf path lower-cased, arrays of primitives as both `path=item` and `path.item=true`,
/// relations as `relations.<type>=<targetRef>`, no `status`, `attachments` or `metadata.etag`.
enum EntitySearch {
    /// Values longer than this are stored as NULL: they match only an "exists" filter.
    static let maximumValueLength = 200

    /// The lower-cased values stored under `key` (lower-case already); `nil` elements are present
    /// but NULL. Empty when the entity has no such key.
    static func values(forKey key: String, in entity: FakeJSON) -> [String?] {
        var found: [String?] = []
        if key.hasPrefix("relations.") {
            let type = key.dropFirst("relations.".count)
            for relation in entity["relations"]?.arrayValue ?? [] {
                guard relation["type"]?.stringValue?.lowercased() == String(type),
                      let target = relation["targetRef"]?.stringValue else { continue }
                found.append(stored(target))
            }
            return found
        }
        if key == "metadata.etag" { return [] }
        guard case .object(let root) = entity else { return [] }
        for (member, value) in root {
            let lowered = member.lowercased()
            if lowered == "relations" || lowered == "status" || lowered == "attachments" { continue }
            collect(member: lowered, value: value, rest: Substring(key), into: &found)
        }
        return found
    }

    /// Whether `entity` has `key` at all.
    static func has(key: String, in entity: FakeJSON) -> Bool {
        !values(forKey: key, in: entity).isEmpty
    }

    private static func collect(member: String, value: FakeJSON, rest: Substring, into found: inout [String?]) {
        if rest == member {
            leaf(value, into: &found)
            return
        }
        guard rest.count > member.count, rest.hasPrefix(member),
              rest[rest.index(rest.startIndex, offsetBy: member.count)] == "." else { return }
        descend(value, rest: rest.dropFirst(member.count + 1), into: &found)
    }

    private static func descend(_ node: FakeJSON, rest: Substring, into found: inout [String?]) {
        switch node {
        case .object(let members):
            for (member, value) in members { collect(member: member.lowercased(), value: value, rest: rest, into: &found) }
        case .array(let items):
            for item in items {
                switch item {
                case .object, .array: descend(item, rest: rest, into: &found)
                default:
                    // `metadata.tags.java` = true for a tag `java`.
                    if let text = scalarText(item), text == rest { found.append("true") }
                }
            }
        default:
            return
        }
    }

    private static func leaf(_ value: FakeJSON, into found: inout [String?]) {
        switch value {
        case .object:
            return
        case .array(let items):
            for item in items {
                if case .object = item { continue }
                if case .array = item { continue }
                found.append(scalarText(item).flatMap(stored))
            }
        default:
            found.append(scalarText(value).flatMap(stored))
        }
    }

    /// A scalar as the search table prints it (lower-cased); nil for null.
    private static func scalarText(_ value: FakeJSON) -> String? {
        switch value {
        case .string(let text): return text.lowercased()
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        default: return nil
        }
    }

    private static func stored(_ text: String) -> String? {
        let lowered = text.lowercased()
        return lowered.count > maximumValueLength ? nil : lowered
    }
}
