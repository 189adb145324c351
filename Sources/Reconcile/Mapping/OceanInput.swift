import CJQ
import Store

/// The raw entity as Ocean's Backstage integration hands it to the mapping: the Backstage entity
/// plus `metadata.identifier` = the lower-cased `kind:namespace/name` (`EntityRef.description`).
/// This is the only place the field is added; the stored mirror never has it.
public enum OceanInput {
    /// `entity` with `metadata.identifier` set (a `metadata` that is missing or not an object is
    /// replaced by one holding only the identifier).
    public static func withIdentifier(_ entity: JSONValue, ref: EntityRef) -> JSONValue {
        let value = JQValue(entity)
        guard let prepared = prepare(value.raw, ref: ref) else { return entity }
        return JQValue(consuming: prepared).toJSONValue()
    }

    /// The mapping input for a borrowed entity jv (owned result), or nil when the entity is not
    /// an object. The entity itself is not modified: jv objects are copied on write.
    static func prepare(_ entity: jv, ref: EntityRef) -> jv? {
        guard jv_get_kind(entity) == JV_KIND_OBJECT else { return nil }
        var metadata = jv_object_get(jv_copy(entity), jv_string("metadata"))
        if jv_get_kind(metadata) != JV_KIND_OBJECT {
            jv_free(metadata)
            metadata = jv_object()
        }
        metadata = jv_object_set(metadata, jv_string("identifier"), JQValue.makeString(ref.description))
        return jv_object_set(jv_copy(entity), jv_string("metadata"), metadata)
    }
}
