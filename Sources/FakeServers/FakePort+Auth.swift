import Foundation

extension FakePort {
    /// `POST /v1/auth/access_token` (port-api.md §2.1). Call with the lock held.
    func accessToken(_ request: HTTPRequest, now: Date) throws(FakePortError) -> FakePortReply {
        let body = try jsonObject(request)
        for key in body.keys where key != "clientId" && key != "clientSecret" {
            throw .invalid("body must NOT have additional properties ('\(key)')")
        }
        guard let clientId = body["clientId"]?.stringValue else { throw .invalid("body must have required property 'clientId'") }
        guard let secret = body["clientSecret"]?.stringValue else {
            throw .invalid("body must have required property 'clientSecret'")
        }
        guard configuration.clients[clientId] == secret else {
            throw FakePortError(status: 401, code: "invalid_credentials", message: "The client credentials are invalid")
        }
        let grant = tokens.issue(clientId: clientId, now: now)
        return .ok([
            "accessToken": .string(grant.token), "expiresIn": .number(Double(grant.expiresIn)), "tokenType": "Bearer",
        ])
    }

    /// The bearer check of every other route (port-api.md §2.2). Call with the lock held.
    func authenticate(_ request: HTTPRequest, now: Date) throws(FakePortError) -> FakePortContext {
        guard let header = request.headers["authorization"] else { throw .unauthorized("Missing Authorization header") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthorized("The Authorization header must be 'Bearer <token>'")
        }
        guard let clientId = tokens.clientId(token: String(parts[1]).trimmingCharacters(in: .whitespaces), now: now) else {
            throw .unauthorized("The access token is invalid or expired")
        }
        return FakePortContext(request: request, actor: "\(clientId)@clients", now: FakePortClock.iso8601(now))
    }

    /// The body as a JSON object: empty or non-object → 422, unparsable → 400.
    func jsonObject(_ request: HTTPRequest) throws(FakePortError) -> [String: FakeJSON] {
        guard !request.body.isEmpty else { throw .invalid("body must be object") }
        let value: FakeJSON
        do {
            value = try FakeJSON.parse([UInt8](request.body))
        } catch {
            throw FakePortError(status: 400, code: "bad_request", message: "Body is not valid JSON: \(error.message)")
        }
        guard let members = value.objectValue else { throw .invalid("body must be object") }
        return members
    }
}
