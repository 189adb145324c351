import CJQ
import Store

/// The raw entity as Ocean's Backstage integration hands it to the mapping: the Backstage entity
/// plus `metadata.identifier` = the lower-cased `kind:namespace/name` (`EntityRef.description`).
/// This is the only place the field is added; the stored mirror never has it.
public enum OceanInput {
    /// `entity` with `metadata.identifier` set (a `metadata` that is missing or not an object is
    /// replaced by one holding only the identifier).
    public static func withIdentifier(_ entity: JSONValue, ref: EntityRef) -> JSONValue {
        guard let prepared = prepare(taking: JQReference(entity), ref: ref) else { return entity }
        return prepared.toJSONValue()
    }

    /// The mapping input for an entity, or nil when the entity is not an object. The entity
    /// itself is not modified: jv objects are copied on write.
    static func prepare(_ entity: borrowing JQReference, ref: EntityRef) -> JQReference? {
        prepare(taking: entity.copy(), ref: ref)
    }

    /// `prepare` for an entity the caller hands over. When nothing else holds it (a walk's or the
    /// map stage's own parse), the identifier is added in place: the entity's `metadata` is
    /// detached while it is edited, so neither object is copied. When the value is shared, libjq
    /// copies on write and the other holders see no change, as with `prepare(_:ref:)`. Members
    /// keep their order either way (`metadata` keeps its place; `identifier` comes last).
    static func prepare(taking entity: consuming JQReference, ref: EntityRef) -> JQReference? {
        guard entity.kind == JV_KIND_OBJECT else { return nil }
        var metadata = entity.member("metadata")
        entity.set("metadata", .null)
        if metadata.kind != JV_KIND_OBJECT { metadata = .object() }
        metadata.set("identifier", JQReference(string: ref.description))
        entity.set("metadata", metadata)
        return entity
    }
}
