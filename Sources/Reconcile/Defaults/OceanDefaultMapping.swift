/// Port's default Backstage mapping (the "seed" of Ocean's integration), verbatim from Port's
/// documentation. Kept for compatibility testing and for users who want Ocean's exact output,
/// defects included (see `BuiltinMapping`). Also in `examples/mappings/ocean-default.yaml`.
public enum OceanDefaultMapping {
    /// The YAML text: `examples/mappings/ocean-default.yaml`, compiled into the binary.
    public static let yaml = String(decoding: PackageResources.ocean_default_yaml, as: UTF8.self)
}
