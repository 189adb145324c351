import Store

/// One raw descriptor document and where it came from.
public struct CatalogDescriptor: Sendable {
    /// The document as written (a JSON object once valid).
    public var body: JSONValue
    /// The location string for the managed-by annotations, e.g. `file:/abs/catalog-info.yaml`.
    public var location: String
    /// The file named in errors.
    public var file: String
    /// 1-based index of the document within its file.
    public var document: Int
    /// 1-based line where the document starts (0 when unknown).
    public var line: Int

    /// A document as read from `file`; `location` goes into the managed-by annotations.
    public init(body: JSONValue, location: String, file: String, document: Int, line: Int = 0) {
        self.body = body
        self.location = location
        self.file = file
        self.document = document
        self.line = line
    }
}

/// A descriptor the processor cannot turn into an entity.
public struct CatalogProcessorError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong with the descriptor.
    public enum Reason: Sendable, Equatable {
        /// The document is not a mapping; `found` is its JSON type.
        case notAMapping(found: String)
        /// A required field (`kind`, `metadata`, `metadata.name`) is absent or empty.
        case missingField(String)
        /// A field has the wrong type or an unusable value.
        case invalidField(String, message: String)
        /// Another descriptor already defines this entity ref.
        case duplicateEntity(ref: String, firstFile: String, firstDocument: Int)
    }

    /// The file the descriptor came from.
    public let file: String
    /// 1-based index of the document in its file.
    public let document: Int
    /// 1-based line where the document starts (0 when unknown).
    public let line: Int
    public let reason: Reason

    /// An error about document `document` of `file`.
    public init(file: String, document: Int, line: Int, reason: Reason) {
        self.file = file
        self.document = document
        self.line = line
        self.reason = reason
    }

    /// `FILE:LINE: document N: message`.
    public var description: String {
        let place = line > 0 ? "\(file):\(line): document \(document)" : "\(file): document \(document)"
        switch reason {
        case .notAMapping(let found):
            return "\(place): a descriptor must be a mapping, found \(found)"
        case .missingField(let field):
            return "\(place): missing required field \(field)"
        case .invalidField(let field, let message):
            return "\(place): \(field): \(message)"
        case .duplicateEntity(let ref, let firstFile, let firstDocument):
            return "\(place): entity \(ref) is already defined in \(firstFile) (document \(firstDocument))"
        }
    }
}

/// Turns raw Backstage descriptor documents (as written in catalog-info.yaml) into entities as the
/// catalog serves them: namespace defaulted, relations emitted in both directions like Backstage's
/// built-in processors, location annotations, stable uids and etags.
///
/// - Null (empty) documents and `kind: Location` descriptors produce no entity.
/// - Relations follow the built-in processors: each spec field emits its relation on the entity
///   and the reverse one on the target when the target is in the set. Refs default to the
///   field's kind and to the referring entity's namespace. Relations are `{type, targetRef}`,
///   de-duplicated and sorted by type then targetRef.
/// - `metadata.uid` is derived from the ref (see `stableUID`), so reloading gives the same uids.
/// - `metadata.etag` is a hash of the entity without uid and etag: it changes exactly when the
///   entity (including its relations) changes.
public enum CatalogProcessor {
    /// The annotation naming the location an entity was read from.
    public static let managedByLocation = "backstage.io/managed-by-location"
    /// The annotation naming the location that was registered (the same for a local catalog).
    public static let managedByOriginLocation = "backstage.io/managed-by-origin-location"
    /// Hex digits kept from the content hash for `metadata.etag`.
    public static let etagLength = 40

    /// Materializes a whole set of descriptors at once (reverse relations need all of them).
    /// Lenient: descriptors that are not mappings or lack `kind`/`metadata.name` are skipped,
    /// refs that do not parse emit no relation, and a ref defined twice keeps the first.
    /// - Parameter locations: the location string recorded in the managed-by annotations,
    ///   e.g. `file:/path/to/catalog-info.yaml`, one per descriptor (same order).
    public static func materialize(_ descriptors: [JSONValue], locations: [String]) -> [JSONValue] {
        precondition(descriptors.count == locations.count, "one location per descriptor")
        var inputs: [CatalogDescriptor] = []
        inputs.reserveCapacity(descriptors.count)
        for (index, body) in descriptors.enumerated() {
            inputs.append(CatalogDescriptor(body: body, location: locations[index], file: locations[index], document: index + 1))
        }
        var processor = Run(strict: false)
        // A non-strict run records no errors, so this never throws.
        return (try? processor.materialize(inputs)) ?? []
    }

    /// Materializes descriptors, refusing the first invalid one.
    /// - Throws: `CatalogProcessorError` naming the file, document index and line of a descriptor
    ///   that is not a mapping, lacks `kind` or `metadata.name`, has a mistyped field or an
    ///   unparseable ref, or repeats an entity ref already defined.
    public static func materialize(_ descriptors: [CatalogDescriptor]) throws(CatalogProcessorError) -> [JSONValue] {
        var processor = Run(strict: true)
        return try processor.materialize(descriptors)
    }

    /// A v4-looking UUID from the first 16 bytes of SHA-256 of `"mirrorctl-uid:" + ref`, with the
    /// version (4) and variant (10xx) bits set. The same ref always gives the same uid.
    public static func stableUID(for ref: EntityRef) -> String {
        let hex = ContentHash(of: Array("mirrorctl-uid:\(ref.description)".utf8)).hex
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var index = hex.startIndex
        for _ in 0..<16 {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(36)
        for (offset, byte) in bytes.enumerated() {
            if offset == 4 || offset == 6 || offset == 8 || offset == 10 { out.append("-") }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return out
    }

    /// The etag of an entity: the content hash of the entity without `metadata.uid` and
    /// `metadata.etag`, cut to `etagLength` hex digits.
    public static func etag(of entity: JSONValue) -> String {
        var body = entity
        if case .object(var root) = body, case .object(var metadata)? = root["metadata"] {
            metadata["uid"] = nil
            metadata["etag"] = nil
            root["metadata"] = .object(metadata)
            body = .object(root)
        }
        return String(ContentHash(canonicalOf: body).hex.prefix(etagLength))
    }

    // MARK: - Relation rules

    /// One spec field that emits relations (section 4 of the catalog API notes).
    struct RelationRule: Sendable {
        let field: String
        /// nil: the ref must name its kind.
        let defaultKind: String?
        let outgoing: String
        let reverse: String
    }

    /// Relation rules per lower-cased kind.
    static let rules: [String: [RelationRule]] = {
        let owner = RelationRule(field: "owner", defaultKind: "group", outgoing: "ownedBy", reverse: "ownerOf")
        let system = RelationRule(field: "system", defaultKind: "system", outgoing: "partOf", reverse: "hasPart")
        let dependsOn = RelationRule(field: "dependsOn", defaultKind: nil, outgoing: "dependsOn", reverse: "dependencyOf")
        let dependencyOf = RelationRule(field: "dependencyOf", defaultKind: nil, outgoing: "dependencyOf", reverse: "dependsOn")
        return [
            "component": [
                owner,
                RelationRule(field: "subcomponentOf", defaultKind: "component", outgoing: "partOf", reverse: "hasPart"),
                RelationRule(field: "providesApis", defaultKind: "api", outgoing: "providesApi", reverse: "apiProvidedBy"),
                RelationRule(field: "consumesApis", defaultKind: "api", outgoing: "consumesApi", reverse: "apiConsumedBy"),
                dependsOn, dependencyOf, system,
            ],
            "api": [owner, system],
            "resource": [owner, dependsOn, dependencyOf, system],
            "user": [RelationRule(field: "memberOf", defaultKind: "group", outgoing: "memberOf", reverse: "hasMember")],
            "group": [
                RelationRule(field: "parent", defaultKind: "group", outgoing: "childOf", reverse: "parentOf"),
                RelationRule(field: "children", defaultKind: "group", outgoing: "parentOf", reverse: "childOf"),
                RelationRule(field: "members", defaultKind: "user", outgoing: "hasMember", reverse: "memberOf"),
            ],
            "system": [owner, RelationRule(field: "domain", defaultKind: "domain", outgoing: "partOf", reverse: "hasPart")],
            "domain": [owner, RelationRule(field: "subdomainOf", defaultKind: "domain", outgoing: "partOf", reverse: "hasPart")],
            "template": [owner],
        ]
    }()

    // MARK: - One run

    private struct Relation: Hashable {
        let type: String
        let targetRef: String
    }

    private struct Pending {
        var body: [String: JSONValue]
        let ref: EntityRef
        let source: CatalogDescriptor
    }

    /// The state of one materialization; `strict` decides between throwing and skipping.
    private struct Run {
        let strict: Bool
        private var pending: [Pending] = []
        private var index: [EntityRef: Int] = [:]
        private var relations: [EntityRef: Set<Relation>] = [:]

        init(strict: Bool) { self.strict = strict }

        mutating func materialize(_ descriptors: [CatalogDescriptor]) throws(CatalogProcessorError) -> [JSONValue] {
            for descriptor in descriptors { try admit(descriptor) }
            for entry in pending { try emitRelations(entry) }
            return pending.map(finish)
        }

        private func fail(_ source: CatalogDescriptor, _ reason: CatalogProcessorError.Reason) throws(CatalogProcessorError) {
            guard strict else { return }
            throw CatalogProcessorError(file: source.file, document: source.document, line: source.line, reason: reason)
        }

        /// Validates one descriptor and queues it (with its namespace defaulted) unless skipped.
        private mutating func admit(_ source: CatalogDescriptor) throws(CatalogProcessorError) {
            if source.body.isNull { return }
            guard case .object(var body) = source.body else {
                try fail(source, .notAMapping(found: source.body.typeName))
                return
            }
            guard let kindValue = body["kind"], !kindValue.isNull else {
                try fail(source, .missingField("kind"))
                return
            }
            guard let kind = kindValue.stringValue, !kind.isEmpty else {
                try fail(source, .invalidField("kind", message: "must be a non-empty string, found \(kindValue.typeName)"))
                return
            }
            if kind.lowercased() == "location" { return }
            guard let metadataValue = body["metadata"], !metadataValue.isNull else {
                try fail(source, .missingField("metadata.name"))
                return
            }
            guard case .object(var metadata) = metadataValue else {
                try fail(source, .invalidField("metadata", message: "must be a mapping, found \(metadataValue.typeName)"))
                return
            }
            guard let nameValue = metadata["name"], !nameValue.isNull else {
                try fail(source, .missingField("metadata.name"))
                return
            }
            guard let name = nameValue.stringValue, !name.isEmpty else {
                try fail(source, .invalidField("metadata.name", message: "must be a non-empty string, found \(nameValue.typeName)"))
                return
            }
            var namespace = "default"
            if let namespaceValue = metadata["namespace"], !namespaceValue.isNull {
                guard let text = namespaceValue.stringValue, !text.isEmpty else {
                    try fail(source, .invalidField("metadata.namespace", message: "must be a non-empty string, found \(namespaceValue.typeName)"))
                    return
                }
                namespace = text
            }
            if let annotations = metadata["annotations"], !annotations.isNull, annotations.objectValue == nil {
                try fail(source, .invalidField("metadata.annotations", message: "must be a mapping, found \(annotations.typeName)"))
                return
            }
            if let spec = body["spec"], !spec.isNull, spec.objectValue == nil {
                try fail(source, .invalidField("spec", message: "must be a mapping, found \(spec.typeName)"))
                return
            }
            metadata["namespace"] = .string(namespace)
            body["metadata"] = .object(metadata)

            let ref = EntityRef(kind: kind, namespace: namespace, name: name)
            if let existing = index[ref] {
                let first = pending[existing].source
                try fail(source, .duplicateEntity(ref: ref.description, firstFile: first.file, firstDocument: first.document))
                return
            }
            index[ref] = pending.count
            pending.append(Pending(body: body, ref: ref, source: source))
        }

        /// Emits the relations of one entity's spec fields, and their reverses on targets we hold.
        private mutating func emitRelations(_ entry: Pending) throws(CatalogProcessorError) {
            guard let rules = CatalogProcessor.rules[entry.ref.kind],
                  case .object(let spec)? = entry.body["spec"]
            else { return }
            for rule in rules {
                guard let value = spec[rule.field], !value.isNull else { continue }
                var texts: [(String, String)] = []  // (field path, ref text)
                switch value {
                case .string(let text):
                    texts.append(("spec.\(rule.field)", text))
                case .array(let items):
                    for (position, item) in items.enumerated() {
                        guard let text = item.stringValue else {
                            try fail(entry.source, .invalidField("spec.\(rule.field)[\(position)]",
                                                                 message: "must be an entity ref string, found \(item.typeName)"))
                            continue
                        }
                        texts.append(("spec.\(rule.field)[\(position)]", text))
                    }
                default:
                    try fail(entry.source, .invalidField("spec.\(rule.field)",
                                                         message: "must be an entity ref string or a list of them, found \(value.typeName)"))
                    continue
                }
                for (path, text) in texts {
                    guard let target = EntityRef(parsing: text, defaultKind: rule.defaultKind,
                                                 defaultNamespace: entry.ref.namespace)
                    else {
                        let hint = rule.defaultKind == nil ? " (this field needs the kind, e.g. component:name)" : ""
                        try fail(entry.source, .invalidField(path, message: "\"\(text)\" is not an entity ref\(hint)"))
                        continue
                    }
                    relations[entry.ref, default: []].insert(Relation(type: rule.outgoing, targetRef: target.description))
                    if index[target] != nil {
                        relations[target, default: []].insert(Relation(type: rule.reverse, targetRef: entry.ref.description))
                    }
                }
            }
        }

        /// Adds relations, annotations, uid and etag to a queued entity.
        private func finish(_ entry: Pending) -> JSONValue {
            var body = entry.body
            let sorted = (relations[entry.ref] ?? []).sorted {
                $0.type != $1.type ? $0.type < $1.type : $0.targetRef < $1.targetRef
            }
            body["relations"] = .array(sorted.map { .object(["type": .string($0.type), "targetRef": .string($0.targetRef)]) })
            var metadata = body["metadata"]?.objectValue ?? [:]
            var annotations = metadata["annotations"]?.objectValue ?? [:]
            annotations[CatalogProcessor.managedByLocation] = .string(entry.source.location)
            annotations[CatalogProcessor.managedByOriginLocation] = .string(entry.source.location)
            metadata["annotations"] = .object(annotations)
            metadata["uid"] = nil
            metadata["etag"] = nil
            body["metadata"] = .object(metadata)
            let etag = CatalogProcessor.etag(of: .object(body))
            metadata["uid"] = .string(CatalogProcessor.stableUID(for: entry.ref))
            metadata["etag"] = .string(etag)
            body["metadata"] = .object(metadata)
            return .object(body)
        }
    }
}
