import Fetch
import Store

extension PortAppConfig {
    /// Parses a port-app-config YAML text (one document).
    /// - Parameter file: the name used in error messages.
    /// - Throws: `MappingConfigError` naming file, line and key path.
    public static func parse(yaml text: String, file: String) throws(MappingConfigError) -> PortAppConfig {
        let documents: [YAMLNode]
        do {
            documents = try YAML.parseDocuments(text, file: file)
        } catch {
            throw MappingConfigError(yaml: error)
        }
        return try parse(documents: documents, file: file)
    }

    /// Reads and parses a port-app-config YAML file.
    /// - Throws: `MappingConfigError` naming file, line and key path.
    public static func load(path: String) throws(MappingConfigError) -> PortAppConfig {
        let documents: [YAMLNode]
        do {
            documents = try YAML.loadDocuments(path: path)
        } catch {
            throw MappingConfigError(yaml: error)
        }
        return try parse(documents: documents, file: path)
    }

    /// Parses a config held as JSON, e.g. Port's `integration.config`. Object members have no
    /// order in JSON, so properties and relations are taken in key order.
    /// - Parameter source: the name used in error messages (there are no line numbers).
    public static func parse(json: JSONValue, source: String) throws(MappingConfigError) -> PortAppConfig {
        try parse(node: YAMLNode(json: json, file: source))
    }

    /// Parses the root node of a YAML document.
    public static func parse(node: YAMLNode) throws(MappingConfigError) -> PortAppConfig {
        try PortAppConfigParser().config(node)
    }

    private static func parse(documents: [YAMLNode], file: String) throws(MappingConfigError) -> PortAppConfig {
        guard let first = documents.first else {
            throw MappingConfigError(location: SourceLocation(file: file, line: 0, column: 0), path: "",
                                     message: "the file is empty; expected a mapping with `resources`")
        }
        if documents.count > 1 {
            let second = documents[1]
            throw MappingConfigError(location: SourceLocation(file: file, line: second.line, column: second.column),
                                     path: "", message: "expected one YAML document, found \(documents.count)")
        }
        return try parse(node: first)
    }
}

extension MappingConfigError {
    /// Wraps a YAML syntax or file error.
    init(yaml error: YAMLError) {
        self.init(location: SourceLocation(file: error.file, line: error.line, column: error.column), path: "",
                  message: error.message)
    }
}

extension YAMLNode {
    /// A node tree for a JSON value: strings become quoted scalars, other scalars plain ones,
    /// object members are sorted by key. Positions are 0 (unknown).
    init(json: JSONValue, file: String) {
        switch json {
        case .null: self.init(.scalar("null", quoted: false), line: 0, column: 0, file: file)
        case .bool(let flag): self.init(.scalar(flag ? "true" : "false", quoted: false), line: 0, column: 0, file: file)
        case .number: self.init(.scalar(CanonicalJSON.string(json), quoted: false), line: 0, column: 0, file: file)
        case .string(let text): self.init(.scalar(text, quoted: true), line: 0, column: 0, file: file)
        case .array(let items):
            self.init(.sequence(items.map { YAMLNode(json: $0, file: file) }), line: 0, column: 0, file: file)
        case .object(let members):
            let pairs = members.keys.sorted().map { key in
                (key: YAMLNode(.scalar(key, quoted: true), line: 0, column: 0, file: file),
                 value: YAMLNode(json: members[key] ?? .null, file: file))
            }
            self.init(.mapping(pairs), line: 0, column: 0, file: file)
        }
    }

    var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    /// `a mapping`, `a sequence`, `null`, `a boolean`, `a number` or `a string`, for messages.
    var typeDescription: String {
        switch value {
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case .scalar(let text, let quoted):
            if quoted { return "a string" }
            switch YAMLScalar.resolve(text) {
            case .null: return "null"
            case .bool: return "a boolean"
            case .number: return "a number"
            default: return "a string"
            }
        }
    }
}

/// Walks a config node tree into `PortAppConfig`, checking every key and type.
struct PortAppConfigParser {
    private typealias Entry = (key: String, keyNode: YAMLNode, value: YAMLNode)

    static let topKeys = ["resources", "createMissingRelatedEntities", "deleteDependentEntities",
                          "enableMergeEntity", "entityDeletionThreshold"]
    static let resourceKeys = ["kind", "selector", "port"]
    static let selectorKeys = ["query"]
    static let portKeys = ["entity"]
    static let entityKeys = ["mappings"]
    static let mappingKeys = ["identifier", "title", "blueprint", "icon", "team", "properties", "relations"]
    /// Ocean keys that mirrorctl knows but does not implement.
    static let unsupported: [String: String] = [
        "itemsToParse": "`itemsToParse` is not supported by mirrorctl (Backstage entities map one to one)",
        "itemsToParseName": "`itemsToParseName` is not supported by mirrorctl",
        "itemsToParseTopLevelTransform": "`itemsToParseTopLevelTransform` is not supported by mirrorctl",
    ]

    func config(_ node: YAMLNode) throws(MappingConfigError) -> PortAppConfig {
        let entries = try mapping(node, path: "", allowed: Self.topKeys)
        var resources: [ResourceMapping]?
        var createMissing = true
        var deleteDependents = true
        var merge = true
        var threshold = PortAppConfig.defaultDeletionThreshold
        for entry in entries {
            switch entry.key {
            case "resources": resources = try resourceList(entry.value, key: entry.keyNode)
            case "createMissingRelatedEntities": createMissing = try bool(entry, path: entry.key)
            case "deleteDependentEntities": deleteDependents = try bool(entry, path: entry.key)
            case "enableMergeEntity": merge = try bool(entry, path: entry.key)
            case "entityDeletionThreshold":
                threshold = try number(entry, path: entry.key)
                guard threshold >= 0, threshold <= 1 else {
                    throw MappingConfigError(location: entry.keyNode.location, path: entry.key,
                                             message: "must be between 0 and 1, got \(entry.value.scalarText ?? "")")
                }
            default: break
            }
        }
        guard let resources else {
            throw MappingConfigError(location: node.location, path: "", message: "missing required key `resources`")
        }
        return try PortAppConfig(resources: resources, createMissingRelatedEntities: createMissing,
                                 deleteDependentEntities: deleteDependents, enableMergeEntity: merge,
                                 entityDeletionThreshold: threshold)
    }

    private func resourceList(_ node: YAMLNode, key: YAMLNode) throws(MappingConfigError) -> [ResourceMapping] {
        guard case .sequence(let items) = node.value else {
            throw typeError(node, at: key, path: "resources", expected: "a sequence of resources")
        }
        var out: [ResourceMapping] = []
        for (index, item) in items.enumerated() {
            out.append(try resource(item, path: "resources[\(index)]"))
        }
        return out
    }

    private func resource(_ node: YAMLNode, path: String) throws(MappingConfigError) -> ResourceMapping {
        let entries = try mapping(node, path: path, allowed: Self.resourceKeys)
        let kindEntry = try required("kind", in: entries, of: node, path: path)
        guard case .scalar(let kind, _) = kindEntry.value.value, !kind.isEmpty,
              kindEntry.value.typeDescription != "null"
        else {
            throw typeError(kindEntry.value, at: kindEntry.keyNode, path: path + ".kind", expected: "a Backstage kind string")
        }
        let selector = try required("selector", in: entries, of: node, path: path)
        let selectorEntries = try mapping(selector.value, at: selector.keyNode, path: path + ".selector",
                                          allowed: Self.selectorKeys)
        let queryEntry = try required("query", in: selectorEntries, of: selector.value, path: path + ".selector")
        let query = try expression(queryEntry, path: path + ".selector.query")

        let port = try required("port", in: entries, of: node, path: path)
        let portEntries = try mapping(port.value, at: port.keyNode, path: path + ".port", allowed: Self.portKeys)
        let entity = try required("entity", in: portEntries, of: port.value, path: path + ".port")
        let entityEntries = try mapping(entity.value, at: entity.keyNode, path: path + ".port.entity",
                                        allowed: Self.entityKeys)
        let mappingsEntry = try required("mappings", in: entityEntries, of: entity.value, path: path + ".port.entity")
        let mappings = try entityMappings(mappingsEntry, path: path + ".port.entity.mappings")
        return ResourceMapping(kind: kind, selectorQuery: query, mappings: mappings, location: node.location)
    }

    private func entityMappings(_ parent: Entry, path: String) throws(MappingConfigError) -> EntityMappings {
        let node = parent.value
        if case .sequence = node.value {
            throw MappingConfigError(location: parent.keyNode.location, path: path,
                                     message: "a list of mappings is not supported; write one mapping object")
        }
        let entries = try mapping(node, at: parent.keyNode, path: path, allowed: Self.mappingKeys)
        var values: [String: MappingExpression] = [:]
        var properties: [NamedExpression]?
        var relations: [NamedExpression]?
        for entry in entries {
            let fieldPath = path + "." + entry.key
            switch entry.key {
            case "properties": properties = try namedExpressions(entry, path: fieldPath, what: "property")
            case "relations": relations = try namedExpressions(entry, path: fieldPath, what: "relation")
            case "identifier":
                if case .mapping = entry.value.value {
                    throw MappingConfigError(location: entry.keyNode.location, path: fieldPath,
                                             message: "search identifiers (combinator/rules) are not supported; "
                                                 + "expected a jq expression string")
                }
                values[entry.key] = try expression(entry, path: fieldPath)
            default:
                values[entry.key] = try expression(entry, path: fieldPath)
            }
        }
        guard let identifier = values["identifier"] else {
            throw MappingConfigError(location: parent.keyNode.location, path: path,
                                     message: "missing required key `identifier`")
        }
        guard let blueprint = values["blueprint"] else {
            throw MappingConfigError(location: parent.keyNode.location, path: path,
                                     message: "missing required key `blueprint`")
        }
        return EntityMappings(identifier: identifier, title: values["title"], blueprint: blueprint,
                              icon: values["icon"], team: values["team"], properties: properties,
                              relations: relations)
    }

    private func namedExpressions(_ parent: Entry, path: String, what: String)
        throws(MappingConfigError) -> [NamedExpression]
    {
        let node = parent.value
        if case .scalar(let text, let quoted) = node.value, !quoted, YAMLScalar.resolve(text) == .null {
            return []  // `properties:` with nothing under it
        }
        let entries = try mapping(node, at: parent.keyNode, path: path, allowed: nil)
        var out: [NamedExpression] = []
        for entry in entries {
            if entry.key.isEmpty {
                throw MappingConfigError(location: entry.keyNode.location, path: path,
                                         message: "\(what) name must not be empty")
            }
            let fieldPath = path + "." + entry.key
            if what == "relation", case .mapping = entry.value.value {
                throw MappingConfigError(location: entry.keyNode.location, path: fieldPath,
                                         message: "search relations (combinator/rules) are not supported; "
                                             + "expected a jq expression string")
            }
            out.append(NamedExpression(entry.key, try expression(entry, path: fieldPath)))
        }
        return out
    }

    // MARK: - Leaves

    /// A jq expression: any scalar's text (`query: true` is the expression `true`), but not null.
    private func expression(_ entry: Entry, path: String) throws(MappingConfigError) -> MappingExpression {
        let node = entry.value
        guard case .scalar(let text, let quoted) = node.value else {
            throw typeError(node, at: entry.keyNode, path: path, expected: "a jq expression string")
        }
        if !quoted, YAMLScalar.resolve(text) == .null {
            throw typeError(node, at: entry.keyNode, path: path, expected: "a jq expression string")
        }
        if text.allSatisfy({ $0.isWhitespace }) {
            throw MappingConfigError(location: node.location, path: path, message: "empty jq expression")
        }
        if text.utf8.contains(0) {
            throw MappingConfigError(location: node.location, path: path,
                                     message: "jq expression contains a NUL character")
        }
        return MappingExpression(text, location: node.location)
    }

    private func bool(_ entry: Entry, path: String) throws(MappingConfigError) -> Bool {
        if case .scalar(let text, false) = entry.value.value, case .bool(let flag) = YAMLScalar.resolve(text) {
            return flag
        }
        throw typeError(entry.value, at: entry.keyNode, path: path, expected: "true or false")
    }

    private func number(_ entry: Entry, path: String) throws(MappingConfigError) -> Double {
        if case .scalar(let text, false) = entry.value.value, case .number(let number) = YAMLScalar.resolve(text),
           number.isFinite
        {
            return number
        }
        throw typeError(entry.value, at: entry.keyNode, path: path, expected: "a number between 0 and 1")
    }

    // MARK: - Structure

    /// The entries of a mapping node with scalar keys; a key outside `allowed` (when given) is an error.
    /// - Parameter key: the key the node is the value of, where a type error is reported.
    private func mapping(_ node: YAMLNode, at key: YAMLNode? = nil, path: String, allowed: [String]?)
        throws(MappingConfigError) -> [Entry]
    {
        guard case .mapping(let pairs) = node.value else {
            throw typeError(node, at: key, path: path, expected: "a mapping")
        }
        var entries: [Entry] = []
        var seen: Set<String> = []
        for pair in pairs {
            guard case .scalar(let key, _) = pair.key.value else {
                throw MappingConfigError(location: pair.key.location, path: path,
                                         message: "keys must be plain strings, got \(pair.key.typeDescription)")
            }
            let keyPath = path.isEmpty ? key : path + "." + key
            if let allowed, !allowed.contains(key) {
                if let reason = Self.unsupported[key] {
                    throw MappingConfigError(location: pair.key.location, path: keyPath, message: reason)
                }
                let list = allowed.map { "`\($0)`" }.joined(separator: ", ")
                throw MappingConfigError(location: pair.key.location, path: keyPath,
                                         message: "unknown key `\(key)` (expected \(list))")
            }
            guard seen.insert(key).inserted else {
                throw MappingConfigError(location: pair.key.location, path: keyPath, message: "duplicate key `\(key)`")
            }
            entries.append((key: key, keyNode: pair.key, value: pair.value))
        }
        return entries
    }

    private func required(_ key: String, in entries: [Entry], of node: YAMLNode, path: String)
        throws(MappingConfigError) -> Entry
    {
        guard let entry = entries.first(where: { $0.key == key }) else {
            throw MappingConfigError(location: node.location, path: path, message: "missing required key `\(key)`")
        }
        return entry
    }

    /// A wrong type, reported at the key when there is one (a nested mapping starts a line later).
    private func typeError(_ node: YAMLNode, at key: YAMLNode? = nil, path: String, expected: String)
        -> MappingConfigError
    {
        MappingConfigError(location: (key ?? node).location, path: path,
                           message: "expected \(expected), got \(node.typeDescription)")
    }
}
