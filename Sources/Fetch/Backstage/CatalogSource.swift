import Store

/// One page of a walk: parsed entity items, in server order.
public struct EntityPage {
    public let items: [JQValue]
    /// 1-based page number within the kind's walk.
    public let number: Int
    /// Bytes of the page as received.
    public let byteCount: Int
}

/// Where entities come from: a Backstage server or a local folder of descriptor files.
public protocol CatalogSource: AnyObject {
    /// What to record as the run's source: a URL or `file:` path, never a credential.
    var sourceDescription: String { get }
    /// Requests made and bytes received so far.
    var stats: SourceStats { get }
    /// Walks every entity of `kind`, page by page. Throws when the walk can't complete; pages
    /// already delivered stay delivered.
    func walk(kind: String, onPage: (EntityPage) throws -> Void) throws
}

public struct SourceStats: Sendable, Equatable {
    public var requests = 0
    public var bytes = 0
    public var retries = 0
    public init() {}
}

/// Opens the source named by a `--backstage-url`: `file:PATH` reads descriptor YAML, anything
/// else is a Backstage base URL.
public func openCatalogSource(url: String, token: String?, pageSize: Int, transport: TransportOptions,
                              retry: RetryPolicy) throws -> CatalogSource {
    if url.hasPrefix("file:") {
        return LocalCatalogSource(path: String(url.dropFirst("file:".count)))
    }
    return try BackstageClient(baseURL: url, token: token, pageSize: pageSize, transport: transport, retry: retry)
}
