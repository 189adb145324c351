import Foundation

/// The Port routes the fake serves, recognized on the raw path; each path segment is
/// percent-decoded only after splitting, so an identifier may contain `%2F`. These are the routes
/// mirrorctl calls plus those the fake's own protocol tests drive (listing and replacing
/// blueprints, reading and deleting one entity, the global search); others answer 404.
enum FakePortRoute: Equatable {
    case accessToken
    case listBlueprints
    case createBlueprint
    case getBlueprint(String)
    case replaceBlueprint(String)
    case patchBlueprint(String)
    case deleteBlueprint(String)
    case createEntity(blueprint: String)
    case bulkCreate(blueprint: String)
    case searchBlueprint(blueprint: String)
    case bulkDelete(blueprint: String)
    case getEntity(blueprint: String, identifier: String)
    case deleteEntity(blueprint: String, identifier: String)
    case searchEntities
    case getIntegration(String)
    case patchResyncState(String)
    case adminStats
    case adminResetStats
    case unknown

    init(method: String, rawPath: String) {
        var raw = Substring(rawPath)
        while raw.count > 1, raw.hasSuffix("/") { raw = raw.dropLast() }
        let pieces = raw.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var segments: [String] = []
        for piece in pieces {
            guard let decoded = String(piece).removingPercentEncoding else {
                self = .unknown
                return
            }
            segments.append(decoded)
        }
        self = Self.match(method.uppercased(), segments)
    }

    private static func match(_ method: String, _ s: [String]) -> FakePortRoute {
        switch (method, s.count) {
        case ("GET", 2) where s == ["admin", "stats"]: return .adminStats
        case ("POST", 2) where s == ["admin", "reset-stats"]: return .adminResetStats
        default: break
        }
        guard s.first == "v1" else { return .unknown }
        let rest = Array(s.dropFirst())
        switch (method, rest.count) {
        case ("POST", 2) where rest == ["auth", "access_token"]: return .accessToken
        case ("POST", 2) where rest == ["entities", "search"]: return .searchEntities
        case ("GET", 2) where rest[0] == "integration": return .getIntegration(rest[1])
        case ("PATCH", 3) where rest[0] == "integration" && rest[2] == "resync-state": return .patchResyncState(rest[1])
        case ("GET", 1) where rest[0] == "blueprints": return .listBlueprints
        case ("POST", 1) where rest[0] == "blueprints": return .createBlueprint
        default: break
        }
        guard rest.count >= 2, rest[0] == "blueprints" else { return .unknown }
        let blueprint = rest[1]
        let tail = Array(rest.dropFirst(2))
        switch (method, tail.count) {
        case ("GET", 0): return .getBlueprint(blueprint)
        case ("PUT", 0): return .replaceBlueprint(blueprint)
        case ("PATCH", 0): return .patchBlueprint(blueprint)
        case ("DELETE", 0): return .deleteBlueprint(blueprint)
        case ("POST", 1) where tail[0] == "entities": return .createEntity(blueprint: blueprint)
        case ("POST", 2) where tail == ["entities", "bulk"]: return .bulkCreate(blueprint: blueprint)
        case ("POST", 2) where tail == ["entities", "search"]: return .searchBlueprint(blueprint: blueprint)
        case ("POST", 3) where tail == ["bulk", "entities", "delete"]: return .bulkDelete(blueprint: blueprint)
        case (_, 2) where tail[0] == "entities":
            let identifier = tail[1]
            switch method {
            case "GET": return .getEntity(blueprint: blueprint, identifier: identifier)
            case "DELETE": return .deleteEntity(blueprint: blueprint, identifier: identifier)
            default: return .unknown
            }
        default: return .unknown
        }
    }

    /// The route template for logs and counters.
    var template: String {
        let entities = "/v1/blueprints/{blueprint}/entities"
        switch self {
        case .accessToken: return "POST /v1/auth/access_token"
        case .listBlueprints: return "GET /v1/blueprints"
        case .createBlueprint: return "POST /v1/blueprints"
        case .getBlueprint: return "GET /v1/blueprints/{blueprint}"
        case .replaceBlueprint: return "PUT /v1/blueprints/{blueprint}"
        case .patchBlueprint: return "PATCH /v1/blueprints/{blueprint}"
        case .deleteBlueprint: return "DELETE /v1/blueprints/{blueprint}"
        case .createEntity: return "POST \(entities)"
        case .bulkCreate: return "POST \(entities)/bulk"
        case .searchBlueprint: return "POST \(entities)/search"
        case .bulkDelete: return "POST /v1/blueprints/{blueprint}/bulk/entities/delete"
        case .getEntity: return "GET \(entities)/{identifier}"
        case .deleteEntity: return "DELETE \(entities)/{identifier}"
        case .searchEntities: return "POST /v1/entities/search"
        case .getIntegration: return "GET /v1/integration/{identifier}"
        case .patchResyncState: return "PATCH /v1/integration/{identifier}/resync-state"
        case .adminStats: return "GET /admin/stats"
        case .adminResetStats: return "POST /admin/reset-stats"
        case .unknown: return "unknown"
        }
    }

    /// Writes are POST/PUT/PATCH/DELETE other than the token and search routes.
    var isWrite: Bool {
        switch self {
        case .createBlueprint, .replaceBlueprint, .patchBlueprint, .deleteBlueprint, .createEntity, .bulkCreate,
             .bulkDelete, .deleteEntity:
            return true
        default:
            return false
        }
    }

    var isAdmin: Bool { self == .adminStats || self == .adminResetStats }
}
