import Foundation

/// Bounds that stop hostile YAML from exhausting memory or the stack. Aliases are shared when
/// parsed, but every consumer (`toJSON`, a walk) pays for them expanded, so the bounds apply to
/// the expanded size of a stream.
public struct YAMLLimits: Sendable {
    /// The most nodes a stream may hold with every alias expanded.
    public var maxExpandedNodes: Int
    /// The most expanded nodes per node actually written, once past `ratioFloor` nodes.
    public var maxExpansionRatio: Int
    /// Expanded sizes up to this many nodes are never refused for their ratio.
    public var ratioFloor: Int
    /// The deepest nesting of sequences and mappings.
    public var maxDepth: Int

    /// Limits with the given bounds; the defaults suit catalog files.
    public init(maxExpandedNodes: Int = 1_000_000, maxExpansionRatio: Int = 100, ratioFloor: Int = 10_000,
                maxDepth: Int = 512) {
        self.maxExpandedNodes = maxExpandedNodes
        self.maxExpansionRatio = maxExpansionRatio
        self.ratioFloor = ratioFloor
        self.maxDepth = maxDepth
    }

    /// 1,000,000 expanded nodes, 100x expansion past 10,000 nodes, 512 levels.
    public static let `default` = YAMLLimits()
}

/// Loads YAML streams into `YAMLNode` trees with libyaml's event API.
///
/// Supported: every YAML 1.1/1.2 syntax libyaml reads, multi-document streams, anchors and
/// aliases (bounded by `YAMLLimits`), and surrogate-pair escapes in double-quoted scalars as JSON
/// writes them (`"\ud83d\ude80"`). Refused with a positioned `YAMLError`: duplicate keys in a
/// mapping, merge keys (`<<`), undefined or recursive aliases, nesting deeper than the limit.
public enum YAML {
    /// Parses every document of a YAML stream. An empty stream gives no documents; an empty
    /// document (`---` alone) gives a null scalar.
    /// - Parameter file: the name used in error messages.
    public static func parseDocuments(_ text: String, file: String, limits: YAMLLimits = .default)
        throws(YAMLError) -> [YAMLNode]
    {
        try parseDocuments(bytes: Array(text.utf8), file: file, limits: limits)
    }

    /// Parses every document of a YAML stream given as bytes (UTF-8, or UTF-16 with a BOM).
    public static func parseDocuments(bytes: [UInt8], file: String, limits: YAMLLimits = .default)
        throws(YAMLError) -> [YAMLNode]
    {
        try parse(bytes, file: file, lineOffset: 0, limits: limits)
    }

    /// Reads a file and parses every document in it; errors are reported against `path`.
    public static func loadDocuments(path: String, limits: YAMLLimits = .default) throws(YAMLError) -> [YAMLNode] {
        let bytes = try readFile(path)
        return try parseDocuments(bytes: bytes, file: path, limits: limits)
    }

    /// The bytes of a regular file, or a `YAMLError` (without position) saying why not.
    static func readFile(_ path: String) throws(YAMLError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw YAMLError(file: path, line: 0, column: 0, message: "no such file")
        }
        if isDirectory.boolValue {
            throw YAMLError(file: path, line: 0, column: 0, message: "is a directory, not a file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw YAMLError(file: path, line: 0, column: 0, message: "cannot open file for reading (permission denied?)")
        }
        defer { try? handle.close() }
        do {
            return Array(try handle.readToEnd() ?? Data())
        } catch {
            throw YAMLError(file: path, line: 0, column: 0, message: "cannot read file: \(error.localizedDescription)")
        }
    }
}

/// Builds node trees from libyaml events with an explicit stack (no recursion on input depth).
struct YAMLTreeBuilder {
    private struct Frame {
        var isMapping: Bool
        var line: Int
        var column: Int
        var anchor: String?
        var items: [YAMLNode] = []
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var pendingKey: YAMLNode?
        var keyLines: [String: Int] = [:]
        /// Expanded node count of this collection so far, itself included.
        var size = 1
    }

    private let parser: LibYAMLParser
    private let file: String
    private let limits: YAMLLimits
    private var frames: [Frame] = []
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    private var root: YAMLNode?
    private var written = 0
    private var expanded = 0

    init(parser: LibYAMLParser, file: String, limits: YAMLLimits) {
        self.parser = parser
        self.file = file
        self.limits = limits
    }

    mutating func run() throws(YAMLError) -> [YAMLNode] {
        var documents: [YAMLNode] = []
        var documentLine = 1
        var documentColumn = 1
        while true {
            let (event, line, column) = try parser.next()
            switch event {
            case .streamStart:
                continue
            case .streamEnd:
                return documents
            case .documentStart:
                anchors = [:]
                root = nil
                documentLine = line
                documentColumn = column
            case .documentEnd:
                documents.append(root ?? YAMLNode(.scalar("", quoted: false), line: documentLine,
                                                  column: documentColumn, file: file))
                root = nil
            case .alias(let name):
                guard let target = anchors[name] else {
                    let recursive = frames.contains { $0.anchor == name }
                    throw error(line, column, recursive
                        ? "alias *\(name) refers to a collection that contains it (recursive alias)"
                        : "undefined alias *\(name)")
                }
                written += 1
                try count(target.size, line, column, alias: name)
                try attach(YAMLNode(target.node.value, line: line, column: column, file: file),
                           size: target.size, anchor: nil)
            case .scalar(let value, let anchor, let tag, let plain):
                written += 1
                try count(1, line, column, alias: nil)
                let quoted = !plain || tag == "!" || tag == "tag:yaml.org,2002:str"
                try attach(YAMLNode(.scalar(value, quoted: quoted), line: line, column: column, file: file),
                           size: 1, anchor: anchor)
            case .sequenceStart(let anchor, _), .mappingStart(let anchor, _):
                guard frames.count < limits.maxDepth else {
                    throw error(line, column, "nesting deeper than \(limits.maxDepth) levels")
                }
                written += 1
                try count(1, line, column, alias: nil)
                var isMapping = false
                if case .mappingStart = event { isMapping = true }
                frames.append(Frame(isMapping: isMapping, line: line, column: column, anchor: anchor))
            case .sequenceEnd, .mappingEnd:
                guard let frame = frames.popLast() else {
                    throw error(line, column, "unbalanced end of collection")
                }
                let value: YAMLNode.Value = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
                try attach(YAMLNode(value, line: frame.line, column: frame.column, file: file),
                           size: frame.size, anchor: frame.anchor)
            }
        }
    }

    private func error(_ line: Int, _ column: Int, _ message: String) -> YAMLError {
        YAMLError(file: file, line: line, column: column, message: message)
    }

    /// Adds `nodes` expanded nodes to the stream total and enforces the limits.
    private mutating func count(_ nodes: Int, _ line: Int, _ column: Int, alias: String?) throws(YAMLError) {
        expanded += nodes
        let what = alias.map { "alias *\($0) (\(nodes) nodes)" } ?? "node"
        if expanded > limits.maxExpandedNodes {
            throw error(line, column, "\(what) takes the document past \(limits.maxExpandedNodes) nodes with aliases expanded; refusing a possible alias bomb")
        }
        if expanded > limits.ratioFloor, expanded / max(written, 1) > limits.maxExpansionRatio {
            throw error(line, column, "\(what) expands the document to \(expanded) nodes from \(written) written (more than \(limits.maxExpansionRatio)x); refusing a possible alias bomb")
        }
    }

    /// Hands a finished node to its parent collection (or makes it the document root).
    private mutating func attach(_ node: YAMLNode, size: Int, anchor: String?) throws(YAMLError) {
        if let anchor { anchors[anchor] = (node, size) }
        guard var top = frames.popLast() else {
            root = node
            return
        }
        defer { frames.append(top) }
        top.size += size
        guard top.isMapping else {
            top.items.append(node)
            return
        }
        guard let key = top.pendingKey else {
            if case .scalar(let text, let quoted) = node.value {
                if !quoted, text == "<<" {
                    throw error(node.line, node.column, "merge keys (<<) are not supported; write the keys out")
                }
                if let first = top.keyLines[text] {
                    throw error(node.line, node.column, "duplicate key \"\(text)\" in mapping (first at line \(first))")
                }
                top.keyLines[text] = node.line
            }
            top.pendingKey = node
            return
        }
        top.pairs.append((key: key, value: node))
        top.pendingKey = nil
    }
}
