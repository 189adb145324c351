import CCurl
import Foundation

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

    /// Sends one request and reads the whole response.
    public func send(_ request: HTTPRequestSpec) throws(TransportError) -> HTTPResponseData {
        let sink = ResponseSink()
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
        // Verbose output would print request headers (credentials) to stderr: always off.
        try check(ccurl_setopt_long(handle, CURLOPT_VERBOSE, 0))
        try check(ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        try check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, options.insecure ? 0 : 1))
        try check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, options.insecure ? 0 : 2))
        if let caBundle = options.caBundle { try check(ccurl_setopt_string(handle, CURLOPT_CAINFO, caBundle)) }
        // Follow redirects within http(s) only; libcurl drops a custom Authorization header when a
        // redirect leaves the original host, so credentials never reach another host.
        try check(ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1))
        try check(ccurl_setopt_long(handle, CURLOPT_MAXREDIRS, 5))
        try check(ccurl_setopt_long(handle, CURLOPT_UNRESTRICTED_AUTH, 0))
        try check(ccurl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
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
            bytes.withMemoryRebound(to: UInt8.self, capacity: length) { pointer in
                sink.body.append(contentsOf: UnsafeBufferPointer(start: pointer, count: length))
            }
            return length
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
            try check(code)
        }
        var status = 0
        try check(ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status))
        options.requestTally?.record(status: status)
        bytesReceived += sink.body.count
        return HTTPResponseData(status: status, headers: sink.headers, body: sink.body, url: url)
    }
}

@available(*, unavailable)
extension HTTPConnection: Sendable {}

/// Collects one response; headers restart at each status line (redirects, 100 Continue).
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]

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
