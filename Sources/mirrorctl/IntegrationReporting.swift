import Fetch
import Foundation
import Reconcile
import Store

/// `--integration-id ID` (env `PORT_INTEGRATION_ID`, config `port.integrationId`): a sync reports
/// its state to that Port integration (`IntegrationReporter`) and names it in its User-Agent.
enum IntegrationReporting {
    static let option = OptionSpec(name: "integration-id", value: "ID", help: "Port integration to report each run's state to, as Ocean does; also names it in the User-Agent (env PORT_INTEGRATION_ID).")

    /// The reporter for a sync, when an integration id and Port credentials are both set.
    static func reporter(_ configuration: Configuration, console: Console) -> IntegrationReporter? {
        guard let identifier = configuration.portIntegrationId, let credentials = configuration.portCredentials else { return nil }
        let settings = PortSettings(baseURL: configuration.portBaseURL, credentials: credentials,
                                    transport: configuration.portTransport)
        return IntegrationReporter(identifier: identifier, settings: settings) { message in
            console.logger.warn("integration.report.failed", message)
        }
    }

    /// What Port is told a run did: its number and the `sync --json` counts.
    static func counts(_ report: SyncReport) -> JSONValue {
        let port = report.port
        return ["run": report.run.map { .number(Double($0)) } ?? .null,
                "source": Walk.counts(report.counts),
                "port": ["upserted": .number(Double(port.upserted)), "deleted": .number(Double(port.deleted)),
                         "failed": .number(Double(port.failed)), "pending": .number(Double(port.pending))]]
    }
}
