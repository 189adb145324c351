import Store

/// Turns raw Backstage descriptor documents (as written in catalog-info.yaml) into entities as the
/// catalog serves them: namespace defaulted, relations emitted in both directions like Backstage's
/// built-in processors, location annotations, stable uids and etags.
public enum CatalogProcessor {
    /// Materializes a whole set of descriptors at once (reverse relations need all of them).
    /// - Parameter location: the location string recorded in the managed-by annotations,
    ///   e.g. `file:/path/to/catalog-info.yaml`, one per descriptor (same order).
    public static func materialize(_ descriptors: [JSONValue], locations: [String]) -> [JSONValue] {
        fatalError("implemented by the descriptors work")
    }
}
