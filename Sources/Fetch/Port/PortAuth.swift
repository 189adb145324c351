import Foundation
import Store

/// Port API credentials. `description` never shows the secret.
public struct PortCredentials: Sendable, CustomStringConvertible {
    public let clientId: String
    public let clientSecret: String

    public init(clientId: String, clientSecret: String) {
        self.clientId = clientId
        self.clientSecret = clientSecret
    }

    public var description: String { "PortCredentials(clientId: \(clientId), clientSecret: ***)" }
}

/// The access token shared by all Port connections of a run: fetched with
/// `POST /v1/auth/access_token`, cached until shortly before `expiresIn` runs out, and dropped when
/// Port rejects it (401) so the next request fetches a new one. Thread-safe.
public final class PortAuth: @unchecked Sendable {
    private let credentials: PortCredentials
    private let baseURL: String
    private let lock = NSLock()
    private var token: String?
    private var expiresAt = Date.distantPast
    /// Tokens fetched so far (for tests and the benchmark).
    public private(set) var fetches = 0

    public init(baseURL: String, credentials: PortCredentials) {
        self.baseURL = baseURL
        self.credentials = credentials
        SecretRedaction.register(credentials.clientSecret)
    }

    /// A longer access token is no token: Port's are JWTs of a few kilobytes, and every request
    /// would carry it in a header.
    static let maxTokenBytes = 64 << 10

    /// The `Authorization` value, fetching a token through `sender` when none is valid.
    func authorization(using sender: RetryingSender<PortError>) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let token, Date() < expiresAt { return token }
        let url = "\(baseURL)/v1/auth/access_token"
        let body = CanonicalJSON.bytes(["clientId": .string(credentials.clientId), "clientSecret": .string(credentials.clientSecret)])
        let response: HTTPResponseData
        do {
            // The body is the client secret: it goes to this URL or nowhere.
            response = try sender.send(HTTPRequestSpec(method: "POST", url: url, body: body, redirects: .none))
        } catch let error as PortError where error.status == 401 || error.status == 403 {
            // Refused client credentials are refused for every request: stop asking this run.
            throw PortClient.refused(error, budget: sender.retry.budget)
        }
        guard let parsed = try? JQValue.parse(response.body), let access = parsed.member("accessToken")?.stringValue else {
            throw PortError.invalidResponse(url: url, reason: "no accessToken in the token response")
        }
        let type = parsed.member("tokenType")?.stringValue ?? "Bearer"
        // A token goes into a header of every request: a huge one, or one with a line break (a
        // header of the server's choosing), is refused.
        guard access.utf8.count + type.utf8.count <= PortAuth.maxTokenBytes else {
            throw PortError.invalidResponse(url: url, reason: "the accessToken is \(ByteCount.describe(access.utf8.count)), over \(ByteCount.describe(PortAuth.maxTokenBytes)): not a usable token")
        }
        guard !(access + type).unicodeScalars.contains(where: TerminalText.isControl) else {
            throw PortError.invalidResponse(url: url, reason: "the accessToken or tokenType holds control characters: not a usable token")
        }
        SecretRedaction.register(access)
        let lifetime = parsed.member("expiresIn").flatMap { Double(String(decoding: $0.canonicalBytes(), as: UTF8.self)) } ?? 3600
        fetches += 1
        token = "\(type) \(access)"
        // Refresh a little early so a token doesn't expire between check and use.
        expiresAt = Date().addingTimeInterval(max(0, lifetime - min(60, lifetime * 0.1)))
        return "\(type) \(access)"
    }

    /// Forgets `authorization` after Port rejected it (another thread may already have renewed it).
    func invalidate(_ authorization: String) {
        lock.lock()
        defer { lock.unlock() }
        if token == authorization {
            token = nil
            expiresAt = .distantPast
        }
    }
}
