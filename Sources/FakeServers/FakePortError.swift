
/// A failure the fake Port answers with: an HTTP status plus Port's error body
/// `{"ok": false, "error": <code>, "message": <text>}` (port-api.md §3).
public struct FakePortError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The JSON error body.
    public var body: FakeJSON { ["ok": false, "error": .string(code), "message": .string(message)] }

    /// 422 `invalid_request`: the body or query does not match the route's schema.
    static func invalid(_ message: String) -> FakePortError {
        FakePortError(status: 422, code: "invalid_request", message: message)
    }

    /// 422 `blueprint_schema_mismatch`: an entity does not fit its blueprint's schema.
    static func schemaMismatch(_ message: String) -> FakePortError {
        FakePortError(status: 422, code: "blueprint_schema_mismatch", message: message)
    }

    /// 404 `not_found`.
    static func notFound(_ message: String) -> FakePortError {
        FakePortError(status: 404, code: "not_found", message: message)
    }

    /// 401 `unauthorized`.
    static func unauthorized(_ message: String) -> FakePortError {
        FakePortError(status: 401, code: "unauthorized", message: message)
    }

    /// 409 `identifier_taken`.
    static func taken(_ message: String) -> FakePortError {
        FakePortError(status: 409, code: "identifier_taken", message: message)
    }

    /// The `error` code Port-like gateways would use for a bare status (fault injection).
    static func code(forStatus status: Int) -> String {
        switch status {
        case 400: return "bad_request"
        case 401: return "unauthorized"
        case 403: return "missing_permissions"
        case 404: return "not_found"
        case 408: return "request_timeout"
        case 409: return "identifier_taken"
        case 413: return "payload_too_large"
        case 422: return "invalid_request"
        case 429: return "rate_limit_exceeded"
        case 502: return "bad_gateway"
        case 503: return "service_unavailable"
        case 504: return "gateway_timeout"
        default: return "internal_error"
        }
    }
}
