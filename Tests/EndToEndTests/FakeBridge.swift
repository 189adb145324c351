import FakeServers
import Store

// The fakes have their own JSON value and take refs as text: they share no code with mirrorctl,
// so a misreading of Backstage or Port in mirrorctl is not mirrored by them. Tests that compare a
// fake's entities with what mirrorctl stored cross over here, value for value.

extension JSONValue {
    init(_ fake: FakeJSON) {
        switch fake {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .number(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(JSONValue.init))
        case .object(let members): self = .object(members.mapValues(JSONValue.init))
        }
    }
}

extension FakeJSON {
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .number(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(FakeJSON.init))
        case .object(let members): self = .object(members.mapValues(FakeJSON.init))
        }
    }
}

extension EntityRef {
    /// The ref of an entity the fake Backstage serves.
    init?(entity: FakeJSON) {
        self.init(entity: JSONValue(entity))
    }
}

extension FakeBackstage {
    @discardableResult
    func delete(_ ref: EntityRef) -> Bool { delete(ref.description) }

    func entity(_ ref: EntityRef) -> FakeJSON? { entity(ref.description) }
}
