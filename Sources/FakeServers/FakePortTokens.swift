import Foundation

/// Access tokens: one active token per client, reused until it expires (port-api.md §2.1), with
/// hooks to expire tokens server-side before clients expect it.
struct FakePortTokens {
    private struct Grant {
        let clientId: String
        let expiresAt: Date
    }

    var lifetime: TimeInterval
    private var grants: [String: Grant] = [:]
    private var activeByClient: [String: String] = [:]

    init(lifetime: TimeInterval) {
        self.lifetime = lifetime
    }

    /// The client's active token and its whole seconds left, minting a new one when there is none
    /// or less than a second is left.
    mutating func issue(clientId: String, now: Date) -> (token: String, expiresIn: Int) {
        if let token = activeByClient[clientId], let grant = grants[token] {
            let left = Int(grant.expiresAt.timeIntervalSince(now).rounded(.down))
            if left >= 1 { return (token, left) }
            grants[token] = nil
        }
        let token = Self.mint(clientId: clientId, now: now, lifetime: lifetime)
        grants[token] = Grant(clientId: clientId, expiresAt: now.addingTimeInterval(lifetime))
        activeByClient[clientId] = token
        return (token, Int(lifetime.rounded(.down)))
    }

    /// The client a live token belongs to; nil for unknown, revoked or expired tokens.
    func clientId(token: String, now: Date) -> String? {
        guard let grant = grants[token], grant.expiresAt > now else { return nil }
        return grant.clientId
    }

    /// Revokes every token (or one client's): the next use answers 401, the next token call mints anew.
    mutating func expire(clientId: String? = nil) {
        for (token, grant) in grants where clientId == nil || grant.clientId == clientId {
            grants[token] = nil
            activeByClient[grant.clientId] = nil
        }
    }

    /// A JWT-shaped token (unsigned: nothing verifies it) carrying Port's machine claims.
    private static func mint(clientId: String, now: Date, lifetime: TimeInterval) -> String {
        let issued = Int(now.timeIntervalSince1970)
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let payload = FakeJSON.string([
            "sub": .string("\(clientId)@clients"), "isMachine": true, "iat": .number(Double(issued)),
            "exp": .number(Double(issued) + lifetime.rounded(.down)),
            "jti": .string(String(UInt64.random(in: 0...UInt64.max), radix: 16)),
        ])
        let signature = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        return [base64URL(header), base64URL(payload), base64URL(signature)].joined(separator: ".")
    }

    private static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
