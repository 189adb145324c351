import Foundation

/// An error answered in Backstage's exact shape (reference §1.9):
/// `{"error":{"name","message"},"request":{"method","url"},"response":{"statusCode"}}`.
struct BackstageError: Error {
    let name: String
    let message: String
    let status: Int

    init(name: String, message: String, status: Int) {
        self.name = name
        self.message = message
        self.status = status
    }

    static func input(_ message: String) -> BackstageError {
        BackstageError(name: "InputError", message: message, status: 400)
    }

    static func notFound(_ message: String) -> BackstageError {
        BackstageError(name: "NotFoundError", message: message, status: 404)
    }

    static func authentication(_ message: String) -> BackstageError {
        BackstageError(name: "AuthenticationError", message: message, status: 401)
    }

    /// The error Backstage's middleware would produce for a bare status (used by injected faults):
    /// the name follows its status table, anything unmapped is a plain `Error`.
    static func forStatus(_ status: Int) -> BackstageError {
        switch status {
        case 400: return .input("Injected fault: bad request")
        case 401: return .authentication("Illegal token")
        case 403: return BackstageError(name: "NotAllowedError", message: "Injected fault: not allowed", status: 403)
        case 404: return .notFound("Injected fault: not found")
        case 408: return BackstageError(name: "Error", message: "Request timed out", status: 408)
        case 409: return BackstageError(name: "ConflictError", message: "Injected fault: conflict", status: 409)
        case 429: return BackstageError(name: "Error", message: "Too many requests, please try again later.", status: 429)
        case 501: return BackstageError(name: "NotImplementedError", message: "Injected fault: not implemented", status: 501)
        case 503: return BackstageError(name: "ServiceUnavailableError", message: "Injected fault: service unavailable", status: 503)
        default: return BackstageError(name: "Error", message: "Injected fault: status \(status)", status: status)
        }
    }

    /// The HTTP response for `request`; `url` is the plugin-relative URL Express reports.
    func response(method: String, url: String, headers: [(String, String)] = []) -> HTTPResponse {
        let body: FakeJSON = [
            "error": ["name": .string(name), "message": .string(message)],
            "request": ["method": .string(method), "url": .string(url)],
            "response": ["statusCode": .number(Double(status))],
        ]
        return HTTPResponse(
            status: status,
            headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
            body: Data(FakeJSON.bytes(body)))
    }
}
