import Store

/// One raw descriptor document and where it came from.
public struct CatalogDescriptor: Sendable {
    /// The document as written (a JSON object once valid).
    public var body: JSONValue
    /// `backstage.io/managed-by-location`: the file that yielded it, e.g. `file:/abs/catalog-info.yaml`.
    public var location: String
    /// `backstage.io/managed-by-origin-location`: where the walk started (`location` when nil).
    public var origin: String?
    /// The file named in problems.
    public var file: String
    /// 1-based line where the document starts (0 when unknown).
    public var line: Int

    /// A document as read from `file`; `location` and `origin` go into the managed-by annotations.
    public init(body: JSONValue, location: String, origin: String? = nil, file: String, line: Int = 0) {
        self.body = body
        self.location = location
        self.origin = origin
        self.file = file
        self.line = line
    }
}

/// Entities materialized from descriptors, and the descriptors that could not become one.
public struct MaterializedCatalog: Sendable {
    public var entities: [JSONValue] = []
    public var problems: [DescriptorProblem] = []
}

/// Turns raw Backstage descriptor documents (as written in catalog-info.yaml) into entities as the
/// catalog serves them: namespace defaulted, relations emitted in both directions like Backstage's
/// built-in processors, location annotations, stable uids and etags.
///
/// - Null (empty) documents produce no entity; `kind: Location` descriptors are entities without
///   relations.
/// - Relations follow the built-in processors: each spec field emits its relation on the entity
///   and the reverse one on the target when the target is in the set. Refs default to the
///   field's kind and to the referring entity's namespace. Relations are `{type, targetRef}`,
///   de-duplicated and sorted by type then targetRef.
/// - The managed-by annotations are set as Backstage sets them, over any value the descriptor wrote.
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

    /// Materializes descriptors as Backstage processes them, one at a time: a descriptor that is not
    /// a mapping, lacks `kind` or `metadata.name`, has a mistyped relation field or an unparseable
    /// ref, or repeats an entity ref defined earlier (case-insensitively) becomes a problem naming
    /// its file and line, and the others are still materialized.
    public static func materialize(_ descriptors: [CatalogDescriptor]) -> MaterializedCatalog {
        var processor = Run()
        return processor.materialize(descriptors)
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
        var failed = false
    }

    /// The state of one materialization.
    private struct Run {
        private var pending: [Pending] = []
        private var index: [EntityRef: Int] = [:]
        private var relations: [EntityRef: Set<Relation>] = [:]
        private var problems: [DescriptorProblem] = []

        mutating func materialize(_ descriptors: [CatalogDescriptor]) -> MaterializedCatalog {
            for descriptor in descriptors { admit(descriptor) }
            // An entity with an unusable ref fails as a whole, so refs are checked before any
            // relation (or reverse relation) is emitted.
            var outgoing: [[(rule: RelationRule, target: EntityRef)]] = []
            for position in pending.indices {
                if let targets = relationTargets(pending[position]) {
                    outgoing.append(targets)
                } else {
                    pending[position].failed = true
                    index[pending[position].ref] = nil
                    outgoing.append([])
                }
            }
            for (position, entry) in pending.enumerated() where !entry.failed {
                for (rule, target) in outgoing[position] {
                    relations[entry.ref, default: []].insert(Relation(type: rule.outgoing, targetRef: target.description))
                    if index[target] != nil {
                        relations[target, default: []].insert(Relation(type: rule.reverse, targetRef: entry.ref.description))
                    }
                }
            }
            return MaterializedCatalog(entities: pending.filter { !$0.failed }.map(finish), problems: problems)
        }

        private mutating func fail(_ source: CatalogDescriptor, entity: String? = nil, _ reason: DescriptorProblem.Reason) {
            problems.append(DescriptorProblem(file: source.file, line: source.line, entity: entity, reason: reason))
        }

        /// Checks the envelope of one descriptor and queues it (namespace defaulted) unless skipped.
        private mutating func admit(_ source: CatalogDescriptor) {
            if source.body.isNull { return }
            guard case .object(var body) = source.body else {
                fail(source, .notAMapping(found: source.body.typeName))
                return
            }
            guard let kind = body["kind"]?.stringValue, !kind.isEmpty else {
                fail(source, .invalid(field: "kind", rule: "must be a non-empty string"))
                return
            }
            guard case .object(var metadata)? = body["metadata"], let name = metadata["name"]?.stringValue, !name.isEmpty else {
                fail(source, .invalid(field: "metadata.name", rule: "must be a non-empty string"))
                return
            }
            var namespace = "default"
            if let value = metadata["namespace"], !value.isNull {
                guard let text = value.stringValue, !text.isEmpty else {
                    fail(source, .invalid(field: "metadata.namespace", rule: "must be a non-empty string"))
                    return
                }
                namespace = text
            }
            let written = DescriptorProblem.writtenRef(body)
            if let annotations = metadata["annotations"], !annotations.isNull, annotations.objectValue == nil {
                fail(source, entity: written, .invalid(field: "metadata.annotations", rule: "must be a mapping, found \(annotations.typeName)"))
                return
            }
            if let spec = body["spec"], !spec.isNull, spec.objectValue == nil {
                fail(source, entity: written, .invalid(field: "spec", rule: "must be a mapping, found \(spec.typeName)"))
                return
            }
            metadata["namespace"] = .string(namespace)
            body["metadata"] = .object(metadata)

            let ref = EntityRef(kind: kind, namespace: namespace, name: name)
            if let existing = index[ref] {
                let first = pending[existing].source
                fail(source, entity: written, .duplicate(ref: ref.description, firstFile: first.file, firstLine: first.line))
                return
            }
            index[ref] = pending.count
            pending.append(Pending(body: body, ref: ref, source: source))
        }

        /// The refs of one entity's relation fields, or nil (with a problem) when one is unusable.
        private mutating func relationTargets(_ entry: Pending) -> [(rule: RelationRule, target: EntityRef)]? {
            guard let rules = CatalogProcessor.rules[entry.ref.kind],
                  case .object(let spec)? = entry.body["spec"]
            else { return [] }
            let written = entry.ref.description
            var targets: [(rule: RelationRule, target: EntityRef)] = []
            var usable = true
            for rule in rules {
                guard let value = spec[rule.field], !value.isNull else { continue }
                var texts: [(String, String)] = []  // (field path, ref text)
                switch value {
                case .string(let text):
                    texts.append(("spec.\(rule.field)", text))
                case .array(let items):
                    for (position, item) in items.enumerated() {
                        guard let text = item.stringValue else {
                            fail(entry.source, entity: written, .invalid(field: "spec.\(rule.field)[\(position)]",
                                                                         rule: "must be an entity ref string, found \(item.typeName)"))
                            usable = false
                            continue
                        }
                        texts.append(("spec.\(rule.field)[\(position)]", text))
                    }
                default:
                    fail(entry.source, entity: written, .invalid(field: "spec.\(rule.field)",
                                                                 rule: "must be an entity ref string or a list of them, found \(value.typeName)"))
                    usable = false
                    continue
                }
                for (path, text) in texts {
                    guard let target = EntityRef(parsing: text, defaultKind: rule.defaultKind,
                                                 defaultNamespace: entry.ref.namespace)
                    else {
                        let hint = rule.defaultKind == nil ? " (this field needs the kind, e.g. component:name)" : ""
                        fail(entry.source, entity: written, .invalid(field: path, rule: "\"\(text)\" is not an entity ref\(hint)"))
                        usable = false
                        continue
                    }
                    targets.append((rule, target))
                }
            }
            return usable ? targets : nil
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
            annotations[CatalogProcessor.managedByOriginLocation] = .string(entry.source.origin ?? entry.source.location)
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
