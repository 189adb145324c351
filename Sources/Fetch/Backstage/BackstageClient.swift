import CJQ
import Foundation
import Store

/// Reads a Backstage catalog through `GET /api/catalog/entities/by-query`, following
/// `pageInfo.nextCursor` until it is absent. Sends `Authorization: Bearer` only when a token is
/// configured. One keep-alive connection; retries per `RetryPolicy`.
public final class BackstageClient: IncrementalCatalogSource {
    public let baseURL: String
    private let token: String?
    public let pageSize: Int
    private let connection: HTTPConnection
    private let retry: RetryPolicy
    public private(set) var stats = SourceStats()
    /// Called before each retry wait (for progress output).
    public var onRetry: ((String) -> Void)?

    public init(baseURL: String, token: String?, pageSize: Int = 500, transport: TransportOptions = TransportOptions(),
                retry: RetryPolicy = RetryPolicy()) throws {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.pageSize = pageSize
        self.retry = retry
        connection = try HTTPConnection(options: transport)
    }

    public var sourceDescription: String { baseURL }

    /// The by-query URL for the first page of `kind`, or for a cursor.
    func pageURL(kind: String, cursor: String?, fields: [String]?) -> String {
        var query = "limit=\(pageSize)"
        if let cursor {
            query += "&cursor=" + QueryEncoding.encode(cursor)
        } else {
            query += "&filter=" + QueryEncoding.encode("kind=\(kind)")
        }
        if let fields { query += "&fields=" + QueryEncoding.encode(fields.joined(separator: ",")) }
        return "\(baseURL)/api/catalog/entities/by-query?\(query)"
    }

    public func walk(kind: String, onPage: (EntityPage) throws -> Void) throws {
        try walk(kind: kind, fields: nil, onPage: onPage)
    }

    /// Walks `kind`; with `fields`, Backstage projects each item to those dotted paths.
    public func walk(kind: String, fields: [String]?, onPage: (EntityPage) throws -> Void) throws {
        var cursor: String?
        var number = 0
        var unreadable: (url: String, count: Int, reason: String)?
        repeat {
            number += 1
            let url = pageURL(kind: kind, cursor: cursor, fields: fields)
            let response = try get(url)
            let page: JQValue
            do {
                page = try JQValue.parse(response.body)
            } catch {
                // An item libjq can't parse (nested too deep) costs that item, not the page; the
                // kind ends incomplete below, so an unreadable entity is never taken for deleted.
                guard let salvaged = PageSalvage.salvage(response.body) else {
                    throw BackstageError.invalidResponse(url: url, reason: "not JSON (\(error.message))")
                }
                let bad = salvaged.items.filter { $0.kind == JV_KIND_INVALID }
                unreadable = (url, (unreadable?.count ?? 0) + bad.count, unreadable?.reason ?? bad.first.map(PageSalvage.reason) ?? "")
                try onPage(EntityPage(items: salvaged.items, number: number, byteCount: response.body.count))
                cursor = salvaged.nextCursor.flatMap { $0.isEmpty ? nil : $0 }
                continue
            }
            guard let items = page.member("items"), items.kind == JV_KIND_ARRAY else {
                throw BackstageError.invalidResponse(url: url, reason: "no items array")
            }
            var entities: [JQValue] = []
            entities.reserveCapacity(items.arrayCount)
            for index in 0..<items.arrayCount { entities.append(items.element(index)) }
            try onPage(EntityPage(items: entities, number: number, byteCount: response.body.count))
            cursor = page.member("pageInfo")?.member("nextCursor")?.stringValue
            if cursor?.isEmpty == true { cursor = nil }
        } while cursor != nil
        if let unreadable {
            throw BackstageError.invalidResponse(url: unreadable.url, reason: "\(unreadable.count) item\(unreadable.count == 1 ? "" : "s") could not be parsed (\(unreadable.reason)); the others were read")
        }
    }

    /// The projection of an etag-first scan. The kind is left out: the walk filters on it, and
    /// every byte counts when a no-change sync reads nothing else.
    public static let scanFields = ["metadata.namespace", "metadata.name", "metadata.uid", "metadata.etag"]

    public func scan(kind: String, onPage: (ScannedPage) throws -> Void) throws {
        try walk(kind: kind, fields: BackstageClient.scanFields) { page in
            try onPage(ScannedPage(kind: kind, items: page.items))
        }
    }

    public func fetch(refs: [String]) throws -> [JQValue?] {
        try entities(byRefs: refs)
    }

    /// `POST /api/catalog/entities/by-refs`: the entities for `refs` in the same order, nil where
    /// Backstage has none.
    public func entities(byRefs refs: [String], fields: [String]? = nil) throws -> [JQValue?] {
        var body: JSONValue = ["entityRefs": .array(refs.map(JSONValue.string))]
        if let fields, case .object(var members) = body {
            members["fields"] = .array(fields.map(JSONValue.string))
            body = .object(members)
        }
        let url = "\(baseURL)/api/catalog/entities/by-refs"
        let response = try send(HTTPRequestSpec(method: "POST", url: url, headers: authHeaders,
                                                body: CanonicalJSON.bytes(body)))
        let parsed: JQValue
        do {
            parsed = try JQValue.parse(response.body)
        } catch {
            throw BackstageError.invalidResponse(url: url, reason: "not JSON (\(error.message))")
        }
        guard let items = parsed.member("items"), items.kind == JV_KIND_ARRAY, items.arrayCount == refs.count else {
            throw BackstageError.invalidResponse(url: url, reason: "items missing or of the wrong length")
        }
        return (0..<items.arrayCount).map { index in
            let item = items.element(index)
            return item.kind == JV_KIND_OBJECT ? item : nil
        }
    }

    private var authHeaders: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return headers
    }

    private func get(_ url: String) throws -> HTTPResponseData {
        try send(HTTPRequestSpec(method: "GET", url: url, headers: authHeaders))
    }

    /// One request under the retry policy; a non-2xx final answer becomes `BackstageError.http`.
    private func send(_ request: HTTPRequestSpec) throws -> HTTPResponseData {
        do {
            return try retry.run({ _ -> RetryPolicy.Attempt<HTTPResponseData> in
                stats.requests += 1
                let response: HTTPResponseData
                do throws(TransportError) {
                    response = try connection.send(request)
                } catch {
                    return .retry(BackstageError.transport(error), headers: [:])
                }
                stats.bytes += response.body.count
                if (200..<300).contains(response.status) { return .success(response) }
                let error = BackstageClient.httpError(response)
                return RetryPolicy.isRetryable(status: response.status)
                    ? .retry(error, headers: response.headers) : .failure(error)
            }, onRetry: { attempt, wait, error in
                stats.retries += 1
                onRetry?("retry \(attempt) in \(String(format: "%.1f", wait))s after: \(error)")
            })
        } catch let exhausted as RetryExhausted {
            throw BackstageError.gaveUp(attempts: exhausted.attempts, last: "\(exhausted.last)")
        }
    }

    /// Reads Backstage's `{error:{name,message}}` body when there is one.
    static func httpError(_ response: HTTPResponseData) -> BackstageError {
        let body = try? JQValue.parse(response.body)
        let error = body?.member("error")
        return .http(status: response.status, name: error?.member("name")?.stringValue,
                     message: error?.member("message")?.stringValue, url: response.url)
    }
}

@available(*, unavailable)
extension BackstageClient: Sendable {}

/// Percent-encoding of query values: everything but RFC 3986 unreserved characters.
enum QueryEncoding {
    private static let unreserved: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    static func encode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            if unreserved.contains(byte) {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
