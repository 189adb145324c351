import CCurl
import Foundation
import Store

/// One libcurl easy handle, reused for every request so the connection stays alive (keep-alive,
/// gzip, TLS verification on). Not thread-safe: one per worker thread.
public final class HTTPConnection {
    private let handle: UnsafeMutableRawPointer
    private let options: TransportOptions
    /// Bytes received over this connection's lifetime (bodies, after decompression).
    public private(set) var bytesReceived = 0
    public private(set) var requestCount = 0

    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    public init(options: TransportOptions = TransportOptions()) throws(TransportError) {
        guard HTTPConnection.globalInit, let handle = curl_easy_init() else {
            throw TransportError(code: -1, message: "cannot initialise libcurl", url: "")
        }
        self.handle = handle
        self.options = options
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// Redirects followed for one request at most (same origin only).
    static let maxRedirects = 5

    /// Sends one request and reads the whole response (at most `maxResponseBytes` of it, counted
    /// after decompression). Redirects are followed only as `request.redirects` allows: never to
    /// another origin, so a credential or entity data never leaves the server it was meant for.
    public func send(_ request: HTTPRequestSpec) throws(TransportError) -> HTTPResponseData {
        var current = request
        var hops = 0
        while true {
            let (response, target) = try perform(current)
            guard (300..<400).contains(response.status), let target else { return response }
            let origin = current.url
            guard request.redirects == .sameOrigin, let from = URLOrigin(origin), from == URLOrigin(target) else {
                let why = request.redirects == .none ? "this request follows no redirect" : "it leads to another origin"
                throw TransportError(code: TransportError.redirectRefusedCode, message: "refused a \(response.status) redirect to \(URLOrigin.withoutQuery(target)) (\(why))",
                                     url: URLOrigin.withoutQuery(origin), kind: .redirectRefused)
            }
            hops += 1
            guard hops <= HTTPConnection.maxRedirects else {
                throw TransportError(code: TransportError.redirectRefusedCode, message: "more than \(HTTPConnection.maxRedirects) redirects",
                                     url: URLOrigin.withoutQuery(request.url), kind: .redirectRefused)
            }
            current.url = target
            // 307/308 repeat the request as it was; the older codes turn it into a GET.
            if ![307, 308].contains(response.status) {
                current.method = "GET"
                current.body = nil
            }
        }
    }

    /// One exchange, no redirect followed: the response and, for a 3xx, where it points.
    private func perform(_ request: HTTPRequestSpec) throws(TransportError) -> (HTTPResponseData, redirect: String?) {
        let sink = ResponseSink(limit: options.maxResponseBytes)
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if request.body != nil && !request.headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headerList = curl_slist_append(headerList, "Content-Type: application/json")
        }
        // curl adds "Expect: 100-continue" to large POSTs, costing a round trip: turn it off.
        headerList = curl_slist_append(headerList, "Expect:")
        defer {
            // Never leave the handle pointing at memory freed below.
            _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
            _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, nil)
            _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, nil)
            curl_slist_free_all(headerList)
        }
        let url = request.url
        func check(_ code: CURLcode) throws(TransportError) {
            if code != CURLE_OK {
                throw TransportError(code: Int32(code.rawValue), message: String(cString: curl_easy_strerror(code)), url: url)
            }
        }
        try check(ccurl_setopt_string(handle, CURLOPT_URL, url))
        try check(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        try check(ccurl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))
        try check(ccurl_setopt_string(handle, CURLOPT_USERAGENT, options.userAgent))
        let limits = try RequestTimeouts(options: options, url: url)
        try check(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, limits.connectMilliseconds))
        try check(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, limits.totalMilliseconds))
        // A server that goes quiet (or dribbles a byte now and then) is cut off after the idle time.
        try check(ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1))
        try check(ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(options.idleTimeout.rounded(.up)))))
        // Refused up front when the server announces a body over the limit; the write callback
        // enforces it on the bytes themselves (decompressed ones included).
        try check(ccurl_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options.maxResponseBytes)))
        // Verbose output would print request headers (credentials) to stderr: always off.
        try check(ccurl_setopt_long(handle, CURLOPT_VERBOSE, 0))
        try check(ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        try check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, options.insecure ? 0 : 1))
        try check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, options.insecure ? 0 : 2))
        if let caBundle = options.caBundle { try check(ccurl_setopt_string(handle, CURLOPT_CAINFO, caBundle)) }
        // Redirects are followed by `send`, which checks the origin first: libcurl would re-send a
        // POST body (Port's client secret, entity data) to whatever host a 307 names.
        try check(ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        try check(ccurl_setopt_long(handle, CURLOPT_UNRESTRICTED_AUTH, 0))
        try check(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        switch request.method {
        case "GET":
            try check(ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1))
            try check(ccurl_setopt_pointer(handle, CURLOPT_CUSTOMREQUEST, nil))
        default:
            let body = request.body ?? []
            try check(ccurl_setopt_long(handle, CURLOPT_POST, 1))
            try check(ccurl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            // COPYPOSTFIELDS copies the bytes; plain POSTFIELDS would keep a pointer to them.
            let copied = body.withUnsafeBytes { buffer -> CURLcode in
                guard let base = buffer.baseAddress else { return ccurl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "") }
                return ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
            }
            try check(copied)
            if request.method == "POST" {
                try check(ccurl_setopt_pointer(handle, CURLOPT_CUSTOMREQUEST, nil))
            } else {
                try check(ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
            }
        }
        try check(ccurl_setopt_write(handle, CURLOPT_WRITEFUNCTION) { bytes, size, count, context in
            guard let context, let bytes else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            // Returning less than `length` makes libcurl stop the transfer (CURLE_WRITE_ERROR).
            return bytes.withMemoryRebound(to: UInt8.self, capacity: length) { pointer in
                sink.append(UnsafeBufferPointer(start: pointer, count: length)) ? length : 0
            }
        })
        try check(ccurl_setopt_header(handle, CURLOPT_HEADERFUNCTION) { bytes, size, count, context in
            guard let context, let bytes else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let line = bytes.withMemoryRebound(to: UInt8.self, capacity: length) { pointer in
                String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
            }
            sink.headerLine(line)
            return length
        })
        let opaqueSink = Unmanaged.passUnretained(sink).toOpaque()
        try check(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, opaqueSink))
        try check(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaqueSink))
        requestCount += 1
        try withExtendedLifetime(sink) { () throws(TransportError) in
            let code = curl_easy_perform(handle)
            if code != CURLE_OK { options.requestTally?.record(status: nil) }
            // A request cut short because the run's time is up says so, not "Timeout was reached".
            if code == CURLE_OPERATION_TIMEDOUT, let deadline = options.deadline, deadline.remaining < 0.05 {
                throw TransportError(code: Int32(code.rawValue), message: deadline.reason, url: url)
            }
            if sink.exceeded || code == CURLE_FILESIZE_EXCEEDED {
                throw TransportError(code: Int32(code.rawValue),
                                     message: "the response is larger than \(ByteCount.describe(options.maxResponseBytes)) (--max-response-size); the rest was not read",
                                     url: url, kind: .tooLarge)
            }
            if code == CURLE_OUT_OF_MEMORY {
                // libcurl's answer to a header too large to hold (as well as to a real shortage):
                // a fault on this side, which another attempt would only repeat.
                throw TransportError(code: Int32(code.rawValue), message: "out of memory, or a response header too large to hold",
                                     url: url, kind: .local)
            }
            if code == CURLE_OPERATION_TIMEDOUT {
                throw TransportError(code: Int32(code.rawValue),
                                     message: "\(String(cString: curl_easy_strerror(code))) (limits: \(SecondsText.describe(options.idleTimeout)) without a byte, \(SecondsText.describe(options.requestTimeout)) per request)",
                                     url: url)
            }
            try check(code)
        }
        var status = 0
        try check(ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status))
        options.requestTally?.record(status: status)
        var redirect: UnsafeMutablePointer<CChar>?
        let target = ccurl_getinfo_string(handle, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK ? redirect.map { String(cString: $0) } : nil
        bytesReceived += sink.body.count
        return (HTTPResponseData(status: status, headers: sink.headers, body: sink.body, url: url), target)
    }
}

@available(*, unavailable)
extension HTTPConnection: Sendable {}

/// Collects one response, at most `limit` body bytes; headers restart at each status line (100 Continue).
private final class ResponseSink {
    private(set) var body: [UInt8] = []
    var headers: [String: String] = [:]
    let limit: Int
    /// The body went over `limit` and the transfer was stopped.
    private(set) var exceeded = false

    init(limit: Int) {
        self.limit = limit
    }

    /// Appends `bytes`, or returns false once they would take the body over the limit. Growth is
    /// capped at the limit, so a body never holds much more memory than the limit allows.
    func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let needed = body.count + bytes.count
        guard needed <= limit else {
            exceeded = true
            return false
        }
        if needed > body.capacity { body.reserveCapacity(min(limit, max(needed, body.capacity * 2))) }
        body.append(contentsOf: bytes)
        return true
    }

    func headerLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers[name] = value
    }
}

/// One request's libcurl timeouts: the configured ones, capped to what is left of the run's
/// deadline. Throws before sending when the deadline has already passed.
struct RequestTimeouts {
    let connectMilliseconds: Int
    let totalMilliseconds: Int

    init(options: TransportOptions, url: String) throws(TransportError) {
        var connect = options.connectTimeout
        var total = options.requestTimeout
        if let deadline = options.deadline {
            let left = deadline.remaining
            guard left > 0 else {
                throw TransportError(code: Int32(CURLE_OPERATION_TIMEDOUT.rawValue), message: deadline.reason, url: url)
            }
            connect = min(connect, left)
            total = min(total, left)
        }
        // 0 means "no timeout" to libcurl: never round a tiny remainder down to it.
        connectMilliseconds = max(1, Int(connect * 1000))
        totalMilliseconds = max(1, Int(total * 1000))
    }
}

/// The origin of a URL (scheme, host, port): redirects may not leave it.
struct URLOrigin: Equatable {
    let scheme: String
    let host: String
    let port: Int

    init?(_ url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased(), ["http", "https"].contains(scheme) else { return nil }
        self.scheme = scheme
        self.host = host
        port = components.port ?? (scheme == "https" ? 443 : 80)
    }

    /// `url` without its query, fragment or user info, for messages: those may hold secrets.
    static func withoutQuery(_ url: String) -> String {
        guard var components = URLComponents(string: url) else {
            return String(url.prefix { $0 != "?" && $0 != "#" })
        }
        components.query = nil
        components.fragment = nil
        components.user = nil
        components.password = nil
        return components.string ?? String(url.prefix { $0 != "?" && $0 != "#" })
    }
}
