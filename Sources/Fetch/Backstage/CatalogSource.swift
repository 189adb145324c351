import CJQ
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
    /// What the source could not turn into entities while delivering the rest (a `file:` source's
    /// bad files and documents), known once a walk has run. Problems mean the walks are not the
    /// whole catalog: the run is partial and withholds deletes.
    var descriptorReport: DescriptorReport { get }
}

extension CatalogSource {
    /// A Backstage server serves only processed entities: nothing to report.
    public var descriptorReport: DescriptorReport { DescriptorReport() }
}

/// Descriptor files and documents a source could not read, and what it passed over on purpose.
public struct DescriptorReport: Sendable, Equatable {
    /// Every file or document that failed, in walk order.
    public var problems: [DescriptorProblem] = []
    /// Lines worth telling once that are not errors (URL targets not fetched).
    public var notices: [String] = []
    /// Documents that are not entities, one line each (debug detail).
    public var skipped: [String] = []

    public init(problems: [DescriptorProblem] = [], notices: [String] = [], skipped: [String] = []) {
        self.problems = problems
        self.notices = notices
        self.skipped = skipped
    }

    public var isEmpty: Bool { problems.isEmpty && notices.isEmpty && skipped.isEmpty }
}

public struct SourceStats: Sendable, Equatable {
    public var requests = 0
    public var bytes = 0
    public var retries = 0
    public init() {}
}

/// One page of an etag-first scan: each entity's identity (ref, uid, etag), no body.
///
/// A no-change sync reads nothing else, for every entity of the catalog, so the uids and etags are
/// compared in place, as the bytes of the parsed page, instead of as Swift strings. Owns the
/// page's jv values: use it on the thread that scanned it.
public final class ScannedPage {
    private let kind: String
    /// Each usable item's `metadata` object.
    private var metadata = JQReferenceList()
    private let nameKey = JQReference(string: "name")
    private let namespaceKey = JQReference(string: "namespace")
    private let uidKey = JQReference(string: "uid")
    private let etagKey = JQReference(string: "etag")

    /// Why items of the page were left out, one each: a namespace that is not a string, or a name
    /// or namespace with a control character, can't name an entity (the sync warns).
    public private(set) var rejected: [SnapshotEntity.Rejection] = []

    /// Keeps the items that have a `metadata.name` string (the others can't be an entity) and a
    /// valid identity.
    init(kind: String, items: [JQValue]) {
        self.kind = kind
        let metadataKey = JQReference(string: "metadata")
        metadata = JQReferenceList(capacity: items.count)
        for item in items where item.kind == JV_KIND_OBJECT {
            let value = item.reference.member(metadataKey)
            guard value.kind == JV_KIND_OBJECT, value.member(nameKey).kind == JV_KIND_STRING else { continue }
            if let rejection = identityProblem(value) {
                rejected.append(rejection)
                continue
            }
            metadata.append(value)
        }
    }

    /// Why `metadata`'s name or namespace can't be part of a ref (`SnapshotEntity`'s one rule), or nil.
    private func identityProblem(_ metadata: borrowing JQReference) -> SnapshotEntity.Rejection? {
        let namespaceKind = metadata.member(namespaceKey).kind
        if namespaceKind != JV_KIND_STRING, namespaceKind != JV_KIND_NULL, namespaceKind != JV_KIND_INVALID {
            return .notAString(field: "metadata.namespace", type: String(cString: jv_kind_name(namespaceKind)))
        }
        return SnapshotEntity.refProblem(kind: kind, namespace: metadata.member(namespaceKey).stringValue ?? "",
                                         name: metadata.member(nameKey).stringValue ?? "")
    }

    public var count: Int { metadata.count }

    /// The ref of entity `index` (the scan walks one kind).
    public func ref(at index: Int) -> EntityRef {
        metadata.withElement(index) { metadata in
            EntityRef(kind: kind, namespace: metadata.member(namespaceKey).stringValue,
                      name: metadata.member(nameKey).stringValue ?? "")
        }
    }

    /// Runs `body` with entity `index`'s uid and etag as UTF-8 bytes (nil when absent or not a string).
    public func withIdentity<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>?, UnsafeBufferPointer<UInt8>?) -> R) -> R {
        metadata.withElement(index) { metadata in
            let uid = metadata.member(uidKey)
            let etag = metadata.member(etagKey)
            return uid.withStringBytes { uidBytes in etag.withStringBytes { etagBytes in body(uidBytes, etagBytes) } }
        }
    }
}

@available(*, unavailable)
extension ScannedPage: Sendable {}

/// A source that can list refs with uids and etags cheaply and fetch bodies by ref, so a sync
/// downloads only what changed.
public protocol IncrementalCatalogSource: CatalogSource {
    /// Walks `kind` projected to kind, namespace, name, uid and etag.
    func scan(kind: String, onPage: (ScannedPage) throws -> Void) throws
    /// Full bodies of `refs`, in order; nil where the catalog no longer has one.
    func fetch(refs: [EntityRef]) throws -> [JQValue?]
}

/// Opens the source named by a `--backstage-url` for each walking thread of a run: `file:PATH`
/// reads descriptor YAML (one shared source: the tree is read once per run), anything else is a
/// Backstage base URL (a client, and so a connection, per thread).
public func catalogSourceOpener(url: String, token: String?, pageSize: Int, transport: TransportOptions,
                                retry: RetryPolicy) -> @Sendable () throws -> CatalogSource {
    if isLocalCatalogURL(url) {
        let local = LocalCatalogSource(path: String(url.dropFirst("file:".count)))
        return { local }
    }
    return { try BackstageClient(baseURL: url, token: token, pageSize: pageSize, transport: transport, retry: retry) }
}

/// `file:PATH` names a local folder of descriptors; only a Backstage server can scan by etag.
public func isLocalCatalogURL(_ url: String) -> Bool { url.hasPrefix("file:") }
