import Fetch
import Foundation
import Reconcile
import Store

/// `mirrorctl verify`: repairs drift between Port and the ledger (entities edited or deleted in
/// Port by hand) without walking the catalog.
enum VerifyCommand {
    static let spec = CommandSpec(
        name: "verify", abstract: "Compare Port with what it acknowledged; push again what was edited or deleted there.",
        usage: "verify [--db PATH] [--mapping FILE] [--port-url URL] [--concurrency N] [--wait [--timeout DURATION]] [--json]",
        options: [Configuration.databaseOption,
                  OptionSpec(name: "mapping", value: "FILE", help: "Port app config YAML, for its push settings (env MIRROR_MAPPING)."),
                  OptionSpec(name: "port-url", value: "URL", help: "Port API base URL (env PORT_BASE_URL)."),
                  OptionSpec(name: "concurrency", value: "N", help: "Port requests in flight at once (default 4)."),
                  WriterLocking.waitOption,
                  WriterLocking.waitTimeoutOption,
                  OptionSpec(name: "json", value: nil, help: "Print one JSON object on stdout.")],
        discussion: """
            Reads every owned blueprint's entities from Port (only the fields the mapping sends) and compares
            them with the bodies Port acknowledged; edited or missing entities are upserted again. Entities
            mirrorctl did not create are left alone, and nothing is deleted.
            Needs PORT_CLIENT_ID and PORT_CLIENT_SECRET (or *_FILE) and a database a sync wrote.
            Exit status: 0 verified (drift repaired), 3 some blueprint unreadable or some repair refused,
            1 Port unreachable, 2 usage or configuration error, 4 database unusable, 5 another sync holds the database.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let configuration = try Configuration.load(arguments, environment: context.environment)
        guard let credentials = configuration.portCredentials else {
            throw UsageError("verify needs Port credentials: set PORT_CLIENT_ID and PORT_CLIENT_SECRET (or *_FILE)")
        }
        let mapping = try loadMapping(configuration.mappingPath)
        guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
            throw StoreError(path: configuration.databasePath, message: "no such database (run 'mirrorctl sync' first)")
        }
        // It writes the ledger and pushes: one writer at a time, as sync.
        let lock = try WriterLocking.acquire(database: configuration.databasePath, command: "verify", arguments: arguments,
                                             deadline: try RunLimits.load(arguments).deadline, console: context.console)
        defer { lock?.release() }
        let store = try openStore(configuration.databasePath, readOnly: false)
        let settings = PortSettings(baseURL: configuration.portBaseURL, credentials: credentials,
                                    transport: configuration.portTransport, concurrency: configuration.portConcurrency)
        let outcome = try DriftVerifier(store: store, settings: settings).verifyAndRepair(config: mapping.config)
        let console = context.console
        if arguments.flag("json") {
            console.json(["run": .number(Double(outcome.run)), "status": .string(outcome.status.rawValue),
                          "verify": outcome.report.json, "port": outcome.push.json])
        } else {
            console.print("verify run \(outcome.run) \(outcome.status.rawValue): \(VerifySupport.summary(outcome.report))")
        }
        VerifySupport.warn(outcome.report, console: console)
        for message in outcome.push.errors { console.error(message) }
        if let aborted = outcome.push.aborted { console.error("Port push stopped: \(aborted)") }
        return ExitStatus(outcome.status)
    }
}

/// `sync --verify` and `sync --verify-every HOURS`: when a sync verifies, and how it reports it.
enum VerifySupport {
    static let syncOptions: [OptionSpec] = [
        OptionSpec(name: "verify", value: nil, help: "Compare Port with the ledger before pushing; push again what was edited or deleted there."),
        OptionSpec(name: "verify-every", value: "HOURS", help: "Verify when the last verification is older (default 24; 0: only with --verify)."),
    ]

    /// Whether this sync verifies: `--verify`, or the last complete verification is older than
    /// `--verify-every` hours (never verified counts as old).
    static func isDue(_ arguments: ParsedArguments, store: MirrorStore) throws -> Bool {
        if arguments.flag("verify") { return true }
        var hours = 24.0
        if let text = arguments.value("verify-every") {
            guard let number = Double(text), number >= 0, number <= 1_000_000 else {
                throw UsageError("--verify-every must be a number of hours from 0 to 1000000, got '\(text)'")
            }
            hours = number
        }
        guard hours > 0 else { return false }
        guard let last = try VerificationLog(store: store).lastCompleted() else { return true }
        return Date().timeIntervalSince(last) >= hours * 3600
    }

    /// The report with `repaired` counted after the run's push.
    static func settle(_ report: DriftReport?, store: MirrorStore) throws -> DriftReport? {
        try report.map { try DriftVerifier.settle($0, store: store) }
    }

    static func summary(_ report: DriftReport) -> String {
        let c = report.counts
        return "\(c.checked) checked, \(c.drifted) drifted, \(c.missing) missing, \(c.repaired) repaired"
    }

    /// Drift found and blueprints not read, on stderr.
    static func warn(_ report: DriftReport, console: Console) {
        for sample in report.samples { console.error("warning: drift: \(sample)") }
        for error in report.errors { console.error("verify: \(error)") }
    }
}
