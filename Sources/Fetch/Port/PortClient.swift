import CJQ
import Foundation
import Store

/// Outcome of one entity in a bulk upsert: acknowledged, or Port's refusal as Port said it.
public enum PortItemResult: Sendable, Equatable {
    case acked
    case rejected(PushRefusal)
}

/// Counters a run reports.
public struct PortStats: Sendable, Equatable {
    public var requests = 0
    public var writes = 0
    public var retries = 0

    public init(requests: Int = 0, writes: Int = 0, retries: Int = 0) {
        self.requests = requests
        self.writes = writes
        self.retries = retries
    }

    public static func + (lhs: PortStats, rhs: PortStats) -> PortStats {
        var sum = lhs
        sum.requests += rhs.requests
        sum.writes += rhs.writes
        sum.retries += rhs.retries
        return sum
    }
}

/// Port's REST API over one keep-alive connection (one per worker thread; they share `PortAuth`).
/// Retries per `RetryPolicy`; a 401 renews the token, refused credentials stop the run's Port calls (`send`).
public final class PortClient {
    public let baseURL: String
    private let auth: PortAuth
    private let sender: RetryingSender<PortError>
    public private(set) var stats = PortStats()

    public init(baseURL: String, auth: PortAuth, transport: TransportOptions = TransportOptions(),
                retry: RetryPolicy = .port) throws {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.auth = auth
        sender = RetryingSender(connection: try HTTPConnection(options: transport), retry: retry)
    }

    // MARK: Entities

    /// `POST /v1/blueprints/{bp}/entities/bulk`: upserts ≤20 entities (canonical JSON bodies, each
    /// with the identifier it carries, which the caller knows) and reads Port's per-index results.
    /// Throws `PortError.http(413…)` when the body is too large.
    public func upsertBulk(blueprint: String, entities: [(identifier: String, body: [UInt8])], merge: Bool,
                           createMissingRelated: Bool) throws -> [PortItemResult] {
        var body: [UInt8] = Array(#"{"entities":["#.utf8)
        for (index, entity) in entities.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: entity.body)
        }
        body.append(contentsOf: Array("]}".utf8))
        let url = "\(baseURL)/v1/blueprints/\(PathEncoding.segment(blueprint))/entities/bulk?upsert=true&merge=\(merge)&create_missing_related_entities=\(createMissingRelated)"
        let response = try send(method: "POST", url: url, body: body, write: true)
        guard let parsed = try? JQValue.parse(response.body) else {
            throw PortError.invalidResponse(url: url, reason: "bulk answer is not JSON")
        }
        var results = [PortItemResult](repeating: .rejected(.noResult),
                                       count: entities.count)
        let sent = entities.map(\.identifier)
        if let acked = parsed.member("entities") {
            for index in 0..<acked.arrayCount {
                if let position = PortClient.position(of: acked.element(index), sent: sent) { results[position] = .acked }
            }
        }
        if let errors = parsed.member("errors") {
            for index in 0..<errors.arrayCount {
                let item = errors.element(index)
                guard let position = PortClient.position(of: item, sent: sent) else { continue }
                results[position] = .rejected(.port(status: item.member("statusCode").flatMap(PortClient.int) ?? 0,
                                                    error: SecretRedaction.redact(item.member("error")?.stringValue),
                                                    message: SecretRedaction.redact(item.member("message")?.stringValue)))
            }
        }
        return results
    }

    /// Which sent entity a bulk result is about: its `index` must be one we sent and its
    /// `identifier` the one sent there. A result that doesn't match both acknowledges nothing (the
    /// entity stays pending with "Port gave no result"), so a confused or hostile answer can't
    /// mark an entity as pushed. (Every entity has a string identifier: mappings with search
    /// identifiers are refused when the mapping is read.)
    static func position(of result: JQValue, sent: [String]) -> Int? {
        guard let position = result.member("index").flatMap(PortClient.int), sent.indices.contains(position) else { return nil }
        return result.member("identifier")?.stringValue == sent[position] ? position : nil
    }

    /// `POST /v1/blueprints/{bp}/entities`: one upsert (the fallback when a bulk body is too large).
    public func upsertOne(blueprint: String, entity: [UInt8], merge: Bool, createMissingRelated: Bool) throws -> PortItemResult {
        let url = "\(baseURL)/v1/blueprints/\(PathEncoding.segment(blueprint))/entities?upsert=true&merge=\(merge)&create_missing_related_entities=\(createMissingRelated)"
        do {
            _ = try send(method: "POST", url: url, body: entity, write: true)
            return .acked
        } catch PortError.http(let status, let error, let message, _) where (400..<500).contains(status) && status != 401 && status != 429 {
            return .rejected(.port(status: status, error: error, message: message))
        }
    }

    /// `POST /v1/blueprints/{bp}/bulk/entities/delete`: deletes ≤100 identifiers; returns those Port
    /// reports deleted (absent ones are simply not listed).
    public func deleteBulk(blueprint: String, identifiers: [String], deleteDependents: Bool) throws -> [String] {
        let url = "\(baseURL)/v1/blueprints/\(PathEncoding.segment(blueprint))/bulk/entities/delete?delete_dependents=\(deleteDependents)"
        let body = CanonicalJSON.bytes(["entities": .array(identifiers.map(JSONValue.string))])
        let response = try send(method: "POST", url: url, body: body, write: true)
        let parsed = try? JQValue.parse(response.body)
        let deleted = parsed?.member("deletedEntities")
        return (0..<(deleted?.arrayCount ?? 0)).compactMap { deleted?.element($0).stringValue }
    }

    /// `POST /v1/blueprints/{bp}/entities/search`, one page: entities and the next cursor.
    public func searchPage(blueprint: String, include: [String]?, limit: Int, from: String?) throws -> (entities: [JSONValue], next: String?) {
        var body: [String: JSONValue] = ["limit": .number(Double(limit))]
        if let include { body["include"] = .array(include.map(JSONValue.string)) }
        if let from { body["from"] = .string(from) }
        let url = "\(baseURL)/v1/blueprints/\(PathEncoding.segment(blueprint))/entities/search"
        let response = try send(method: "POST", url: url, body: CanonicalJSON.bytes(.object(body)), write: false)
        guard let parsed = try? CanonicalJSON.parse(response.body) else {
            throw PortError.invalidResponse(url: url, reason: "search answer is not JSON")
        }
        return (parsed["entities"]?.arrayValue ?? [], parsed["next"]?.stringValue)
    }

    // MARK: Blueprints and integrations

    /// `GET /v1/blueprints/{id}`: the blueprint, or nil when Port has none.
    public func blueprint(_ identifier: String) throws -> JSONValue? {
        do {
            let response = try send(method: "GET", url: "\(baseURL)/v1/blueprints/\(PathEncoding.segment(identifier))", body: nil, write: false)
            return (try? CanonicalJSON.parse(response.body))?["blueprint"]
        } catch PortError.http(404, _, _, _) {
            return nil
        }
    }

    public func createBlueprint(_ blueprint: JSONValue) throws {
        _ = try send(method: "POST", url: "\(baseURL)/v1/blueprints", body: CanonicalJSON.bytes(blueprint), write: true)
    }

    public func patchBlueprint(_ identifier: String, _ patch: JSONValue) throws {
        _ = try send(method: "PATCH", url: "\(baseURL)/v1/blueprints/\(PathEncoding.segment(identifier))",
                     body: CanonicalJSON.bytes(patch), write: true)
    }

    /// `GET /v1/integration/{id}`: the integration object (its `config` is an Ocean mapping).
    public func integration(_ identifier: String) throws -> JSONValue {
        let url = "\(baseURL)/v1/integration/\(PathEncoding.segment(identifier))"
        let response = try send(method: "GET", url: url, body: nil, write: false)
        guard let integration = (try? CanonicalJSON.parse(response.body))?["integration"] else {
            throw PortError.invalidResponse(url: url, reason: "no integration object")
        }
        return integration
    }

    /// `PATCH /v1/integration/{id}/resync-state`: the run's state as Port's UI shows it
    /// (`IntegrationReporter` decides the body and when to send it).
    public func patchResyncState(_ identifier: String, _ state: JSONValue) throws {
        _ = try send(method: "PATCH", url: "\(baseURL)/v1/integration/\(PathEncoding.segment(identifier))/resync-state",
                     body: CanonicalJSON.bytes(state), write: true)
    }

    // MARK: Transport

    /// A token can expire early, or while a request waits out a rate limit: a 401 renews it, a few
    /// times at most. Refused client credentials never get this far: the token request itself
    /// is refused, and not retried.
    static let maxRenewals = 3

    /// One authorized request with retries. A 401 renews the token; a 401 past the renewals, or a
    /// 403, stops every Port call of the run (the credentials are refused).
    func send(method: String, url: String, body: [UInt8]?, write: Bool) throws -> HTTPResponseData {
        var renewals = 0
        while true {
            let authorization = try auth.authorization(using: sender)
            // Port's writes (and searches) are POSTs carrying entity data: they follow no redirect.
            let request = HTTPRequestSpec(method: method, url: url,
                                          headers: [("Authorization", authorization), ("Accept", "application/json")],
                                          body: body, redirects: method == "GET" ? .sameOrigin : .none)
            do {
                return try sender.send(request, onAttempt: {
                    stats.requests += 1
                    if write { stats.writes += 1 }
                }, onRetry: { _, _, _ in
                    stats.retries += 1
                })
            } catch let error as PortError where error.status == 401 && renewals < PortClient.maxRenewals {
                auth.invalidate(authorization)
                renewals += 1
            } catch let error as PortError where error.status == 401 || error.status == 403 {
                auth.invalidate(authorization)
                throw PortClient.refused(error, budget: sender.retry.budget)
            }
        }
    }

    /// Port refused the credentials (401 on the token or past the renewals, 403): every further request of the run
    /// would be refused too, so the run's budget stops them (the error says which variables to check).
    static func refused(_ error: PortError, budget: RetryBudget?) -> PortError {
        guard let budget else { return error }
        budget.open(.credentialsRefused, detail: "\(error)")
        return budget.trip.map(PortError.stopped) ?? error
    }

    static func int(_ value: JQValue) -> Int? {
        guard value.kind == JV_KIND_NUMBER else { return nil }
        return Int(value.reference.number)
    }
}

@available(*, unavailable)
extension PortClient: Sendable {}

/// Percent-encoding of one path segment (identifiers may hold `/`, `:`, `+`, `=`, `@`).
public enum PathEncoding {
    public static func segment(_ value: String) -> String {
        QueryEncoding.encode(value)
    }
}
