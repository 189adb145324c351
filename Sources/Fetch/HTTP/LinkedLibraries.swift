import CCurl
import CYAML

/// The libcurl and libyaml this process runs, for `version --verbose` and bug reports.
public enum LinkedLibraries {
    /// libcurl's own summary: `libcurl/7.88.1 OpenSSL/3.0.17 zlib/1.2.13 …`.
    public static var curl: String { curl_version().map { String(cString: $0) } ?? "libcurl (unknown version)" }

    public static var yaml: String { yaml_get_version_string().map { String(cString: $0) } ?? "unknown" }
}
