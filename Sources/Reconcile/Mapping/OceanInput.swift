import CJQ
import Store

/// The raw entity as Ocean's Backstage integration hands it to the mapping: the Backstage entity
/// plus `metadata.identifier` = the lower-cased `kind:namespace/name` (`EntityRef.description`).
/// This is the only place the field is added; the stored mirror never has it.
public enum OceanInput {
    /// `entity` with `metadata.identifier` set (a `metadata` that is missing or not an object is
    /// replaced by one holding only the identifier).
    public static func withIdentifier(_ entity: JSONValue, ref: EntityRef) -> JSONValue {
        let value = JQReference(entity)
        guard let prepared = prepare(value, ref: ref) else { return entity }
        return prepared.toJSONValue()
    }

    /// The mapping input for an entity, or nil when the entity is not an object. The entity
    /// itself is not modified: jv objects are copied on write.
    static func prepare(_ entity: borrowing JQReference, ref: EntityRef) -> JQReference? {
        guard entity.kind == JV_KIND_OBJECT else { return nil }
        var metadata = entity.member("metadata")
        if metadata.kind != JV_KIND_OBJECT { metadata = .object() }
        metadata.set("identifier", JQReference(string: ref.description))
        var prepared = entity.copy()
        prepared.set("metadata", metadata)
        return prepared
    }
}
