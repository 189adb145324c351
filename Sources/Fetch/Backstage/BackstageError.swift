import Store

/// Why reading from Backstage failed, with the URL (never the token) and Backstage's own words.
public enum BackstageError: ServerError, Sendable, CustomStringConvertible {
    /// Backstage answered `request` with an error status; `name`/`message` come from its
    /// `{error:{name,message}}` body.
    case http(status: Int, name: String?, message: String?, url: String, request: BackstageRequest)
    /// No HTTP answer (connect, DNS, TLS, timeout, reset, truncated body).
    case transport(TransportError)
    /// A 2xx answer that is not a by-query page: not JSON, or missing `items`.
    case invalidResponse(url: String, reason: String)
    /// Retries ran out; `last` is what kept failing.
    indirect case gaveUp(attempts: Int, last: BackstageError)
    /// A local catalog folder could not be read.
    case local(String)
    /// Backstage was given up on for the rest of the run (unreachable, or the token refused).
    case stopped(CircuitTrip)

    /// Reads Backstage's `{error:{name,message}}` body when there is one.
    public static func answer(_ response: HTTPResponseData, to request: HTTPRequestSpec, for purpose: BackstageRequest) -> BackstageError {
        let body = try? JQValue.parse(response.body)
        let error = body?.member("error")
        return .http(status: response.status, name: SecretRedaction.redact(error?.member("name")?.stringValue),
                     message: SecretRedaction.redact(error?.member("message")?.stringValue), url: response.url,
                     request: purpose)
    }

    /// The HTTP status when Backstage answered.
    public var status: Int? {
        if case .http(let status, _, _, _, _) = self { return status }
        return nil
    }

    public var description: String {
        switch self {
        case .http(let status, let name, let message, let url, _):
            let detail = [name, message].compactMap { $0 }.joined(separator: ": ")
            return "Backstage answered \(status)\(detail.isEmpty ? "" : " (\(detail))") for \(url)"
        case .transport(let error):
            return error.isRetryable ? "cannot reach Backstage: \(error)" : "Backstage: \(error)"
        case .invalidResponse(let url, let reason):
            return "Backstage sent an invalid page for \(url): \(reason)"
        case .gaveUp(let attempts, let last):
            return "\(last) (gave up after \(attempts) attempts)"
        case .local(let message):
            return message
        case .stopped(let trip):
            return trip.cause == .credentialsRefused
                ? "\(trip); \(RunReason.sourceAuthRejected.hint ?? "")" : "\(trip)"
        }
    }
}

/// What a request to Backstage asked for. What a refusal means depends on it (a server that
/// refuses projections or by-refs can't do etag-first walks), so the error carries it.
public enum BackstageRequest: Sendable, Equatable {
    /// A by-query page of a walk: whole entities, or `projected` to some fields.
    case page(projected: Bool)
    /// `POST /api/catalog/entities/by-refs`.
    case byRefs
}
