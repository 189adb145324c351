
/// A search query (port-api.md §5.9): nested `and`/`or` groups of rules over meta-properties
/// (`$identifier`, `$blueprint`, `$title`, `$team`, `$datasource`, `$updatedAt`, …) and plain properties.
indirect enum FakePortQuery {
    case group(isAnd: Bool, rules: [FakePortQuery])
    case rule(property: String, operator: String, value: FakeJSON?)

    static let operators: Set<String> = [
        "=", "!=", "in", "notIn", "contains", "doesNotContains", "containsAny", "beginsWith", "doesNotBeginsWith",
        "endsWith", "doesNotEndsWith", "isEmpty", "isNotEmpty", ">", ">=", "<", "<=", "between", "notBetween",
    ]
    private static let valueless: Set<String> = ["isEmpty", "isNotEmpty"]

    /// Parses a `{combinator, rules}` object; `at` names it in messages (AJV style).
    static func parse(_ json: FakeJSON, at path: String) throws(FakePortError) -> FakePortQuery {
        guard let members = json.objectValue else { throw .invalid("\(path) must be object") }
        guard let combinator = members["combinator"] else {
            throw .invalid("\"\(path)\" must have required property 'combinator'")
        }
        guard let name = combinator.stringValue, name == "and" || name == "or" else {
            throw .invalid("\(path)/combinator must be equal to one of the allowed values (and, or)")
        }
        guard let rules = members["rules"] else { throw .invalid("\"\(path)\" must have required property 'rules'") }
        guard let items = rules.arrayValue else { throw .invalid("\(path)/rules must be array") }
        var parsed: [FakePortQuery] = []
        for (index, item) in items.enumerated() {
            let at = "\(path)/rules/\(index)"
            if item["combinator"] != nil {
                parsed.append(try parse(item, at: at))
            } else {
                parsed.append(try rule(item, at: at))
            }
        }
        return .group(isAnd: name == "and", rules: parsed)
    }

    private static func rule(_ json: FakeJSON, at path: String) throws(FakePortError) -> FakePortQuery {
        guard let members = json.objectValue else { throw .invalid("\(path) must be object") }
        guard let op = members["operator"]?.stringValue else { throw .invalid("\(path) must have required property 'operator'") }
        guard operators.contains(op) else {
            throw .invalid("\(path)/operator '\(op)' is not supported by the fake Port")
        }
        guard let property = members["property"]?.stringValue else {
            throw .invalid("\(path) must have required property 'property' (a string; other rule forms are not supported)")
        }
        let value = members["value"]
        if !valueless.contains(op), value == nil { throw .invalid("\(path) must have required property 'value'") }
        if op == "in" || op == "notIn" || op == "containsAny", value?.arrayValue == nil {
            throw .invalid("\(path)/value must be array")
        }
        return .rule(property: property, operator: op, value: value)
    }

    func matches(_ entity: FakePortEntity) -> Bool {
        switch self {
        case .group(let isAnd, let rules):
            return isAnd ? rules.allSatisfy { $0.matches(entity) } : rules.contains { $0.matches(entity) }
        case .rule(let property, let op, let value):
            return Self.evaluate(op, entity.searchValue(property), value ?? .null)
        }
    }

    private static func evaluate(_ op: String, _ actual: FakeJSON?, _ expected: FakeJSON) -> Bool {
        let candidates: [FakeJSON] = actual.map { $0.arrayValue ?? [$0] } ?? []
        let strings = candidates.compactMap(\.stringValue)
        switch op {
        case "=": return equals(actual, expected)
        case "!=": return !equals(actual, expected)
        case "in": return (expected.arrayValue ?? []).contains { equals(actual, $0) }
        case "notIn": return !(expected.arrayValue ?? []).contains { equals(actual, $0) }
        case "contains": return contains(candidates, expected)
        case "doesNotContains": return !contains(candidates, expected)
        case "containsAny": return (expected.arrayValue ?? []).contains { candidates.contains($0) || contains(candidates, $0) }
        case "beginsWith": return strings.contains { $0.hasPrefix(expected.stringValue ?? "\u{0}") }
        case "doesNotBeginsWith": return !strings.contains { $0.hasPrefix(expected.stringValue ?? "\u{0}") }
        case "endsWith": return strings.contains { $0.hasSuffix(expected.stringValue ?? "\u{0}") }
        case "doesNotEndsWith": return !strings.contains { $0.hasSuffix(expected.stringValue ?? "\u{0}") }
        case "isEmpty": return isEmpty(actual)
        case "isNotEmpty": return !isEmpty(actual)
        case ">", ">=", "<", "<=": return compare(op, actual, expected)
        case "between": return between(actual, expected)
        case "notBetween": return !between(actual, expected)
        default: return false
        }
    }

    /// JSON equality; `null` matches an absent value; a scalar matches an array holding it.
    private static func equals(_ actual: FakeJSON?, _ expected: FakeJSON) -> Bool {
        guard let actual else { return expected.isNull }
        if actual == expected { return true }
        if let items = actual.arrayValue, expected.arrayValue == nil { return items.contains(expected) }
        return false
    }

    /// Substring match on strings, element match on arrays; an array `value` means any of them.
    private static func contains(_ candidates: [FakeJSON], _ expected: FakeJSON) -> Bool {
        if let options = expected.arrayValue { return options.contains { contains(candidates, $0) } }
        guard let needle = expected.stringValue else { return candidates.contains(expected) }
        return candidates.contains { $0 == expected || ($0.stringValue?.contains(needle) ?? false) }
    }

    private static func isEmpty(_ actual: FakeJSON?) -> Bool {
        switch actual {
        case nil, .null?: return true
        case .string(let text)?: return text.isEmpty
        case .array(let items)?: return items.isEmpty
        case .object(let members)?: return members.isEmpty
        default: return false
        }
    }

    /// Numbers numerically; strings (ISO dates) lexically.
    private static func compare(_ op: String, _ actual: FakeJSON?, _ expected: FakeJSON) -> Bool {
        let order: Int
        switch (actual, expected) {
        case (.number(let a)?, .number(let b)): order = a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a)?, .string(let b)): order = a < b ? -1 : (a > b ? 1 : 0)
        default: return false
        }
        switch op {
        case ">": return order > 0
        case ">=": return order >= 0
        case "<": return order < 0
        default: return order <= 0
        }
    }

    /// `{from, to}` (ISO strings, either may be absent); presets are not supported.
    private static func between(_ actual: FakeJSON?, _ expected: FakeJSON) -> Bool {
        guard let value = actual?.stringValue, expected.objectValue != nil else { return false }
        if let from = expected["from"]?.stringValue, value < from { return false }
        if let to = expected["to"]?.stringValue, value > to { return false }
        return true
    }
}
