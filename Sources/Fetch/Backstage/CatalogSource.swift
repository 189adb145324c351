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

/// One entity as an etag-first scan sees it: identity only, no body.
public struct ScannedRef: Sendable {
    public let ref: EntityRef
    public let uid: String?
    public let etag: String?
}

/// A source that can list refs with uids and etags cheaply and fetch bodies by ref, so a sync
/// downloads only what changed.
public protocol IncrementalCatalogSource: CatalogSource {
    /// Walks `kind` projected to kind, namespace, name, uid and etag.
    func scan(kind: String, onPage: ([ScannedRef]) throws -> Void) throws
    /// Full bodies of `refs`, in order; nil where the catalog no longer has one.
    func fetch(refs: [String]) throws -> [JQValue?]
}

/// Opens the source named by a `--backstage-url`: `file:PATH` reads descriptor YAML, anything
/// else is a Backstage base URL.
public func openCatalogSource(url: String, token: String?, pageSize: Int, transport: TransportOptions,
                              retry: RetryPolicy) throws -> CatalogSource {
    if isLocalCatalogURL(url) {
        return LocalCatalogSource(path: String(url.dropFirst("file:".count)))
    }
    return try BackstageClient(baseURL: url, token: token, pageSize: pageSize, transport: transport, retry: retry)
}

/// `file:PATH` names a local folder of descriptors; only a Backstage server can scan by etag.
public func isLocalCatalogURL(_ url: String) -> Bool { url.hasPrefix("file:") }
