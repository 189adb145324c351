import Fetch
import Foundation
import Reconcile
import Store

/// `--mapping port:INTEGRATION_ID`: the mapping kept in Port's integration config
/// (`GET /v1/integration/{id}` → `integration.config`), as Ocean reads it, so teams that edit
/// the mapping in Port's UI keep doing so.
enum PortMappingSource {
    static let prefix = "port:"

    static func isPortMapping(_ path: String?) -> Bool { path?.hasPrefix(prefix) == true }

    /// Fetches and compiles the integration's mapping. A missing integration or an empty or
    /// invalid config is a configuration error (exit 2); Port unreachable is a failure (exit 1).
    static func load(_ reference: String, configuration: Configuration,
                     compiledBefore: (String) -> Bool = { _ in false }) throws -> LoadedMapping {
        let identifier = String(reference.dropFirst(prefix.count))
        guard !identifier.isEmpty else { throw UsageError("--mapping \(reference): expected port:INTEGRATION_ID") }
        guard let credentials = configuration.portCredentials else {
            throw UsageError("--mapping \(reference) reads the mapping from Port: set PORT_CLIENT_ID and PORT_CLIENT_SECRET")
        }
        let client = try PortClient(baseURL: configuration.portBaseURL,
                                    auth: PortAuth(baseURL: configuration.portBaseURL, credentials: credentials),
                                    transport: configuration.portTransport)
        let integration: JSONValue
        do {
            integration = try client.integration(identifier)
        } catch PortError.http(404, _, _, _) {
            throw UsageError("--mapping \(reference): Port has no integration '\(identifier)'")
        }
        guard let config = integration["config"], let members = config.objectValue, !members.isEmpty else {
            throw UsageError("--mapping \(reference): the integration's config is empty (Ocean refuses to run with it too)")
        }
        // JSON is YAML: the canonical text is parsed like a file, and its hash tracks changes.
        do {
            return try LoadedMapping.make(text: CanonicalJSON.string(config), file: reference, compiledBefore: compiledBefore)
        } catch {
            throw UsageError("\(error)")
        }
    }
}
