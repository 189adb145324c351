import Store

/// Compares an entity as Port returns it with the body Port acknowledged, on the fields mirrorctl
/// sends and nothing else, tolerant of how Port normalizes what it stores:
///
/// - only keys present in the acknowledged body count (`title`, `icon`, `team`, each
///   `properties.<key>` and `relations.<key>`); anything else Port holds (other writers' properties
///   under `enableMergeEntity`, calculated properties, bookkeeping) is ignored;
/// - a key absent in Port equals `null`, and object members that are `null` are dropped on both
///   sides before comparing;
/// - `team` and relation values compare as sets of identifiers: `"a"` equals `["a"]`, and `null`
///   equals `[]`;
/// - numbers compare as doubles (`1` equals `1.0`).
enum DriftComparison {
    /// The search `include` list that returns every field of `body` worth comparing:
    /// `$identifier` plus `$title`, `$icon`, `$team`, `properties.<key>`, `relations.<key>`.
    static func includes(of body: JSONValue) -> Set<String> {
        var fields: Set<String> = ["$identifier"]
        guard let members = body.objectValue else { return fields }
        for meta in ["title", "icon", "team"] where members[meta] != nil { fields.insert("$\(meta)") }
        for group in ["properties", "relations"] {
            for key in (members[group]?.objectValue ?? [:]).keys { fields.insert("\(group).\(key)") }
        }
        return fields
    }

    /// The fields that differ, e.g. `["title", "properties.type"]`; empty when Port matches.
    static func differences(acknowledged: JSONValue, port: JSONValue) -> [String] {
        guard let sent = acknowledged.objectValue else { return [] }
        var changed: [String] = []
        for meta in ["title", "icon"] where sent[meta] != nil {
            if normalized(sent[meta]) != normalized(port[meta]) { changed.append(meta) }
        }
        if sent["team"] != nil, identifierSet(sent["team"]) != identifierSet(port["team"]) { changed.append("team") }
        let portProperties = port["properties"]?.objectValue ?? [:]
        for (key, value) in sent["properties"]?.objectValue ?? [:] where normalized(value) != normalized(portProperties[key]) {
            changed.append("properties.\(key)")
        }
        let portRelations = port["relations"]?.objectValue ?? [:]
        for (key, value) in sent["relations"]?.objectValue ?? [:] where identifierSet(value) != identifierSet(portRelations[key]) {
            changed.append("relations.\(key)")
        }
        return changed.sorted()
    }

    /// A value with null object members removed at every depth; absent becomes `null`.
    static func normalized(_ value: JSONValue?) -> JSONValue {
        guard let value else { return .null }
        switch value {
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            for (key, member) in members where !member.isNull { kept[key] = normalized(member) }
            return .object(kept)
        case .array(let items):
            return .array(items.map { normalized($0) })
        default:
            return value
        }
    }

    /// A relation or team value as a set: a string is a one-item set, null or absent the empty one.
    /// Anything else (a search-query object) is kept as itself.
    static func identifierSet(_ value: JSONValue?) -> IdentifierSet {
        switch value {
        case nil, .null?: return .set([])
        case .string(let identifier)?: return .set([identifier])
        case .array(let items)?:
            var identifiers: Set<String> = []
            for item in items {
                guard let text = item.stringValue else { return .other(normalized(value)) }
                identifiers.insert(text)
            }
            return .set(identifiers)
        case let other?:
            return .other(normalized(other))
        }
    }

    enum IdentifierSet: Equatable {
        case set(Set<String>)
        case other(JSONValue)
    }
}
