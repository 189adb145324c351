/// mirrorctl's default mapping: Ocean's seed mapping with its known defects fixed (every
/// many-relation target kept, subcomponentOf and system from `partOf`, email and group type from
/// `spec`, links as URL strings, no `"null"` definitions). Also in `examples/mappings/builtin.yaml`.
public enum BuiltinMapping {
    /// The YAML text: `examples/mappings/builtin.yaml`, compiled into the binary.
    public static let yaml = String(decoding: PackageResources.builtin_yaml, as: UTF8.self)
}
