import Store

/// Why a Port call failed, with the URL and Port's `{ok:false, error, message}`. Never holds a
/// token or the client secret.
public enum PortError: ServerError, CustomStringConvertible {
    case http(status: Int, error: String?, message: String?, url: String)
    case transport(TransportError)
    case invalidResponse(url: String, reason: String)
    /// Retries ran out; `last` is what kept failing.
    indirect case gaveUp(attempts: Int, last: PortError)
    case notConfigured(String)
    /// Port was given up on for the rest of the run (unreachable, failing, or the credentials refused).
    case stopped(CircuitTrip)

    /// Reads Port's `{ok:false, error, message}` body when there is one.
    public static func answer(_ response: HTTPResponseData, to request: HTTPRequestSpec, for purpose: Void) -> PortError {
        let parsed = try? JQValue.parse(response.body)
        return .http(status: response.status, error: SecretRedaction.redact(parsed?.member("error")?.stringValue),
                     message: SecretRedaction.redact(parsed?.member("message")?.stringValue), url: request.url)
    }

    public var description: String {
        switch self {
        case .http(let status, let error, let message, let url):
            let detail = [error, message].compactMap { $0 }.joined(separator: ": ")
            return "Port answered \(status)\(detail.isEmpty ? "" : " (\(detail))") for \(url)"
        case .transport(let error): return error.isRetryable ? "cannot reach Port: \(error)" : "Port: \(error)"
        case .invalidResponse(let url, let reason): return "Port sent an invalid answer for \(url): \(reason)"
        case .gaveUp(let attempts, let last): return "\(last) (gave up after \(attempts) attempts)"
        case .notConfigured(let message): return message
        case .stopped(let trip):
            return trip.cause == .credentialsRefused
                ? "\(trip); \(RunReason.portAuthRejected.hint ?? "")" : "\(trip)"
        }
    }

    /// The HTTP status when Port answered.
    public var status: Int? {
        if case .http(let status, _, _, _) = self { return status }
        return nil
    }
}
