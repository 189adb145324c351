import Foundation

extension FakeBackstage {
    /// Answers one request: admin routes (when enabled), then the catalog routes with faults,
    /// hooks, auth and counting.
    func respond(to request: HTTPRequest) -> HTTPResponse {
        if configuration.adminRoutes, request.path.hasPrefix("/admin/") {
            return BackstageAdmin.respond(to: request, fake: self)
        }
        let response = respondToCatalog(request)
        record(request, response)
        return response
    }

    private func respondToCatalog(_ request: HTTPRequest) -> HTTPResponse {
        let base = configuration.basePath
        guard request.path == base || request.path.hasPrefix(base + "/") else { return HTTPResponse(status: 404) }
        let relativePath = String(request.path.dropFirst(base.count))
        let route = CatalogRoute(method: request.method, relativePath: relativePath)
        let errorURL = relativePath + QueryString.encode(request.query)
        let context = route.context(for: request)

        for hook in takeHooks(for: context) { hook(self) }
        var wireFault: HTTPResponse.Fault?
        var truncation: Int??
        if let effect = takeFault(for: context) {
            switch effect {
            case .status(let status, let retryAfter):
                let headers = retryAfter.map { [("Retry-After", String($0))] } ?? []
                return BackstageError.forStatus(status).response(method: request.method, url: errorURL, headers: headers)
            case .nonJSON(let status):
                return ProxyErrorPage.response(status: status)
            case .closeConnection:
                return HTTPResponse(status: 0, fault: .closeConnection)
            case .delay(let seconds):
                wireFault = .delay(seconds: seconds)
            case .truncatedBody(let bytes):
                truncation = .some(bytes)
            }
        }

        var response: HTTPResponse
        do throws(BackstageError) {
            try authenticate(request)
            response = try serve(route, request)
        } catch {
            response = error.response(method: request.method, url: errorURL)
        }
        if let truncation {
            wireFault = .truncateBody(bytes: truncation ?? response.body.count / 2)
        }
        response.fault = wireFault
        return response
    }

    /// Static-token auth (reference §2): `Authorization: Bearer <token>`.
    private func authenticate(_ request: HTTPRequest) throws(BackstageError) {
        guard let tokens = configuration.tokens else { return }
        guard let token = request.headers["authorization"].flatMap(Self.bearerToken) else {
            throw .authentication("Missing credentials")
        }
        if configuration.restrictedTokens.contains(token) {
            throw BackstageError(name: "NotAllowedError",
                                 message: "This token's access is restricted to plugin(s) 'scaffolder'", status: 403)
        }
        guard tokens.contains(token) else { throw .authentication("Illegal token") }
    }

    /// The token of `^Bearer[ ]+(\S+)$` ("Bearer" in any case); nil for anything else.
    static func bearerToken(_ header: String) -> String? {
        guard header.count > 6, header.prefix(6).lowercased() == "bearer" else { return nil }
        let rest = header.dropFirst(6)
        guard rest.first == " " else { return nil }
        let token = rest.drop { $0 == " " }
        guard !token.isEmpty, !token.contains(where: \.isWhitespace) else { return nil }
        return String(token)
    }

    private func serve(_ route: CatalogRoute, _ request: HTTPRequest) throws(BackstageError) -> HTTPResponse {
        switch route {
        case .byQuery: return try serveByQuery(request)
        case .byRefs: return try serveByRefs(request)
        case .entities: return try serveEntities(request)
        case .byName(let kind, let namespace, let name):
            let ref = BackstageRef(kind: kind, namespace: namespace, name: name)
            guard let json = withTable({ $0.row(ref: ref)?.json }) else {
                throw .notFound("No entity named '\(name)' found, with kind '\(kind)' in namespace '\(namespace)'")
            }
            return Self.json(json)
        case .byUID(let uid):
            guard let json = withTable({ $0.row(uid: uid)?.json }) else { throw .notFound("No entity with uid \(uid)") }
            return Self.json(json)
        case .unknown:
            // Express answers unknown routes with an empty 404.
            return HTTPResponse(status: 404)
        }
    }

    static func json(_ bytes: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: Data(bytes))
    }

    static func json(_ data: Data, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: data)
    }
}

/// The catalog routes the fake knows, relative to the base path.
enum CatalogRoute {
    case entities
    case byQuery
    case byRefs
    case byName(kind: String, namespace: String, name: String)
    case byUID(String)
    case unknown

    init(method: String, relativePath: String) {
        let segments = relativePath.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            .map { QueryString.percentDecode($0) }
        switch (method, segments.count) {
        case ("GET", 1) where segments[0] == "entities": self = .entities
        case ("GET", 2) where segments == ["entities", "by-query"]: self = .byQuery
        case ("POST", 2) where segments == ["entities", "by-refs"]: self = .byRefs
        case ("GET", 3) where segments[0] == "entities" && segments[1] == "by-uid" && !segments[2].isEmpty:
            self = .byUID(segments[2])
        case ("GET", 5) where segments[0] == "entities" && segments[1] == "by-name"
            && !segments[2].isEmpty && !segments[3].isEmpty && !segments[4].isEmpty:
            self = .byName(kind: segments[2], namespace: segments[3], name: segments[4])
        default: self = .unknown
        }
    }

    /// What faults and hooks match on. Parsing here is lenient: errors surface when serving.
    func context(for request: HTTPRequest) -> RequestContext {
        var kinds = Set<String>()
        var page: Int?
        switch self {
        case .byQuery, .entities:
            var filter = request.queryValues("filter")
            page = 1
            if case .byQuery = self, let cursorText = request.queryValue("cursor") {
                if let cursor = try? QueryCursor(decoding: cursorText) {
                    filter = cursor.filter
                    page = cursor.page
                }
            }
            if case .entities = self { page = nil }
            if let parsed = (try? EntityFilter(parameters: filter)) ?? nil {
                for set in parsed.sets { for condition in set where condition.key == "kind" { kinds.formUnion(condition.values) } }
            }
        case .byRefs:
            if let body = try? FakeJSON.parse([UInt8](request.body)) {
                for ref in body["entityRefs"]?.arrayValue ?? [] {
                    if let text = ref.stringValue, let parsed = BackstageRef(parsing: text) { kinds.insert(parsed.kind) }
                }
            }
        case .byName(let kind, _, _):
            kinds.insert(kind.lowercased())
        case .byUID, .unknown:
            break
        }
        return RequestContext(method: request.method.uppercased(), path: request.path, kinds: kinds, page: page,
                              queryNames: Set(request.query.map(\.name)))
    }
}

/// The HTML error page a reverse proxy answers with when Backstage is down.
enum ProxyErrorPage {
    static func response(status: Int) -> HTTPResponse {
        let title = "\(status) \(HTTPStatus.reason(status))"
        let html = "<html>\r\n<head><title>\(title)</title></head>\r\n<body>\r\n<center><h1>\(title)</h1></center>\r\n"
            + "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        return HTTPResponse(status: status, headers: [("Content-Type", "text/html")], body: Data(html.utf8))
    }
}

extension QueryString {
    /// `?a=1&b=x%20y` (empty for no pairs): the query as a client would have sent it.
    static func encode(_ pairs: [(name: String, value: String)]) -> String {
        guard !pairs.isEmpty else { return "" }
        return "?" + pairs.map { "\(escape($0.name))=\(escape($0.value))" }.joined(separator: "&")
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:/,")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
