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
