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
    private let sender: RetryingSender<BackstageError>
    public private(set) var stats = SourceStats()
    /// Called before each retry wait (for progress output).
    public var onRetry: ((String) -> Void)?

    public init(baseURL: String, token: String?, pageSize: Int = 500, transport: TransportOptions = TransportOptions(),
                retry: RetryPolicy = RetryPolicy()) throws {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        SecretRedaction.register(self.token)
        self.pageSize = pageSize
        sender = RetryingSender(connection: try HTTPConnection(options: transport), retry: retry)
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
    ///
    /// A `nextCursor` this walk has already followed, or one that is not a string, ends the walk
    /// with an error (the kind is then incomplete: nothing is deleted for it) rather than looping
    /// forever or taking the page for the last.
    public func walk(kind: String, fields: [String]?, onPage: (EntityPage) throws -> Void) throws {
        var cursor: String?
        var followed = Set<String>()
        var number = 0
        var unreadable: (url: String, count: Int, reason: String)?
        repeat {
            number += 1
            let url = pageURL(kind: kind, cursor: cursor, fields: fields)
            let response = try send(HTTPRequestSpec(method: "GET", url: url, headers: authHeaders), for: .page(projected: fields != nil))
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
                if salvaged.cursorUnreadable {
                    throw BackstageError.invalidResponse(url: url, reason: "pageInfo.nextCursor could not be read as a string; the walk stopped here")
                }
                cursor = salvaged.nextCursor.flatMap { $0.isEmpty ? nil : $0 }
                try checkCursor(cursor, followed: &followed, url: url)
                continue
            }
            guard let items = page.member("items"), items.kind == JV_KIND_ARRAY else {
                throw BackstageError.invalidResponse(url: url, reason: "no items array")
            }
            var entities: [JQValue] = []
            entities.reserveCapacity(items.arrayCount)
            for index in 0..<items.arrayCount { entities.append(items.element(index)) }
            try onPage(EntityPage(items: entities, number: number, byteCount: response.body.count))
            let next = page.member("pageInfo")?.member("nextCursor")
            if let next, next.kind != JV_KIND_STRING, next.kind != JV_KIND_NULL {
                throw BackstageError.invalidResponse(url: url, reason: "pageInfo.nextCursor is \(String(cString: jv_kind_name(next.kind))), not a string; the walk stopped here")
            }
            cursor = next?.stringValue
            if cursor?.isEmpty == true { cursor = nil }
            try checkCursor(cursor, followed: &followed, url: url)
        } while cursor != nil
        if let unreadable {
            throw BackstageError.invalidResponse(url: unreadable.url, reason: "\(unreadable.count) item\(unreadable.count == 1 ? "" : "s") could not be parsed (\(unreadable.reason)); the others were read")
        }
    }

    /// Throws when `cursor` was followed before in this walk (a server in a loop); notes it otherwise.
    private func checkCursor(_ cursor: String?, followed: inout Set<String>, url: String) throws {
        guard let cursor else { return }
        guard followed.insert(cursor).inserted else {
            throw BackstageError.invalidResponse(url: url, reason: "pageInfo.nextCursor repeats a cursor this walk already followed (page \(followed.count + 1)); the walk stopped here")
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

    public func fetch(refs: [EntityRef]) throws -> [JQValue?] {
        try entities(byRefs: refs)
    }

    /// `POST /api/catalog/entities/by-refs`: the entities for `refs` in the same order, nil where
    /// Backstage has none.
    public func entities(byRefs refs: [EntityRef], fields: [String]? = nil) throws -> [JQValue?] {
        var body: JSONValue = ["entityRefs": .array(refs.map { .string($0.description) })]
        if let fields, case .object(var members) = body {
            members["fields"] = .array(fields.map(JSONValue.string))
            body = .object(members)
        }
        let url = "\(baseURL)/api/catalog/entities/by-refs"
        let response = try send(HTTPRequestSpec(method: "POST", url: url, headers: authHeaders, body: CanonicalJSON.bytes(body)),
                                for: .byRefs)
        let parsed: JQValue
        do {
            parsed = try JQValue.parse(response.body)
        } catch {
            throw BackstageError.invalidResponse(url: url, reason: "not JSON (\(error.message))")
        }
        guard let items = parsed.member("items"), items.kind == JV_KIND_ARRAY, items.arrayCount == refs.count else {
            throw BackstageError.invalidResponse(url: url, reason: "items missing or of the wrong length")
        }
        var entities: [JQValue?] = []
        entities.reserveCapacity(refs.count)
        for (index, asked) in refs.enumerated() {
            let item = items.element(index)
            guard item.kind == JV_KIND_OBJECT else {
                entities.append(nil)
                continue
            }
            // Each answer must be the entity asked for at its position: anything else would
            // overwrite one entity with another, or take the one asked for as deleted.
            let answered = EntityRef(entity: item)
            guard answered == asked else {
                throw BackstageError.invalidResponse(url: url, reason: "asked for \(asked) at position \(index), got \(answered?.description ?? "an entity without a string kind and name")")
            }
            entities.append(item)
        }
        return entities
    }

    private var authHeaders: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return headers
    }

    /// One request under the retry policy; a non-2xx final answer becomes `BackstageError.http`.
    private func send(_ request: HTTPRequestSpec, for purpose: BackstageRequest) throws -> HTTPResponseData {
        do {
            return try sender.send(request, for: purpose, onAttempt: { stats.requests += 1 }, onResponse: { stats.bytes += $0.body.count },
                                   onRetry: { attempt, wait, error in
                stats.retries += 1
                onRetry?("retry \(attempt) in \(String(format: "%.1f", wait))s after: \(error)")
            })
        } catch let error as BackstageError where error.status == 401 {
            // A refused token is refused for every kind: the run stops asking.
            sender.retry.budget?.open(.credentialsRefused, detail: "\(error)")
            throw error
        }
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
