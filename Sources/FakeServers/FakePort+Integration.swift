import Foundation

/// `GET /v1/integration/{identifier}`: Port's integration object, whose `config` holds the
/// Ocean mapping (port-api.md §6.1). Tests set integrations with `setIntegration`.
extension FakePort {
    /// Creates or replaces integration `identifier` with `config` (a port-app-config as JSON).
    public func setIntegration(_ identifier: String, config: FakeJSON) {
        locked {
            let now = FakePortClock.iso8601(clock.now())
            integrations[identifier] = [
                "identifier": .string(identifier), "installationId": .string(identifier),
                "installationAppType": "backstage", "version": "0.1.0", "config": config,
                "createdAt": .string(now), "updatedAt": .string(now),
            ]
        }
    }

    /// Removes integration `identifier`.
    public func removeIntegration(_ identifier: String) {
        locked { _ = integrations.removeValue(forKey: identifier) }
    }

    func getIntegration(_ identifier: String) throws(FakePortError) -> FakePortReply {
        guard let integration = integrations[identifier] else {
            throw .notFound("Integration with identifier \"\(identifier)\" was not found")
        }
        return .ok(["integration": integration])
    }
}

/// `PATCH /v1/integration/{identifier}/resync-state`: how an integration reports each resync
/// (port-api.md §6.2, ocean-backstage.md §2.12). Port shows it as the integration's last sync.
extension FakePort {
    /// The members Ocean's `ResyncStateUpdater` sends (`intervalInMinuets` is Port's spelling).
    static let resyncStateKeys: Set<String> = ["status", "lastResyncStart", "lastResyncEnd", "nextResync", "intervalInMinuets"]
    static let resyncStatuses: Set<String> = ["running", "completed", "failed", "aborted"]

    /// The bodies integration `identifier` reported, oldest first.
    public func resyncStateReports(_ identifier: String) -> [FakeJSON] {
        locked { resyncStateReports[identifier] ?? [] }
    }

    /// With `strict`, a body with members other than Ocean's five is refused (422).
    public func setStrictResyncState(_ strict: Bool) {
        locked { strictResyncState = strict }
    }

    /// An ISO-8601 date-time, with or without fractional seconds.
    static func isDateTime(_ text: String) -> Bool {
        let formatter = ISO8601DateFormatter()
        if formatter.date(from: text) != nil { return true }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) != nil
    }

    func patchResyncState(_ identifier: String, _ context: FakePortContext) throws(FakePortError) -> FakePortReply {
        guard case .object(var integration)? = integrations[identifier] else {
            throw .notFound("Integration with identifier \"\(identifier)\" was not found")
        }
        let body = try jsonObject(context.request)
        guard let status = body["status"]?.stringValue, FakePort.resyncStatuses.contains(status) else {
            throw .invalid("\"status\" must be one of running, completed, failed, aborted")
        }
        for key in ["lastResyncStart", "lastResyncEnd", "nextResync"] {
            guard let value = body[key] else { continue }
            if value == .null { continue }
            guard let text = value.stringValue, FakePort.isDateTime(text) else {
                throw .invalid("\"\(key)\" must be an ISO-8601 date-time or null")
            }
        }
        if strictResyncState, let extra = body.keys.sorted().first(where: { !FakePort.resyncStateKeys.contains($0) }) {
            throw .invalid("must NOT have additional properties ('\(extra)')")
        }
        var state = integration["resyncState"]?.objectValue ?? [:]
        for (key, value) in body { state[key] = value }
        state["updatedAt"] = .string(context.now)
        integration["resyncState"] = .object(state)
        integrations[identifier] = .object(integration)
        resyncStateReports[identifier, default: []].append(.object(body))
        return .ok(["integration": .object(integration)])
    }
}
