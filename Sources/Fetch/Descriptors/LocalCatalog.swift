import Foundation
import Store

/// Why a local catalog could not be loaded. Every case names the file it is about.
public enum LocalCatalogError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The path given to `LocalCatalog` does not exist.
    case missingPath(String)
    /// A file or folder exists but could not be read.
    case unreadable(file: String, reason: String)
    /// A file is not valid YAML, or uses a construct the loader refuses (position included).
    case yaml(YAMLError)
    /// A document is not a valid descriptor (not a mapping, no `kind` or `metadata.name`,
    /// a mistyped field, an unparseable ref, or an entity ref defined twice).
    case invalidDescriptor(CatalogProcessorError)
    /// A `kind: Location` descriptor has a target that cannot be followed.
    case locationTarget(file: String, document: Int, line: Int, target: String, reason: String)

    /// One line naming the file (and line) and the problem.
    public var description: String {
        switch self {
        case .missingPath(let path):
            return "\(path): no such file or directory"
        case .unreadable(let file, let reason):
            return "\(file): \(reason)"
        case .yaml(let error):
            return error.description
        case .invalidDescriptor(let error):
            return error.description
        case .locationTarget(let file, let document, let line, let target, let reason):
            return "\(file):\(line): document \(document): Location target \"\(target)\": \(reason)"
        }
    }
}

/// The `file:PATH` source: Backstage descriptor YAML read from a folder (recursively: every
/// `*.yaml` and `*.yml`, in sorted path order, hidden entries skipped) or from a single file, with
/// any number of documents per file.
///
/// `kind: Location` descriptors are followed: their `spec.target`/`spec.targets` are resolved
/// against the Location's folder (`*`, `?` and `[...]` globs allowed in path components); each
/// file is read once, so cycles end. A missing target fails unless `spec.presence: optional`.
/// Remote (`scheme://`) targets cannot be followed offline and fail.
/// Entities are materialized by `CatalogProcessor` with the location `file:<absolute path>`.
public struct LocalCatalog: Sendable {
    /// The folder or file to read, as given (relative paths resolve against the working directory).
    public let path: String

    /// A catalog read from `path` (a folder or one file) when `load()` is called.
    public init(path: String) {
        self.path = path
    }

    /// Reads every descriptor and materializes the entities.
    /// - Throws: `LocalCatalogError` naming the file (and line) of the first problem.
    public func load() throws(LocalCatalogError) -> [JSONValue] {
        let descriptors = try readDescriptors()
        do {
            return try CatalogProcessor.materialize(descriptors)
        } catch {
            throw .invalidDescriptor(error)
        }
    }

    /// Reads every document of every file (Location descriptors included, null documents
    /// skipped), following Location targets, without materializing them.
    public func readDescriptors() throws(LocalCatalogError) -> [CatalogDescriptor] {
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw .missingPath(path)
        }
        var queue = isDirectory.boolValue ? try Self.yamlFiles(in: root) : [root]
        var visited: Set<String> = []
        var descriptors: [CatalogDescriptor] = []
        var next = 0
        while next < queue.count {
            let file = queue[next]
            next += 1
            guard visited.insert(Self.identity(of: file)).inserted else { continue }
            let nodes: [YAMLNode]
            do {
                nodes = try YAML.loadDocuments(path: file)
            } catch {
                if error.line == 0 { throw .unreadable(file: file, reason: error.message) }
                throw .yaml(error)
            }
            for (offset, node) in nodes.enumerated() {
                let body: JSONValue
                do {
                    body = try node.toJSON()
                } catch {
                    throw .yaml(error)
                }
                if body.isNull { continue }
                let descriptor = CatalogDescriptor(body: body, location: "file:\(file)", file: file,
                                            document: offset + 1, line: node.line)
                if body["kind"]?.stringValue?.lowercased() == "location" {
                    queue.append(contentsOf: try Self.targets(of: descriptor))
                }
                descriptors.append(descriptor)
            }
        }
        return descriptors
    }

    // MARK: - Files

    /// The identity of a file for cycle detection: its absolute path with symlinks resolved.
    private static func identity(of file: String) -> String {
        URL(fileURLWithPath: file).resolvingSymlinksInPath().path
    }

    private static func isYAMLName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".yaml") || lower.hasSuffix(".yml")
    }

    /// Every `*.yaml`/`*.yml` file under `folder`, sorted by path; hidden entries are skipped and
    /// symlinked folders are entered once.
    static func yamlFiles(in folder: String) throws(LocalCatalogError) -> [String] {
        var files: [String] = []
        var seenFolders: Set<String> = []
        var pending = [folder]
        while let current = pending.popLast() {
            guard seenFolders.insert(identity(of: current)).inserted else { continue }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: current)
            } catch {
                throw .unreadable(file: current, reason: "cannot list folder (\(error.localizedDescription))")
            }
            for name in names where !name.hasPrefix(".") {
                let child = current == "/" ? "/\(name)" : "\(current)/\(name)"
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory)
                if exists, isDirectory.boolValue {
                    pending.append(child)
                } else if isYAMLName(name) {
                    files.append(child)  // a dangling symlink is kept: reading it reports the error
                }
            }
        }
        return files.sorted()
    }

    /// The files a Location descriptor points at, resolved against its file's folder.
    private static func targets(of location: CatalogDescriptor) throws(LocalCatalogError) -> [String] {
        let spec = location.body["spec"]
        var texts: [String] = []
        if let target = spec?["target"], !target.isNull {
            guard let text = target.stringValue else {
                throw .locationTarget(file: location.file, document: location.document, line: location.line,
                                      target: "spec.target", reason: "must be a string, found \(target.typeName)")
            }
            texts.append(text)
        }
        if let targets = spec?["targets"], !targets.isNull {
            guard let items = targets.arrayValue else {
                throw .locationTarget(file: location.file, document: location.document, line: location.line,
                                      target: "spec.targets", reason: "must be a list of strings, found \(targets.typeName)")
            }
            for item in items {
                guard let text = item.stringValue else {
                    throw .locationTarget(file: location.file, document: location.document, line: location.line,
                                          target: "spec.targets", reason: "must be a list of strings, found a \(item.typeName)")
                }
                texts.append(text)
            }
        }
        let optional = spec?["presence"]?.stringValue == "optional"
        let folder = URL(fileURLWithPath: location.file).deletingLastPathComponent()
        var files: [String] = []
        for text in texts {
            func fail(_ reason: String) -> LocalCatalogError {
                .locationTarget(file: location.file, document: location.document, line: location.line,
                                target: text, reason: reason)
            }
            if text.contains("://") {
                throw fail("remote targets cannot be followed by a local catalog")
            }
            var relative = text
            if relative.hasPrefix("file:") { relative.removeFirst("file:".count) }
            let resolved = URL(fileURLWithPath: relative, relativeTo: folder).standardizedFileURL.path
            if relative.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
                for match in glob(resolved) {
                    files.append(contentsOf: try expand(match))
                }
                continue
            }
            guard FileManager.default.fileExists(atPath: resolved) else {
                if optional { continue }
                throw fail("no such file \(resolved)")
            }
            files.append(contentsOf: try expand(resolved))
        }
        return files
    }

    /// A folder target stands for its YAML files; a file target for itself.
    private static func expand(_ path: String) throws(LocalCatalogError) -> [String] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return try yamlFiles(in: path)
        }
        return [path]
    }

    /// Matches an absolute path whose components may hold `fnmatch` patterns; sorted.
    private static func glob(_ pattern: String) -> [String] {
        var current = ["/"]
        for component in pattern.split(separator: "/").map(String.init) {
            var next: [String] = []
            let isPattern = component.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" })
            for base in current {
                let prefix = base == "/" ? "/" : base + "/"
                if !isPattern {
                    next.append(prefix + component)
                    continue
                }
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { continue }
                for name in names.sorted() where fnmatch(component, name, FNM_PERIOD) == 0 {
                    next.append(prefix + name)
                }
            }
            current = next
        }
        return current.filter { FileManager.default.fileExists(atPath: $0) }.sorted()
    }
}
