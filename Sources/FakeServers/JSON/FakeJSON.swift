/// The fakes' own JSON value: what the fake Backstage stores and serves and what the fake Port
/// validates. It is deliberately not mirrorctl's `JSONValue`: the fakes check the product, so
/// they share none of its code. Numbers are doubles, as in JavaScript (Backstage is a Node
/// service, and Port's API speaks JSON the same way).
public enum FakeJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([FakeJSON])
    case object([String: FakeJSON])

    /// The member `key` of an object; nil for a missing member or a value that is no object.
    public subscript(key: String) -> FakeJSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The value under the keys of `path` in turn (`["metadata", "name"]`), like lodash `get`.
    public subscript(path path: [String]) -> FakeJSON? {
        path.reduce(Optional(self)) { node, key in node?[key] }
    }

    public var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    public var boolValue: Bool? {
        guard case .bool(let flag) = self else { return nil }
        return flag
    }

    public var numberValue: Double? {
        guard case .number(let number) = self else { return nil }
        return number
    }

    public var arrayValue: [FakeJSON]? {
        guard case .array(let items) = self else { return nil }
        return items
    }

    public var objectValue: [String: FakeJSON]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    public var isNull: Bool { self == .null }
}

/// Literals, so tests and fixtures read like the JSON they stand for.
extension FakeJSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral flag: Bool) { self = .bool(flag) }
    public init(integerLiteral number: Int) { self = .number(Double(number)) }
    public init(floatLiteral number: Double) { self = .number(number) }
    public init(stringLiteral text: String) { self = .string(text) }
    public init(arrayLiteral items: FakeJSON...) { self = .array(items) }
    public init(dictionaryLiteral members: (String, FakeJSON)...) {
        // A repeated key keeps its last value, as JSON.parse does.
        self = .object(Dictionary(members, uniquingKeysWith: { $1 }))
    }
}
