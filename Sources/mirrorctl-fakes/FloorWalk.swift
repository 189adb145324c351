import Fetch
import Foundation
import Store

/// The floor of a catalog walk, for `scripts/bench`: the by-query pages mirrorctl asks for (same
/// kinds, page size and `fields`), fetched one after another over one keep-alive libcurl
/// connection, with `pageInfo.nextCursor` found by a byte search instead of parsing the page.
/// No client can walk the same pages for less: what is left is transfer and the server's work.
public enum FloorWalk {
    /// What a walk or fetch cost.
    public struct Totals: Sendable, Equatable {
        public var seconds = 0.0
        public var requests = 0
        /// Response body bytes received (after any decompression).
        public var bytes = 0

        public init() {}

        public var json: JSONValue {
            ["seconds": .number(seconds), "requests": .number(Double(requests)), "bytes": .number(Double(bytes))]
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Walks every page of every kind in order: `GET …/entities/by-query?limit=N&filter=kind=K`,
    /// then `?limit=N&cursor=C` while the page names a next cursor (`fields` on every page).
    /// `onPage`, when given, sees each page's body (outside the timing's purpose: keep it cheap).
    public static func walk(baseURL: String, kinds: [String], pageSize: Int, fields: [String]? = nil,
                            token: String? = nil, onPage: ((String, [UInt8]) throws -> Void)? = nil) throws -> Totals {
        let session = try Session(baseURL: baseURL, token: token)
        let fieldsQuery = fields.map { "&fields=" + encode($0.joined(separator: ",")) } ?? ""
        let started = DispatchTime.now()
        for kind in kinds {
            var query = "limit=\(pageSize)&filter=" + encode("kind=\(kind)") + fieldsQuery
            while true {
                let body = try session.send(HTTPRequestSpec(url: session.catalog + "/entities/by-query?" + query))
                try onPage?(kind, body)
                guard let cursor = nextCursor(in: body) else { break }
                query = "limit=\(pageSize)&cursor=" + encode(cursor) + fieldsQuery
            }
        }
        return session.totals(since: started)
    }

    /// Fetches `refs` with `POST …/entities/by-refs`, `batchSize` refs a request.
    public static func fetch(baseURL: String, refs: [String], batchSize: Int, token: String? = nil) throws -> Totals {
        let session = try Session(baseURL: baseURL, token: token)
        let started = DispatchTime.now()
        for start in stride(from: 0, to: refs.count, by: max(1, batchSize)) {
            let batch = refs[start..<min(refs.count, start + max(1, batchSize))]
            let body = CanonicalJSON.bytes(["entityRefs": .array(batch.map(JSONValue.string))])
            _ = try session.send(HTTPRequestSpec(method: "POST", url: session.catalog + "/entities/by-refs", body: body))
        }
        return session.totals(since: started)
    }

    /// The value of the last `"nextCursor": "…"` in `body`, searching backwards: `pageInfo` comes
    /// after `items` in Backstage's answer, so this reads only the page's tail. Nil when absent or empty.
    static func nextCursor(in body: [UInt8]) -> String? {
        let key = Array(#""nextCursor""#.utf8)
        return body.withUnsafeBufferPointer { bytes -> String? in
            var start = bytes.count - key.count
            while start >= 0 {
                if bytes[start] == key[0], bytes[start + 1] == key[1], Array(bytes[start..<start + key.count]) == key {
                    return stringValue(bytes, after: start + key.count)
                }
                start -= 1
            }
            return nil
        }
    }

    /// The string after `: ` at `index`, or nil (not a string, empty, or holding escapes).
    private static func stringValue(_ bytes: UnsafeBufferPointer<UInt8>, after index: Int) -> String? {
        var position = index
        func skipSpace() { while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 } }
        skipSpace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
        position += 1
        skipSpace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        let first = position + 1
        var end = first
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\""), end > first else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[first..<end]), as: UTF8.self)
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// One keep-alive connection (mirrorctl's own libcurl client, `Fetch.HTTPConnection`: the floor
    /// is the same transport with no work on top) and its request headers.
    private final class Session {
        let catalog: String
        let connection: Fetch.HTTPConnection
        let headers: [(name: String, value: String)]

        init(baseURL: String, token: String?) throws {
            var base = baseURL
            while base.hasSuffix("/") { base.removeLast() }
            catalog = base + "/api/catalog"
            connection = try Fetch.HTTPConnection()
            var headers: [(name: String, value: String)] = [("Accept", "application/json")]
            if let token, !token.isEmpty { headers.append(("Authorization", "Bearer \(token)")) }
            self.headers = headers
        }

        func send(_ request: HTTPRequestSpec) throws -> [UInt8] {
            var request = request
            request.headers = headers
            let response = try connection.send(request)
            guard response.status == 200 else {
                let text = String(decoding: response.body.prefix(300), as: UTF8.self)
                throw Failure(description: "\(request.method) \(request.url) answered \(response.status): \(text)")
            }
            return response.body
        }

        func totals(since started: DispatchTime) -> Totals {
            var totals = Totals()
            totals.seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            totals.requests = connection.requestCount
            totals.bytes = connection.bytesReceived
            return totals
        }
    }
}

/// `mirrorctl-fakes floor …`: runs `FloorWalk` and prints `{"seconds","requests","bytes"}`.
/// Returns the exit status: 0, 1 when a request fails, 64 for usage errors.
public func runFloorCommand(arguments: [String]) -> Int32 {
    let usage = """
        Usage: mirrorctl-fakes floor --url URL (--kind K... | --refs-file FILE) [options]

        Walks the by-query pages of each kind one after another over one keep-alive connection
        (the cursor found by a byte search, pages not parsed), or fetches the refs listed in FILE
        (one per line) with POST /entities/by-refs, and prints {"seconds","requests","bytes"}.

        Options:
          --url URL           Backstage base URL (the catalog API is URL/api/catalog)
          --kind K            a kind to walk, in order (repeatable)
          --page-size N       by-query limit, and refs per by-refs request (default: 500)
          --fields F,G,...    by-query fields projection (default: whole entities)
          --refs-file FILE    fetch these refs instead of walking
          --token T           send Authorization: Bearer T
          --help              show this help

        """
    var url: String?
    var kinds: [String] = []
    var pageSize = 500
    var fields: [String]?
    var refsFile: String?
    var token: String?
    var rest = arguments[...]
    func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("Error: \(message)\n\n\(usage)".utf8))
        return 64
    }
    while let argument = rest.popFirst() {
        if argument == "--help" || argument == "-h" {
            FileHandle.standardOutput.write(Data(usage.utf8))
            return 0
        }
        guard ["--url", "--kind", "--page-size", "--fields", "--refs-file", "--token"].contains(argument) else {
            return fail("unknown argument '\(argument)'")
        }
        guard let value = rest.popFirst(), !value.isEmpty else { return fail("\(argument) needs a value") }
        switch argument {
        case "--url": url = value
        case "--kind": kinds.append(value)
        case "--page-size":
            guard let number = Int(value), number > 0 else { return fail("--page-size needs a positive integer") }
            pageSize = number
        case "--fields": fields = value.split(separator: ",").map(String.init)
        case "--refs-file": refsFile = value
        default: token = value
        }
    }
    guard let url else { return fail("--url is required") }
    guard kinds.isEmpty != (refsFile == nil) else { return fail("give either --kind or --refs-file") }
    do {
        let totals: FloorWalk.Totals
        if let refsFile {
            let text = try String(contentsOfFile: refsFile, encoding: .utf8)
            let refs = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            totals = try FloorWalk.fetch(baseURL: url, refs: refs, batchSize: pageSize, token: token)
        } else {
            totals = try FloorWalk.walk(baseURL: url, kinds: kinds, pageSize: pageSize, fields: fields, token: token)
        }
        FileHandle.standardOutput.write(Data(CanonicalJSON.bytes(totals.json) + [0x0A]))
        return 0
    } catch {
        FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
        return 1
    }
}
