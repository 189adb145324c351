/// An HTTP request as mirrorctl sends it. Header values may hold credentials: never log them.
public struct HTTPRequestSpec: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Which redirects may be followed; none ever leaves the origin.
    public var redirects: RedirectPolicy

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                redirects: RedirectPolicy = .sameOrigin) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.redirects = redirects
    }
}

/// What a request does with a 3xx: follow it within the same origin (scheme, host, port), or not at
/// all. A redirect it may not follow is an error naming both URLs, never retried.
public enum RedirectPolicy: Sendable {
    case sameOrigin
    case none
}

/// A received response: status, headers (names lower-cased; the last value wins) and body.
public struct HTTPResponseData: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]
    public let url: String

    public init(status: Int, headers: [String: String], body: [UInt8], url: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// How connections behave: timeouts, TLS trust, identity.
public struct TransportOptions: Sendable {
    /// Seconds to establish a connection.
    public var connectTimeout: Double = 10
    /// Seconds for one whole request, including the body transfer.
    public var requestTimeout: Double = 120
    /// Seconds without a byte (under 1 byte/s) before a request is given up: a server that hangs
    /// or dribbles can't hold a run.
    public var idleTimeout: Double = 60
    /// The most bytes one response body may have, counted after decompression (a gzip bomb
    /// stops here). 64 KiB for each entity of a default 500-entity page; four walking connections
    /// at once keep well under 300 MB even when every answer is hostile.
    public var maxResponseBytes = 32 << 20
    /// A PEM bundle of CA certificates to trust instead of the system's.
    public var caBundle: String?
    /// Skip TLS verification. Only for labs, only by an explicit `--insecure`.
    public var insecure = false
    /// The run's `--timeout`: each request's timeouts are capped to the time left, and no request
    /// starts once it has passed.
    public var deadline: RunDeadline?
    public var userAgent = "mirrorctl/\(MirrorctlVersion.current)"
    /// Counts every request sent with these options by status code (metrics); nil counts nothing.
    public var requestTally: RequestTally?

    public init() {}
}

/// The version reported in `--version` and the User-Agent.
public enum MirrorctlVersion {
    public static let current = "0.1.0"
}

/// A request that never got an HTTP answer: DNS, connect, TLS, timeout, reset, truncated body.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as far as retrying is concerned.
    public enum Kind: Sendable {
        /// The network or the server: worth another try.
        case network
        /// A redirect this request may not follow.
        case redirectRefused
        /// The response went over `--max-response-size`.
        case tooLarge
        /// This side ran out of something (memory, header space): another try repeats it.
        case local
    }

    public let code: Int32
    public let message: String
    /// The URL without credentials (mirrorctl never puts secrets in URLs).
    public let url: String
    public let kind: Kind

    /// The code of a redirect refused before libcurl saw it.
    static let redirectRefusedCode: Int32 = -2

    public init(code: Int32, message: String, url: String, kind: Kind = .network) {
        self.code = code
        self.message = message
        self.url = url
        self.kind = kind
    }

    /// Only network faults are retried: the others would fail the same way again.
    public var isRetryable: Bool { kind == .network }

    public var description: String { "\(url): \(message)" }
}
