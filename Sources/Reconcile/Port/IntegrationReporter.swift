import Fetch
import Foundation
import Store

/// Tells Port's integration how each run went, as Ocean's `ResyncStateUpdater` does
/// (ocean-backstage.md §2.12): `PATCH /v1/integration/{id}/resync-state` with `running` when a
/// run starts, then `completed` or `failed` with its end time, so Port's UI shows the
/// installation's last sync and its status. mirrorctl adds the run's counts under `counts`; a
/// Port that refuses the extra member (400/422) gets Ocean's exact body instead.
///
/// Reporting is a courtesy, never a reason for a run to fail: it is tried once (Ocean does not
/// retry these PATCHes either), with short timeouts, and the first failure is reported through
/// `warn` once and ends reporting for the run.
public final class IntegrationReporter {
    public let identifier: String
    private let settings: PortSettings
    private let warn: (String) -> Void
    private var client: PortClient?
    private var startedAt: Date?
    private var gaveUp = false
    private var withCounts = true

    /// `settings.transport` should carry the integration's User-Agent (`PortUserAgent`).
    public init(identifier: String, settings: PortSettings, warn: @escaping (String) -> Void) {
        self.identifier = identifier
        var settings = settings
        settings.transport.connectTimeout = min(settings.transport.connectTimeout, 5)
        settings.transport.requestTimeout = min(settings.transport.requestTimeout, 15)
        settings.retry.maxAttempts = 1
        self.settings = settings
        self.warn = warn
    }

    /// The run started: `running`, with its start time and no end yet.
    public func started(at date: Date) {
        startedAt = date
        send(["status": "running", "lastResyncStart": .string(Timestamp.string(date)), "lastResyncEnd": .null,
              "nextResync": .null, "intervalInMinuets": .null], counts: nil)
    }

    /// The run ended: `completed` only when it succeeded in full (exit 0), else `failed`.
    public func finished(completed: Bool, counts: JSONValue?, at date: Date) {
        var state: [String: JSONValue] = ["status": .string(completed ? "completed" : "failed"),
                                          "lastResyncEnd": .string(Timestamp.string(date)),
                                          "nextResync": .null, "intervalInMinuets": .null]
        if let startedAt { state["lastResyncStart"] = .string(Timestamp.string(startedAt)) }
        send(state, counts: counts)
    }

    private func send(_ state: [String: JSONValue], counts: JSONValue?) {
        guard !gaveUp else { return }
        do {
            let client = try self.client ?? PortClient(baseURL: settings.baseURL,
                                                       auth: PortAuth(baseURL: settings.baseURL, credentials: settings.credentials),
                                                       transport: settings.transport, retry: settings.retry)
            self.client = client
            var body = state
            if withCounts, let counts { body["counts"] = counts }
            do {
                try client.patchResyncState(identifier, .object(body))
            } catch PortError.http(let status, _, _, _) where (status == 400 || status == 422) && body["counts"] != nil {
                withCounts = false
                try client.patchResyncState(identifier, .object(state))
            }
        } catch {
            gaveUp = true
            warn("could not report the run's state to Port integration '\(identifier)' (the sync itself is unaffected): \(error)")
        }
    }
}
