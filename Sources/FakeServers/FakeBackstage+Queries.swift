import Foundation

extension FakeBackstage {
    /// `GET /entities/by-query` (reference §1.2): keyset pages in uid order, the filter and
    /// `totalItems` carried in the cursor, `fields` projection, `totalItems=exclude`, `offset` on
    /// the first request only.
    func serveByQuery(_ request: HTTPRequest) throws(BackstageError) -> HTTPResponse {
        // Not implemented: fail loudly rather than answer in uid order as if they were honoured.
        for unsupported in ["orderField", "fullTextFilterTerm", "fullTextFilterFields"] where request.queryValue(unsupported) != nil {
            throw .input("The fake Backstage does not support \(unsupported)")
        }
        let limit = try Self.integer(request, "limit") ?? configuration.defaultLimit
        let projection = try FieldProjection(parameters: request.queryValues("fields"))
        let excludeTotal = try Self.excludesTotal(request)

        let cursor = try request.queryValue("cursor").map { text throws(BackstageError) in
            try QueryCursor(decoding: text)
        }
        let filterParameters = cursor?.filter ?? request.queryValues("filter")
        let filter = try EntityFilter(parameters: filterParameters)
        let offset = cursor == nil ? (try Self.integer(request, "offset") ?? 0) : 0

        let page = withTable { table in
            PageQuery(filter: filter, afterUID: cursor?.lastUID, offset: offset, limit: limit,
                      countTotal: cursor == nil && !excludeTotal).run(on: table)
        }
        let totalItems = excludeTotal ? 0 : (cursor?.totalItems ?? page.total ?? 0)
        var nextCursor: QueryCursor?
        if page.hasMore, let last = page.rows.last {
            nextCursor = QueryCursor(lastUID: last.uid, filter: filter?.parameters ?? [], totalItems: totalItems,
                                     page: (cursor?.page ?? 1) + 1)
        }

        var body = Data()
        body.reserveCapacity(page.rows.reduce(128) { $0 + $1.json.count + 1 })
        body.append(contentsOf: Array(#"{"items":["#.utf8))
        Self.appendItems(page.rows, projection: projection, to: &body)
        body.append(contentsOf: Array(#"],"totalItems":\#(totalItems),"pageInfo":{"#.utf8))
        if let nextCursor {
            body.append(contentsOf: Array(#""nextCursor":"\#(nextCursor.encoded())""#.utf8))
        }
        body.append(contentsOf: Array("}}".utf8))
        return Self.json(body)
    }

    /// `POST /entities/by-refs` (reference §1.5): items in request order, `null` for refs that are
    /// not stored under exactly that lower-case text (or do not match the `filter` parameter).
    func serveByRefs(_ request: HTTPRequest) throws(BackstageError) -> HTTPResponse {
        let malformed = "Malformed request body (did you remember to specify an application/json content type?)"
        let body: FakeJSON
        do {
            body = try FakeJSON.parse([UInt8](request.body))
        } catch {
            throw .input("\(malformed), \(error.message)")
        }
        guard let refValues = body["entityRefs"]?.arrayValue else {
            throw .input("\(malformed), request body must have required property 'entityRefs'")
        }
        var refs: [String] = []
        for value in refValues {
            guard let text = value.stringValue else { throw .input("\(malformed), entityRefs must be strings") }
            refs.append(text)
        }
        var fields: [String] = []
        if let fieldValues = body["fields"] {
            guard let list = fieldValues.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw .input("\(malformed), fields must be an array of strings")
            }
            fields = list.compactMap(\.stringValue)
        }
        let projection = try FieldProjection(parameters: fields)
        let filter = try EntityFilter(parameters: request.queryValues("filter"))

        let rows: [EntityTable.Row?] = withTable { table in
            refs.map { ref in
                guard let row = table.row(refText: ref) else { return nil }
                if let filter, !filter.matches(row.entity) { return nil }
                return row
            }
        }
        var out = Data()
        out.reserveCapacity(rows.reduce(32) { $0 + ($1?.json.count ?? 4) + 1 })
        out.append(contentsOf: Array(#"{"items":["#.utf8))
        for (index, row) in rows.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if let row {
                Self.appendItems([row], projection: projection, to: &out)
            } else {
                out.append(contentsOf: Array("null".utf8))
            }
        }
        out.append(contentsOf: Array("]}".utf8))
        return Self.json(out)
    }

    /// Legacy `GET /entities` (reference §1.1): without `limit`/`offset`/`after` a bare array of
    /// every match in uid order; with them, offset pages in ref order with a relative
    /// `Link: <…>; rel="next"` header and an `after` cursor of base64 `{"limit","offset"}`.
    func serveEntities(_ request: HTTPRequest) throws(BackstageError) -> HTTPResponse {
        let projection = try FieldProjection(parameters: request.queryValues("fields"))
        let filter = try EntityFilter(parameters: request.queryValues("filter"))
        var limit = try Self.integer(request, "limit")
        var offset = try Self.integer(request, "offset")
        if let limit, limit <= 0 { throw .input("Invalid limit, must be greater than zero") }
        if let after = request.queryValue("after") {
            guard !after.isEmpty, let data = Data(base64Encoded: after),
                  let json = try? FakeJSON.parse([UInt8](data)),
                  let afterLimit = json["limit"]?.numberValue, let afterOffset = json["offset"]?.numberValue
            else { throw .input("Malformed after cursor, could not be parsed") }
            limit = limit ?? Int(afterLimit)
            offset = Int(afterOffset)
        }
        let paginated = limit != nil || offset != nil

        var rows = withTable { table in
            var matched: [EntityTable.Row] = []
            table.walk(kinds: filter?.candidateKinds, after: nil) { row in
                if filter?.matches(row.entity) ?? true { matched.append(row) }
                return true
            }
            return matched
        }
        var headers: [(String, String)] = []
        if paginated {
            rows.sort { $0.ref.description < $1.ref.description }
            let start = min(rows.count, offset ?? 0)
            let end = limit.map { min(rows.count, start + $0) } ?? rows.count
            if end < rows.count, let limit {
                let next = FakeJSON.bytes(["limit": .number(Double(limit)), "offset": .number(Double(end))])
                var query = request.query.filter { $0.name != "after" && $0.name != "offset" }
                query.append((name: "after", value: Data(next).base64EncodedString()))
                headers.append(("Link", "</entities\(QueryString.encode(query))>; rel=\"next\""))
            }
            rows = Array(rows[start..<end])
        }
        var body = Data()
        body.reserveCapacity(rows.reduce(16) { $0 + $1.json.count + 1 })
        body.append(UInt8(ascii: "["))
        Self.appendItems(rows, projection: projection, to: &body)
        body.append(UInt8(ascii: "]"))
        var response = Self.json(body)
        response.headers += headers
        return response
    }

    /// Appends the rows' JSON, comma-separated: cached bytes, or a projection serialized now.
    private static func appendItems(_ rows: [EntityTable.Row], projection: FieldProjection?, to body: inout Data) {
        for (index, row) in rows.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            if let projection {
                body.append(contentsOf: FakeJSON.bytes(projection.apply(row.entity)))
            } else {
                body.append(contentsOf: row.json)
            }
        }
    }

    /// A non-negative integer query parameter, with the OpenAPI validator's 400 messages.
    private static func integer(_ request: HTTPRequest, _ name: String) throws(BackstageError) -> Int? {
        guard let text = request.queryValue(name) else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw .input("request/query/\(name) must be integer")
        }
        guard value >= 0 else { throw .input("request/query/\(name) must be >= 0") }
        return value
    }

    private static func excludesTotal(_ request: HTTPRequest) throws(BackstageError) -> Bool {
        switch request.queryValue("totalItems") {
        case nil, "include": return false
        case "exclude": return true
        default: throw .input("request/query/totalItems must be equal to one of the allowed values: include, exclude")
        }
    }
}

/// One keyset page: up to `limit` matches after `afterUID` (skipping `offset` first), whether
/// more follow, and the total match count when asked.
struct PageQuery {
    let filter: EntityFilter?
    let afterUID: String?
    let offset: Int
    let limit: Int
    let countTotal: Bool

    struct Result {
        var rows: [EntityTable.Row]
        var hasMore: Bool
        var total: Int?
    }

    func run(on table: EntityTable) -> Result {
        let kinds = filter?.candidateKinds
        let trivial = filter == nil || filter?.isKindOnly == true
        var rows: [EntityTable.Row] = []
        var hasMore = false
        var skipped = 0
        if limit > 0 {
            rows.reserveCapacity(min(limit, 10_000))
            table.walk(kinds: kinds, after: afterUID) { row in
                if !trivial, let filter, !filter.matches(row.entity) { return true }
                if skipped < offset {
                    skipped += 1
                    return true
                }
                if rows.count == limit {
                    hasMore = true
                    return false
                }
                rows.append(row)
                return true
            }
        }
        var total: Int?
        if countTotal {
            if trivial {
                total = kinds.map { table.count(kinds: $0) } ?? table.count
            } else {
                var count = 0
                table.walk(kinds: kinds, after: nil) { row in
                    if filter?.matches(row.entity) ?? true { count += 1 }
                    return true
                }
                total = count
            }
        }
        return Result(rows: rows, hasMore: hasMore, total: total)
    }
}
