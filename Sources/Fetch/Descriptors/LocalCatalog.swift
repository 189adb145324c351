import Foundation
import Store

/// Why a local catalog could not be read at all (problems with single files or documents are
/// `DescriptorProblem`s instead, and the rest of the catalog is still read).
public enum LocalCatalogError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The path given to `LocalCatalog` does not exist.
    case missingPath(String)
    /// `load()` only: the catalog has problems; every one is listed.
    case problems([DescriptorProblem])

    /// The problem, or one line per problem, each naming the file and line.
    public var description: String {
        switch self {
        case .missingPath(let path):
            return "\(path): no such file or directory"
        case .problems(let problems):
            return problems.map(\.description).joined(separator: "\n")
        }
    }
}

/// What reading a local catalog gave: the entities, the documents that could not become one, and
/// what was passed over on purpose.
public struct LocalCatalogRead: Sendable {
    /// Materialized entities, in walk order.
    public var entities: [JSONValue] = []
    /// Every file or document that failed, in walk order (file, then line).
    public var problems: [DescriptorProblem] = []
    /// Documents that are not entities and folders of template content, one line each
    /// (for `--log-level debug`).
    public var skipped: [String] = []
    /// Things the operator should hear about once, that are not errors (URL targets not fetched).
    public var notices: [String] = []
}

/// The `file:PATH` source: Backstage descriptor YAML read as Backstage reads it, one document at a
/// time, so one bad file or document never blocks the rest.
///
/// Two modes:
/// - **a folder**: every `*.yaml`/`*.yml` below it (sorted by path; hidden entries skipped). A
///   document is an entity only when it has `apiVersion` and `kind` and is Backstage's (a built-in
///   kind, or an apiVersion under `backstage.io`); others (OpenAPI specs, compose files, mkdocs,
///   Kubernetes manifests) are skipped. Folders a Template fetches its content from
///   (`fetch:*` steps' relative `input.url`) are template skeletons, not catalog, and are skipped.
/// - **one file** (`catalog-info.yaml`): that file's documents, and the files its Locations point at.
///
/// In both, `kind: Location` entities are entities, and their `spec.target`/`spec.targets` are
/// followed relative to the Location's file (globs allowed); URL targets are not fetched (a
/// notice); a missing target is a problem of that Location. Every file is read once. Bytes are
/// decoded as UTF-8 with invalid bytes replaced, a BOM skipped; placeholders are substituted
/// within the source root (the folder; for one file, its repository — the nearest folder above
/// holding `.git` — or else its folder); entities are validated like
/// Backstage's catalog-model and materialized by `CatalogProcessor` with
/// `managed-by-location = file:<the file>` and `managed-by-origin-location = file:<PATH>`.
public struct LocalCatalog: Sendable {
    /// The folder or file to read, as given (relative paths resolve against the working directory).
    public let path: String

    /// A catalog read from `path` (a folder or one file) when `read()` is called.
    public init(path: String) {
        self.path = path
    }

    /// Reads every descriptor, returning the entities and every problem.
    /// - Throws: only when `path` does not exist.
    public func read() throws(LocalCatalogError) -> LocalCatalogRead {
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw .missingPath(path)
        }
        var walk = Walk(root: root, folderMode: isDirectory.boolValue)
        walk.run()
        return walk.finish()
    }

    /// Reads every descriptor and materializes the entities, refusing a catalog with any problem.
    /// - Throws: `LocalCatalogError.problems` listing every problem.
    public func load() throws(LocalCatalogError) -> [JSONValue] {
        let read = try read()
        guard read.problems.isEmpty else { throw .problems(read.problems) }
        return read.entities
    }

    /// Entities from the documents of one file, processed as a catalog of that file alone (no
    /// Location is followed): for `mapping test --file`. A document that is an entity as the
    /// catalog API serves it (it has `relations`) is kept as it is.
    public static func process(file: String) -> LocalCatalogRead {
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        var walk = Walk(root: path, folderMode: false, followLocations: false)
        walk.run()
        return walk.finish()
    }

    // MARK: - The walk

    /// One read of the catalog.
    private struct Walk {
        let root: String
        let folderMode: Bool
        let followLocations: Bool
        let origin: String
        let placeholders: Placeholders
        var queue: [String] = []
        var visited: Set<String> = []
        /// Walk position of each file, for ordering problems.
        var order: [String: Int] = [:]
        var candidates: [CatalogDescriptor] = []
        /// Entities as served (with `relations`), kept as they are (single-file processing only).
        var served: [JSONValue] = []
        var problems: [DescriptorProblem] = []
        var skipped: [String] = []
        var notices: [String] = []
        /// Folders (and files) Templates fetch content from.
        var templateContent: [String] = []

        init(root: String, folderMode: Bool, followLocations: Bool = true) {
            self.root = root
            self.folderMode = folderMode
            self.followLocations = followLocations
            origin = "file:\(root)"
            placeholders = Placeholders(root: folderMode ? root : LocalCatalog.sourceRoot(ofFile: root))
        }

        mutating func run() {
            queue = folderMode ? LocalCatalog.yamlFiles(in: root, problems: &problems) : [root]
            var next = 0
            while next < queue.count {
                let file = queue[next]
                next += 1
                guard visited.insert(LocalCatalog.identity(of: file)).inserted else { continue }
                order[file] = order.count
                read(file)
            }
        }

        mutating func finish() -> LocalCatalogRead {
            var result = LocalCatalogRead()
            let skeletons = templateContent
            func isTemplateContent(_ file: String) -> Bool {
                skeletons.contains { file == $0 || file.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
            }
            var kept: [CatalogDescriptor] = []
            for candidate in candidates {
                if folderMode, isTemplateContent(candidate.file) {
                    skipped.append("\(candidate.file):\(candidate.line): template content (fetched by a Template), not catalog")
                } else {
                    kept.append(candidate)
                }
            }
            var all = problems.filter { !(folderMode && isTemplateContent($0.file)) }
            for problem in problems where folderMode && isTemplateContent(problem.file) {
                skipped.append("\(problem.file):\(problem.line): template content (fetched by a Template), not catalog: \(problem.message)")
            }
            let materialized = CatalogProcessor.materialize(kept)
            all += materialized.problems
            let order = self.order
            result.problems = all.enumerated().sorted { left, right in
                let a = (order[left.element.file] ?? Int.max, left.element.line, left.offset)
                let b = (order[right.element.file] ?? Int.max, right.element.line, right.offset)
                return a < b
            }.map(\.element)
            result.entities = materialized.entities + served
            result.skipped = skipped
            result.notices = notices
            return result
        }

        private mutating func read(_ file: String) {
            let bytes: [UInt8]
            do {
                bytes = DescriptorText.decode(try YAML.readFile(file))
            } catch {
                problems.append(DescriptorProblem(file: file, line: 0, reason: .unreadable(error.message)))
                return
            }
            for document in YAML.parseEachDocument(bytes: bytes, file: file) {
                switch document.result {
                case .failure(let error):
                    if folderMode, let text = document.failedText, !Self.mayBeEntity(text) {
                        skipped.append("\(file):\(document.line): not a catalog entity (and not valid YAML: \(error.message))")
                        continue
                    }
                    problems.append(DescriptorProblem(file: file, line: error.line > 0 ? error.line : document.line,
                                                      reason: .yaml(Self.yamlMessage(error))))
                case .success(let node):
                    let body: JSONValue
                    do {
                        body = try node.toJSON()
                    } catch {
                        if folderMode, !Self.isCandidate(apiVersion: node["apiVersion"]?.scalarText, kind: node["kind"]?.scalarText) {
                            skipped.append("\(file):\(node.line): not a catalog entity")
                            continue
                        }
                        problems.append(DescriptorProblem(file: file, line: error.line, reason: .yaml(Self.yamlMessage(error))))
                        continue
                    }
                    admit(body, file: file, line: node.line)
                }
            }
        }

        /// Substitutes placeholders, validates, and queues one document (following a Location).
        private mutating func admit(_ body: JSONValue, file: String, line: Int) {
            if body.isNull { return }
            guard case .object(let object) = body else {
                if folderMode {
                    skipped.append("\(file):\(line): not a catalog entity (a \(body.typeName))")
                } else {
                    problems.append(DescriptorProblem(file: file, line: line, reason: .notAMapping(found: body.typeName)))
                }
                return
            }
            let apiVersion = object["apiVersion"]?.stringValue
            let kind = object["kind"]?.stringValue
            if folderMode, !Self.isCandidate(apiVersion: apiVersion, kind: kind) {
                let what = apiVersion == nil || kind == nil ? "no apiVersion and kind" : "apiVersion \(apiVersion ?? "")"
                skipped.append("\(file):\(line): not a catalog entity (\(what))")
                return
            }
            if !followLocations, object["relations"]?.arrayValue != nil {
                served.append(body)
                return
            }
            let written = DescriptorProblem.writtenRef(object)
            let substituted: JSONValue
            do {
                substituted = try placeholders.substitute(body, file: file)
            } catch {
                problems.append(DescriptorProblem(file: file, line: line, entity: written, reason: .placeholder(error.message)))
                return
            }
            guard case .object(let entity) = substituted else { return }
            if let violation = EntityValidator.violation(in: entity) {
                problems.append(DescriptorProblem(file: file, line: line, entity: written,
                                                  reason: .invalid(field: violation.field, rule: violation.rule)))
                return
            }
            let descriptor = CatalogDescriptor(body: substituted, location: "file:\(file)", origin: origin, file: file, line: line)
            candidates.append(descriptor)
            if kind == "Location", followLocations { follow(descriptor, entity: written) }
            if kind == "Template" { noteTemplateContent(entity, file: file) }
        }

        /// Queues the files a Location points at; URL targets are noticed, not fetched.
        private mutating func follow(_ location: CatalogDescriptor, entity: String?) {
            let spec = location.body["spec"]
            var texts: [String] = []
            if let target = spec?["target"]?.stringValue { texts.append(target) }
            texts += (spec?["targets"]?.arrayValue ?? []).compactMap(\.stringValue)
            let optional = spec?["presence"]?.stringValue == "optional"
            let type = spec?["type"]?.stringValue ?? "file"
            let folder = URL(fileURLWithPath: location.file).deletingLastPathComponent()
            for text in texts {
                func fail(_ reason: String) {
                    problems.append(DescriptorProblem(file: location.file, line: location.line, entity: entity,
                                                      reason: .locationTarget(target: text, reason: reason)))
                }
                if type != "file" || text.contains("://") {
                    notices.append("\(location.file):\(location.line): \(entity ?? "Location"): \(type == "file" ? "URL" : type) target \(text) is not fetched by a file: source")
                    continue
                }
                var relative = text
                if relative.hasPrefix("file:") { relative.removeFirst("file:".count) }
                let resolved = URL(fileURLWithPath: relative, relativeTo: folder).standardizedFileURL.path
                if relative.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
                    let matches = LocalCatalog.glob(resolved)
                    if matches.isEmpty, !optional { fail("no file matches \(resolved)") }
                    for match in matches { queue += LocalCatalog.expand(match, problems: &problems) }
                    continue
                }
                guard FileManager.default.fileExists(atPath: resolved) else {
                    if !optional { fail("no such file \(resolved)") }
                    continue
                }
                queue += LocalCatalog.expand(resolved, problems: &problems)
            }
        }

        /// Records the folders a Template's `fetch:*` steps take their content from.
        private mutating func noteTemplateContent(_ entity: [String: JSONValue], file: String) {
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
            for step in entity["spec"]?["steps"]?.arrayValue ?? [] {
                guard let action = step["action"]?.stringValue, action.hasPrefix("fetch:"),
                      let url = step["input"]?["url"]?.stringValue, !url.contains("://"), !url.hasPrefix("/")
                else { continue }
                templateContent.append(URL(fileURLWithPath: url, relativeTo: folder).standardizedFileURL.path)
            }
        }

        /// In a folder, only Backstage's documents are entities: a built-in kind, or an apiVersion
        /// under `backstage.io`.
        static func isCandidate(apiVersion: String?, kind: String?) -> Bool {
            guard let apiVersion, let kind, !apiVersion.isEmpty, !kind.isEmpty else { return false }
            let group = apiVersion.split(separator: "/").first.map(String.init) ?? ""
            return EntityValidator.isBuiltinKind(kind) || group == "backstage.io" || group.hasSuffix(".backstage.io")
        }

        /// Whether a document that does not parse looks like an entity: `apiVersion` and `kind`
        /// written as root-level YAML keys or as JSON members, with values that pass `isCandidate`.
        static func mayBeEntity(_ text: String) -> Bool {
            func value(of key: String) -> String? {
                for pattern in ["(?m)^\(key)[ \\t]*:[ \\t]*[\"']?([^\"'\\s#]+)", "[\"']\(key)[\"'][ \\t]*:[ \\t]*[\"']([^\"']+)"] {
                    guard let regex = try? NSRegularExpression(pattern: pattern),
                          let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                          let range = Range(match.range(at: 1), in: text)
                    else { continue }
                    return String(text[range])
                }
                return nil
            }
            return isCandidate(apiVersion: value(of: "apiVersion"), kind: value(of: "kind"))
        }

        static func yamlMessage(_ error: YAMLError) -> String {
            error.column > 0 ? "\(error.message) (column \(error.column))" : error.message
        }
    }

    // MARK: - Files

    /// Where an entry file's placeholders may read: its repository (the nearest folder above it
    /// holding `.git`), else its folder.
    static func sourceRoot(ofFile file: String) -> String {
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL
        var candidate = folder
        while candidate.path != "/" {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(".git").path) { return candidate.path }
            candidate = candidate.deletingLastPathComponent()
        }
        return folder.path
    }

    /// The identity of a file for cycle detection: its absolute path with symlinks resolved.
    static func identity(of file: String) -> String {
        URL(fileURLWithPath: file).resolvingSymlinksInPath().path
    }

    private static func isYAMLName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".yaml") || lower.hasSuffix(".yml")
    }

    /// Every `*.yaml`/`*.yml` file under `folder`, sorted by path; hidden entries are skipped and
    /// symlinked folders are entered once. A folder that can't be listed is a problem.
    static func yamlFiles(in folder: String, problems: inout [DescriptorProblem]) -> [String] {
        var files: [String] = []
        var seenFolders: Set<String> = []
        var pending = [folder]
        while let current = pending.popLast() {
            guard seenFolders.insert(identity(of: current)).inserted else { continue }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: current)
            } catch {
                problems.append(DescriptorProblem(file: current, line: 0, reason: .unreadable("cannot list folder (\(error.localizedDescription))")))
                continue
            }
            for name in names where !name.hasPrefix(".") {
                let child = current == "/" ? "/\(name)" : "\(current)/\(name)"
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory)
                if exists, isDirectory.boolValue {
                    pending.append(child)
                } else if isYAMLName(name) {
                    files.append(child)  // a dangling symlink is kept: reading it reports the problem
                }
            }
        }
        return files.sorted()
    }

    /// A folder target stands for its YAML files; a file target for itself.
    static func expand(_ path: String, problems: inout [DescriptorProblem]) -> [String] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return yamlFiles(in: path, problems: &problems)
        }
        return [path]
    }

    /// Matches an absolute path whose components may hold `fnmatch` patterns; sorted.
    static func glob(_ pattern: String) -> [String] {
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
