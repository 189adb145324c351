import Foundation

extension FakeBackstage {
    /// A realistic catalog of final entities (as Backstage serves them) for tests and benchmarks:
    /// about 50% Components, 15% APIs, 20% Users, 5% Groups, 5% Systems, 3% Resources, 2% Domains,
    /// with descriptions, tags, links, location annotations, per-kind specs and relations in both
    /// directions (lower-case `targetRef`s, sorted by type then target). Each entity serializes to
    /// roughly 1.5–2 KB. The same `count` and `seed` always give the same entities, uids included.
    public static func generateCatalog(count: Int, seed: UInt64) -> [FakeJSON] {
        var generator = CatalogGenerator(seed: seed)
        return generator.generate(count: count)
    }
}

/// Builds the drafts kind by kind (owners before the things they own), links them, then renders
/// each draft as a final entity with its etag.
struct CatalogGenerator {
    private var random: SeededRandom
    private var drafts: [EntityDraft] = []
    private var usedUIDs: Set<String> = []

    private var groups: [Int] = []
    private var teams: [Int] = []
    private var users: [Int] = []
    private var domains: [Int] = []
    private var systems: [Int] = []
    private var resources: [Int] = []
    private var apis: [Int] = []
    private var components: [Int] = []

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    /// How many of each kind a catalog of `count` entities holds.
    struct KindCounts {
        var domains, groups, users, systems, resources, apis, components: Int

        init(total: Int) {
            let total = max(0, total)
            domains = total * 2 / 100
            groups = max(total >= 2 ? 1 : 0, total * 5 / 100)
            users = total * 20 / 100
            systems = total * 5 / 100
            resources = total * 3 / 100
            apis = total * 15 / 100
            components = total - domains - groups - users - systems - resources - apis
        }
    }

    mutating func generate(count: Int) -> [FakeJSON] {
        let counts = KindCounts(total: count)
        makeGroups(counts.groups)
        makeUsers(counts.users)
        makeDomains(counts.domains)
        makeSystems(counts.systems)
        makeResources(counts.resources)
        makeAPIs(counts.apis)
        makeComponents(counts.components)
        return EntityEtags.stamped(drafts.map { $0.render() })
    }

    // MARK: - Kinds

    private mutating func makeGroups(_ count: Int) {
        guard count > 0 else { return }
        // A flat-ish org: one organization, up to 40 departments, teams under them.
        let departmentCount = max(0, min(count - 1, count / 5, 40))
        for index in 0..<count {
            let name: String
            let type: String
            if index == 0 {
                name = "acme-corp"
                type = "organization"
            } else if index <= departmentCount {
                name = "\(random.pick(Words.areas))-dept-\(index)"
                type = "department"
            } else {
                name = "team-\(random.pick(Words.areas))-\(index)"
                type = "team"
            }
            let draft = newDraft(kind: "Group", namespace: "default", name: name, repository: "org-data")
            groups.append(draft)
            if type == "team" || count == 1 { teams.append(draft) }
            drafts[draft].spec = [
                "type": .string(type),
                "profile": [
                    "displayName": .string(Words.title(name)),
                    "email": .string("\(name)@acme.example.com"),
                ],
                "children": [],
            ]
            if index > 0 {
                let parent = index <= departmentCount || departmentCount == 0
                    ? groups[0] : groups[1 + Int.random(in: 0..<departmentCount, using: &random)]
                drafts[draft].spec["parent"] = .string(drafts[parent].name)
                appendToSpecArray(parent, "children", drafts[draft].name)
                link(draft, "childOf", parent)
            }
        }
        if teams.isEmpty { teams = groups }
    }

    private mutating func makeUsers(_ count: Int) {
        for index in 0..<count {
            let first = random.pick(Words.firstNames)
            let last = random.pick(Words.lastNames)
            let name = "\(first).\(last)\(index)"
            let draft = newDraft(kind: "User", namespace: "default", name: name, repository: "org-data")
            users.append(draft)
            drafts[draft].spec = [
                "profile": [
                    "displayName": .string("\(first.capitalized) \(last.capitalized)"),
                    "email": .string("\(name)@acme.example.com"),
                    "picture": .string("https://avatars.acme.example.com/\(name).png"),
                ],
                "memberOf": [],
            ]
            guard !teams.isEmpty else { continue }
            var memberships = Set<Int>()
            let wanted = random.chance(0.2) ? 2 : 1
            for _ in 0..<wanted { memberships.insert(random.pick(teams)) }
            for group in memberships.sorted() {
                appendToSpecArray(draft, "memberOf", specRef(to: group, defaultKind: "group", from: draft))
                if drafts[group].spec["members"] == nil { drafts[group].spec["members"] = [] }
                appendToSpecArray(group, "members", drafts[draft].name)
                link(draft, "memberOf", group)
            }
        }
    }

    private mutating func makeDomains(_ count: Int) {
        for index in 0..<count {
            let draft = newDraft(kind: "Domain", namespace: "default",
                                 name: "\(random.pick(Words.areas))-domain-\(index)", repository: "domains")
            domains.append(draft)
            drafts[draft].spec = ["type": .string(random.pick(["product-area", "business", "platform"]))]
            setOwner(draft)
            if domains.count > 1, random.chance(0.2) {
                let parent = domains[Int.random(in: 0..<(domains.count - 1), using: &random)]
                drafts[draft].spec["subdomainOf"] = .string(specRef(to: parent, defaultKind: "domain", from: draft))
                link(draft, "partOf", parent)
            }
        }
    }

    private mutating func makeSystems(_ count: Int) {
        for index in 0..<count {
            let draft = newDraft(kind: "System", namespace: randomNamespace(),
                                 name: "\(random.pick(Words.areas))-system-\(index)", repository: "systems")
            systems.append(draft)
            drafts[draft].spec = ["type": .string(random.pick(["feature-set", "product", "platform"]))]
            setOwner(draft)
            if !domains.isEmpty {
                let domain = random.pick(domains)
                drafts[draft].spec["domain"] = .string(specRef(to: domain, defaultKind: "domain", from: draft))
                link(draft, "partOf", domain)
            }
        }
    }

    private mutating func makeResources(_ count: Int) {
        for index in 0..<count {
            let type = random.pick(["database", "s3-bucket", "kafka-topic", "redis-cluster", "queue"])
            let draft = newDraft(kind: "Resource", namespace: randomNamespace(),
                                 name: "\(random.pick(Words.areas))-\(type)-\(index)", repository: "infrastructure")
            resources.append(draft)
            drafts[draft].spec = ["type": .string(type)]
            setOwner(draft)
            setSystem(draft)
            if resources.count > 1, random.chance(0.15) {
                let other = resources[Int.random(in: 0..<(resources.count - 1), using: &random)]
                drafts[draft].spec["dependsOn"] = [.string(specRef(to: other, defaultKind: nil, from: draft))]
                link(draft, "dependsOn", other)
            }
        }
    }

    private mutating func makeAPIs(_ count: Int) {
        for index in 0..<count {
            let area = random.pick(Words.areas)
            let type = random.pick(["openapi", "openapi", "openapi", "grpc", "asyncapi", "graphql"])
            let draft = newDraft(kind: "API", namespace: randomNamespace(),
                                 name: "\(area)-\(type)-api-\(index)", repository: "\(area)-apis")
            apis.append(draft)
            drafts[draft].spec = [
                "type": .string(type),
                "lifecycle": .string(random.pick(Words.lifecycles)),
                "definition": .string(apiDefinition(name: drafts[draft].name, type: type)),
            ]
            setOwner(draft)
            setSystem(draft)
        }
    }

    private mutating func makeComponents(_ count: Int) {
        for index in 0..<count {
            let area = random.pick(Words.areas)
            let suffix = random.pick(Words.componentSuffixes)
            var name = "\(area)-\(suffix)-\(index)"
            // A few mixed-case names: lookups and filters must be case-insensitive.
            if random.chance(0.02) { name = Words.title(name).replacingOccurrences(of: " ", with: "-") }
            let draft = newDraft(kind: "Component", namespace: randomNamespace(), name: name, repository: "\(area)-\(suffix)")
            components.append(draft)
            drafts[draft].spec = [
                "type": .string(suffix == "web" || suffix == "frontend" ? "website"
                    : (suffix == "lib" || suffix == "sdk" ? "library" : "service")),
                "lifecycle": .string(random.pick(Words.lifecycles)),
            ]
            setOwner(draft)
            setSystem(draft)
            linkAPIs(draft, index: index, componentCount: count)
            linkDependencies(draft)
            if components.count > 1, random.chance(0.05) {
                let parent = components[Int.random(in: 0..<(components.count - 1), using: &random)]
                drafts[draft].spec["subcomponentOf"] = .string(specRef(to: parent, defaultKind: "component", from: draft))
                link(draft, "partOf", parent)
            }
        }
    }

    /// Every API gets one provider (spread over the components); components also consume a few.
    private mutating func linkAPIs(_ draft: Int, index: Int, componentCount: Int) {
        var provided: [Int] = []
        var position = index
        while position < apis.count {
            provided.append(apis[position])
            position += max(1, componentCount)
        }
        if !apis.isEmpty, random.chance(0.25) { provided.append(random.pick(apis)) }
        for api in Set(provided).sorted() {
            appendToSpecArray(draft, "providesApis", specRef(to: api, defaultKind: "api", from: draft))
            link(draft, "providesApi", api)
        }
        guard !apis.isEmpty else { return }
        var consumed = Set<Int>()
        for _ in 0..<Int.random(in: 0...3, using: &random) { consumed.insert(random.pick(apis)) }
        for api in consumed.subtracting(provided).sorted() {
            appendToSpecArray(draft, "consumesApis", specRef(to: api, defaultKind: "api", from: draft))
            link(draft, "consumesApi", api)
        }
    }

    private mutating func linkDependencies(_ draft: Int) {
        var targets = Set<Int>()
        if !resources.isEmpty {
            for _ in 0..<Int.random(in: 0...2, using: &random) { targets.insert(random.pick(resources)) }
        }
        if components.count > 1, random.chance(0.3) {
            targets.insert(components[Int.random(in: 0..<(components.count - 1), using: &random)])
        }
        for target in targets.sorted() {
            appendToSpecArray(draft, "dependsOn", specRef(to: target, defaultKind: nil, from: draft))
            link(draft, "dependsOn", target)
        }
        // Dangling references are normal in real catalogs.
        if random.chance(0.02) {
            let ghost = "component:\(drafts[draft].namespace)/legacy-\(random.pick(Words.areas))"
            appendToSpecArray(draft, "dependsOn", ghost)
            drafts[draft].relations.insert(EntityDraft.Relation(type: "dependsOn", targetRef: ghost))
        }
    }

    // MARK: - Helpers

    private mutating func newDraft(kind: String, namespace: String, name: String, repository: String) -> Int {
        var uid = random.uuidV4()
        while usedUIDs.contains(uid) { uid = random.uuidV4() }
        usedUIDs.insert(uid)
        var draft = EntityDraft(kind: kind, namespace: namespace, name: name, uid: uid)
        draft.metadata = commonMetadata(kind: kind, name: name, repository: repository)
        drafts.append(draft)
        return drafts.count - 1
    }

    private mutating func randomNamespace() -> String {
        random.chance(0.9) ? "default" : random.pick(["platform", "data"])
    }

    private mutating func setOwner(_ draft: Int) {
        guard !groups.isEmpty else { return }
        let owner = random.pick(teams)
        drafts[draft].spec["owner"] = .string(specRef(to: owner, defaultKind: "group", from: draft))
        link(draft, "ownedBy", owner)
    }

    private mutating func setSystem(_ draft: Int) {
        guard !systems.isEmpty, random.chance(0.8) else { return }
        let system = random.pick(systems)
        drafts[draft].spec["system"] = .string(specRef(to: system, defaultKind: "system", from: draft))
        link(draft, "partOf", system)
    }

    private mutating func appendToSpecArray(_ draft: Int, _ key: String, _ value: String) {
        var items = drafts[draft].spec[key]?.arrayValue ?? []
        items.append(.string(value))
        drafts[draft].spec[key] = .array(items)
    }

    /// A reference as a person would write it in a spec field: as short as the defaults allow.
    private func specRef(to target: Int, defaultKind: String?, from source: Int) -> String {
        let targetDraft = drafts[target]
        let kind = targetDraft.kind.lowercased()
        if targetDraft.namespace == drafts[source].namespace {
            return kind == defaultKind ? targetDraft.name : "\(kind):\(targetDraft.name)"
        }
        return "\(kind):\(targetDraft.namespace)/\(targetDraft.name)"
    }

    /// Records `type` on `source` and its reverse on `target`, as Backstage's processors do.
    private mutating func link(_ source: Int, _ type: String, _ target: Int) {
        drafts[source].relations.insert(EntityDraft.Relation(type: type, targetRef: drafts[target].ref))
        if let reverse = RelationTypes.reverse[type] {
            drafts[target].relations.insert(EntityDraft.Relation(type: reverse, targetRef: drafts[source].ref))
        }
    }

    private mutating func commonMetadata(kind: String, name: String, repository: String) -> [String: FakeJSON] {
        let repo = "https://github.com/acme/\(repository)"
        let file = kind == "User" || kind == "Group" ? "org/\(name.lowercased()).yaml" : "catalog-info.yaml"
        var annotations: [String: FakeJSON] = [
            "backstage.io/managed-by-location": .string("url:\(repo)/blob/main/\(file)"),
            "backstage.io/managed-by-origin-location": .string("url:https://github.com/acme/backstage-catalog/blob/main/all.yaml"),
            "backstage.io/view-url": .string("\(repo)/blob/main/\(file)"),
            "backstage.io/edit-url": .string("\(repo)/edit/main/\(file)"),
            "backstage.io/source-location": .string("url:\(repo)/tree/main/"),
        ]
        if kind == "Component" || kind == "API" {
            annotations["github.com/project-slug"] = .string("acme/\(repository)")
            if random.chance(0.5) { annotations["backstage.io/techdocs-ref"] = "dir:." }
            if random.chance(0.3) {
                annotations["pagerduty.com/service-id"] = .string("P\(String(random.next() % 1_000_000_000, radix: 36).uppercased())")
            }
        }
        var metadata: [String: FakeJSON] = [
            "description": .string(Words.description(for: kind, name: name, random: &random)),
            "annotations": .object(annotations),
        ]
        if kind != "User" {
            var tags = Set<String>()
            for _ in 0..<Int.random(in: 1...4, using: &random) { tags.insert(random.pick(Words.tags)) }
            metadata["tags"] = .array(tags.sorted().map { .string($0) })
            metadata["title"] = .string(Words.title(name))
        }
        if kind == "Component" || kind == "API" || kind == "System" {
            var links: [FakeJSON] = [
                ["url": .string(repo), "title": "Repository", "icon": "github"],
                ["url": .string("https://runbooks.acme.example.com/\(name.lowercased())"), "title": "Runbook"],
            ]
            if random.chance(0.5) {
                links.append(["url": .string("https://grafana.acme.example.com/d/\(name.lowercased())"),
                              "title": "Dashboard", "icon": "dashboard", "type": "dashboard"])
            }
            metadata["links"] = .array(links)
            metadata["labels"] = ["acme.example.com/cost-center": .string("cc-\(1000 + random.next() % 9000)")]
        }
        return metadata
    }

    private mutating func apiDefinition(name: String, type: String) -> String {
        let version = "1.\(random.next() % 20).\(random.next() % 10)"
        switch type {
        case "grpc":
            return """
                syntax = "proto3";
                package acme.\(name.replacingOccurrences(of: "-", with: "_"));
                service Api {
                  rpc Get (GetRequest) returns (Item);
                  rpc List (ListRequest) returns (ListResponse);
                }
                message GetRequest { string id = 1; }
                message ListRequest { int32 page_size = 1; string page_token = 2; }
                message Item { string id = 1; string name = 2; int64 updated_at = 3; }
                message ListResponse { repeated Item items = 1; string next_page_token = 2; }
                """
        case "graphql":
            return """
                type Query {
                  item(id: ID!): Item
                  items(first: Int, after: String): ItemConnection!
                }
                type Item { id: ID! name: String! updatedAt: String }
                type ItemConnection { nodes: [Item!]! endCursor: String }
                """
        case "asyncapi":
            return """
                asyncapi: 2.6.0
                info:
                  title: \(name)
                  version: \(version)
                channels:
                  \(name)/events:
                    subscribe:
                      message:
                        payload:
                          type: object
                          properties:
                            id: {type: string}
                            kind: {type: string}
                """
        default:
            return """
                openapi: 3.0.3
                info:
                  title: \(name)
                  version: \(version)
                paths:
                  /items:
                    get:
                      summary: List items
                      responses:
                        '200': {description: OK}
                  /items/{id}:
                    get:
                      summary: Get one item
                      parameters:
                        - {name: id, in: path, required: true, schema: {type: string}}
                      responses:
                        '200': {description: OK}
                        '404': {description: Not found}
                """
        }
    }
}

/// One entity while the generator links it up.
struct EntityDraft {
    struct Relation: Hashable, Comparable {
        let type: String
        let targetRef: String

        static func < (lhs: Relation, rhs: Relation) -> Bool {
            (lhs.type, lhs.targetRef) < (rhs.type, rhs.targetRef)
        }
    }

    let kind: String
    let namespace: String
    let name: String
    let uid: String
    var metadata: [String: FakeJSON] = [:]
    var spec: [String: FakeJSON] = [:]
    var relations: Set<Relation> = []

    /// The canonical lower-case ref, as relation targets hold it.
    let ref: String

    init(kind: String, namespace: String, name: String, uid: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        ref = BackstageRef(kind: kind, namespace: namespace, name: name).description
    }

    /// The final entity without its etag.
    func render() -> FakeJSON {
        var metadata = self.metadata
        metadata["namespace"] = .string(namespace)
        metadata["name"] = .string(name)
        metadata["uid"] = .string(uid)
        return [
            "apiVersion": "backstage.io/v1alpha1",
            "kind": .string(kind),
            "metadata": .object(metadata),
            "spec": .object(spec),
            "relations": .array(relations.sorted().map { ["type": .string($0.type), "targetRef": .string($0.targetRef)] }),
        ]
    }
}

/// The built-in relation pairs (reference §4): each type and the one stored on the other end.
enum RelationTypes {
    static let reverse: [String: String] = [
        "ownedBy": "ownerOf", "ownerOf": "ownedBy",
        "partOf": "hasPart", "hasPart": "partOf",
        "providesApi": "apiProvidedBy", "apiProvidedBy": "providesApi",
        "consumesApi": "apiConsumedBy", "apiConsumedBy": "consumesApi",
        "dependsOn": "dependencyOf", "dependencyOf": "dependsOn",
        "memberOf": "hasMember", "hasMember": "memberOf",
        "childOf": "parentOf", "parentOf": "childOf",
    ]
}
