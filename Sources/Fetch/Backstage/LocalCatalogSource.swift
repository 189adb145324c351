import Foundation
import Store

/// The `file:PATH` source: a folder (or file) of Backstage descriptor YAML, read as Backstage reads
/// it (`LocalCatalog`), delivered as one page per kind. One instance serves every walking thread
/// of a run, so the tree is read once and its problems are reported once.
public final class LocalCatalogSource: CatalogSource, @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var loaded: LocalCatalogRead?

    public init(path: String) {
        self.path = path
    }

    public var sourceDescription: String { "file:\(path)" }

    /// Reading files makes no requests.
    public var stats: SourceStats { SourceStats() }

    /// Files and documents that could not become entities, notices and skipped documents (known
    /// once a walk has read the tree).
    public var descriptorReport: DescriptorReport {
        lock.withLock {
            guard let loaded else { return DescriptorReport() }
            return DescriptorReport(problems: loaded.problems, notices: loaded.notices, skipped: loaded.skipped)
        }
    }

    public func walk(kind: String, onPage: (EntityPage) throws -> Void) throws {
        let entities = try read().entities
        let wanted = kind.lowercased()
        let items = entities.filter { $0["kind"]?.stringValue?.lowercased() == wanted }.map { JQValue($0) }
        try onPage(EntityPage(items: items, number: 1, byteCount: 0))
    }

    /// The catalog, read on first use.
    public func read() throws -> LocalCatalogRead {
        try lock.withLock {
            if let loaded { return loaded }
            let read: LocalCatalogRead
            do {
                read = try LocalCatalog(path: path).read()
            } catch {
                throw BackstageError.local("\(error)")
            }
            loaded = read
            return read
        }
    }
}
