import Fetch
import Foundation
import Reconcile
import Store

/// Options shared by `sync` and `diff`: where the catalog is and what to walk.
let walkOptions: [OptionSpec] = [
    Configuration.databaseOption,
    OptionSpec(name: "backstage-url", value: "URL", help: "Backstage base URL, or file:PATH for local descriptor YAML (env BACKSTAGE_URL)."),
    OptionSpec(name: "kind", value: "KIND", help: "A kind to walk; repeat for several (default: the mapping's kinds, else component, API, group, user, resource, system, domain).", repeatable: true),
    OptionSpec(name: "page-size", value: "N", help: "Entities per by-query page (default 500)."),
    OptionSpec(name: "mapping", value: "FILE", help: "Port app config YAML (env MIRROR_MAPPING)."),
    OptionSpec(name: "ca-bundle", value: "FILE", help: "PEM CA bundle to trust for HTTPS (env MIRROR_CA_BUNDLE)."),
    OptionSpec(name: "port-url", value: "URL", help: "Port API base URL (env PORT_BASE_URL, default https://api.getport.io)."),
    IntegrationReporting.option,
    OptionSpec(name: "concurrency", value: "N", help: "Backstage connections and Port requests in flight at once (default 4)."),
    OptionSpec(name: "allow-mass-delete", value: nil, help: "Delete in Port even above entityDeletionThreshold."),
    OptionSpec(name: "full", value: nil, help: "Walk every entity body (default: etag-first scan when the mirror has the kind)."),
    OptionSpec(name: "full-every", value: "HOURS", help: "Walk full bodies when a kind's last full walk is older (default 24)."),
    MappingBudget.option,
    RunLimits.timeoutOption,
    RunLimits.maxRetriesOption,
] + TransportLimits.options + [
    InsecureOption.spec,
    OptionSpec(name: "json", value: nil, help: "Print one JSON object on stdout."),
]

let walkDiscussion = """
    Environment: BACKSTAGE_URL, BACKSTAGE_TOKEN (or BACKSTAGE_TOKEN_FILE), MIRROR_DB, MIRROR_MAPPING,
    PORT_BASE_URL, PORT_CLIENT_ID, PORT_CLIENT_SECRET (or *_FILE). Without Port credentials a sync is
    mirror-only: it maps and records the plan, and the first sync with credentials pushes it.
    Exit status: 0 succeeded, 3 partial (some kind did not complete: no deletes for it; or some
    descriptor of a file: source could not be read: no deletes),
    1 failed, 2 usage or configuration error, 4 database unusable,
    5 another sync holds the database lock (sync --wait waits for it, up to --timeout; diff never waits:
    it works on a private copy of the last committed state).
    """

enum SyncCommand {
    static let spec = CommandSpec(
        name: "sync", abstract: "Walk the catalog, record what changed in the mirror database.",
        usage: "sync [--db PATH] [--backstage-url URL] [--kind K]... [--page-size N] [--dry-run] [--json]",
        options: walkOptions + VerifySupport.syncOptions + [WriterLocking.waitOption, MetricsFile.option, dryRunOption], discussion: walkDiscussion)

    static let dryRunOption = OptionSpec(name: "dry-run", value: nil, help: "Show what the sync would change and write nothing: the same as 'mirrorctl diff'.")

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        do {
            return try Walk.run(arguments, context: context, dryRun: arguments.flag("dry-run"))
        } catch let error as WriterLockError where error.isContention {
            throw error  // another sync's run, not ours: its metrics stand
        } catch {
            // A sync that could not run at all is a failed run to monitoring, not a silent one.
            if let path = try? MetricsFile.path(arguments) {
                var metrics = RunMetrics()
                metrics.record(RunSummary(unreportedAt: Date()))
                try? MetricsFile.write(metrics.text, to: path)
            }
            throw error
        }
    }
}

enum DiffCommand {
    static let spec = CommandSpec(
        name: "diff", abstract: "Walk the catalog and show what a sync would change, writing nothing.",
        usage: "diff [--db PATH] [--backstage-url URL] [--kind K]... [--page-size N] [--json] | diff --from RUN|TIME [--to RUN|TIME] [--json]",
        options: walkOptions + SnapshotDiffCommand.options, discussion: walkDiscussion)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        if SnapshotDiffCommand.isRequested(arguments) { return try SnapshotDiffCommand.run(arguments, context: context) }
        return try Walk.run(arguments, context: context, dryRun: true)
    }
}

/// The shared body of `sync` and `diff`.
enum Walk {
    static func run(_ arguments: ParsedArguments, context: CommandContext, dryRun: Bool) throws -> ExitStatus {
        let console = context.console
        let limits = try RunLimits.load(arguments)
        var configuration = try Configuration.load(arguments, environment: context.environment)
        let url = try configuration.requireBackstageURL()
        try URLCredentials.reject([("the Backstage URL", url), ("the Port URL", configuration.portBaseURL)])
        InsecureOption.apply(arguments, to: &configuration.transport, console: console)
        configuration.transport.deadline = limits.deadline
        let json = arguments.flag("json")
        let metricsFile = dryRun ? nil : try MetricsFile.path(arguments)
        // The mapping is compiled before anything is fetched: a jq error is a configuration error
        // (unless the database records this very program as compiled by this libjq).
        let mapping = try loadMapping(configuration.mappingPath, configuration: configuration,
                                      database: configuration.databasePath)
        try MappingBudget.start(arguments, environment: context.environment)
        let lock = dryRun ? nil : try WriterLocking.acquire(database: configuration.databasePath, command: "sync",
                                                            arguments: arguments, deadline: limits.deadline, console: console)
        defer { lock?.release() }
        let store = dryRun ? try openDiffStore(configuration.databasePath)
            : try openStore(configuration.databasePath, readOnly: false, createIfMissing: true)
        let token = configuration.backstageToken
        let pageSize = configuration.pageSize
        let requests = RequestCounts()
        var backstageTransport = configuration.transport
        backstageTransport.requestTally = requests.backstage
        let transport = backstageTransport
        // One retry allowance for Backstage for the whole run, shared by every walking thread.
        let retry = limits.bounding(RetryPolicy()).sharing(RetryBudget(server: "Backstage"))
        var description = url
        while description.hasSuffix("/") { description.removeLast() }
        let open = catalogSourceOpener(url: url, token: token, pageSize: pageSize, transport: transport, retry: retry)
        let source = SourceFactory(description: description, incremental: !isLocalCatalogURL(url)) {
            limits.bounding(try open())
        }
        var options = SyncOptions(kinds: configuration.kinds.isEmpty ? mapping.kinds : configuration.kinds)
        options.fullWalk = arguments.flag("full")
        if let hours = try arguments.double("full-every", range: 0...100_000) { options.fullWalkEvery = hours * 3600 }
        options.walkConcurrency = configuration.portConcurrency
        options.maxEntityBytes = configuration.maxEntityBytes
        options.dryRun = dryRun
        options.allowMassDelete = arguments.flag("allow-mass-delete")
        if let credentials = configuration.portCredentials {
            options.port = PortSettings(baseURL: configuration.portBaseURL, credentials: credentials,
                                        transport: configuration.portTransport, concurrency: configuration.portConcurrency)
        }
        if let retry = options.port?.retry { options.port?.retry = limits.bounding(retry) }
        options.port?.transport.requestTally = requests.port
        if !dryRun, options.port != nil { options.verify = try VerifySupport.isDue(arguments, store: store) }
        let progress = Progress(console: console)
        let engine = SyncEngine(store: store, source: source, mapping: mapping) { event in progress.handle(event) }
        let started = Date()
        let integration = dryRun ? nil : IntegrationReporting.reporter(configuration, console: console)
        integration?.started(at: started)
        var report: SyncReport
        do {
            report = try engine.run(options)
        } catch {
            integration?.finished(completed: false, counts: nil, at: Date())
            throw error
        }
        try limits.settle(&report, store: store)
        let verified = try VerifySupport.settle(report.verify, store: store)
        progress.finish()
        let elapsed = Date().timeIntervalSince(started)

        var object: [String: JSONValue] = [
            "status": .string(report.status.rawValue),
            "reasons": .array(report.reasons.map { .string($0.rawValue) }),
            "dryRun": .bool(dryRun),
            "source": counts(report.counts),
            "requests": requests.json,
            "mapping": mappingJSON(report.mapping),
        ]
        object["run"] = report.run.map { .number(Double($0)) } ?? .null
        object["seconds"] = .object(report.seconds.mapValues { .number(($0 * 1000).rounded() / 1000) })
        if let error = report.error { object["error"] = .string(error) }
        if !report.descriptorProblems.isEmpty {
            object["descriptorProblems"] = .array(report.descriptorProblems.map { problem in
                ["file": .string(problem.file), "line": .number(Double(problem.line)),
                 "entity": problem.entity.map(JSONValue.string) ?? .null, "message": .string(problem.message)]
            })
        }
        if dryRun {
            object["changes"] = .array(report.changes.map { change in
                FieldChangeOutput.entityJSON(ref: change.ref.description, change: change.change, fields: report.fieldChanges[change.ref] ?? [])
            })
            object["port"] = planJSON(report.port)
        } else {
            object["port"] = report.port.json
            if let verified { object["verify"] = verified.json }
        }
        if json {
            console.json(.object(object))
        } else {
            if dryRun { printPlan(report, console: console) }
            let c = report.counts
            let what = dryRun ? "diff" : "run \(report.run ?? 0)"
            let because = report.reasons.isEmpty ? "" : " (\(report.reasons.map(\.rawValue).joined(separator: ", ")))"
            console.print("\(what) \(report.status.rawValue)\(because) in \(String(format: "%.2f", elapsed))s: \(c.fetched) fetched, \(c.created) created, \(c.updated) updated, \(c.deleted) deleted, \(c.unchanged) unchanged")
            let p = report.port
            if dryRun {
                console.print("port plan: \(p.plan.upserts.filter(\.isCreate).count) to create, \(p.plan.upserts.filter { !$0.isCreate }.count) to update, \(p.plan.deletes.count) to delete")
            } else if p.skipped {
                console.print("port: skipped (no PORT_CLIENT_ID/PORT_CLIENT_SECRET); \(p.pending) entities pending")
            } else {
                console.print("port: \(p.upserted) upserted, \(p.deleted) deleted, \(p.failed) failed, \(p.unchanged) unchanged, \(p.pending) pending (\(p.requests) requests)")
            }
        }
        // What is said from here on is about this run: the log lines carry its id.
        var runConsole = console
        runConsole.logger.run = report.run
        let logger = runConsole.logger
        if let verified {
            if !json { console.print("verify: \(VerifySupport.summary(verified))") }
            VerifySupport.warn(verified, console: runConsole)
        }
        if !report.descriptorProblems.isEmpty {
            let count = report.descriptorProblems.count
            logger.error("error", "\(count) descriptor problem\(count == 1 ? "" : "s") (listed above): their entities keep their last mirrored version; no deletes this run")
        }
        let exit = ExitStatus(report.status)
        if !dryRun {
            let summary = RunSummary(report: .object(object), finishedAt: Date())
            if logger.settings.format == .json, context.environment[RunFinishedEvent.loggedByParent] != "1" {
                RunFinishedEvent.log(summary, exitStatus: exit.rawValue, seconds: elapsed, to: logger)
            }
            if let metricsFile {
                var metrics = RunMetrics()
                metrics.record(summary)
                do {
                    try MetricsFile.write(metrics.text, to: metricsFile)
                } catch {
                    logger.error("metrics.write.failed", "\(error)")
                }
            }
        }
        integration?.finished(completed: exit == .success, counts: IntegrationReporting.counts(report), at: Date())
        return exit
    }

    /// The `mapping` object of `sync --json` and `diff --json`: failed expressions per field.
    static func mappingJSON(_ summary: MappingSummary) -> JSONValue {
        ["errors": .number(Double(mappingErrors(summary))), "fields": .array(summary.failures.map(\.json))]
    }

    /// Mapping and selector evaluations failing now, for `mapping.errors` in `--json` and the metrics.
    static func mappingErrors(_ mapping: MappingSummary) -> Int {
        mapping.failures.reduce(0) { $0 + $1.count }
    }

    static func counts(_ counts: ChangeCounts) -> JSONValue {
        ["fetched": .number(Double(counts.fetched)), "created": .number(Double(counts.created)),
         "updated": .number(Double(counts.updated)), "deleted": .number(Double(counts.deleted)),
         "unchanged": .number(Double(counts.unchanged))]
    }

    static func planJSON(_ port: PortReport) -> JSONValue {
        var object: [String: JSONValue] = [
            "upserts": .array(port.plan.upserts.map { upsert in
                var item: [String: JSONValue] = ["blueprint": .string(upsert.key.blueprint), "identifier": .string(upsert.key.identifier),
                                                 "change": .string(upsert.isCreate ? "create" : "update")]
                item["fields"] = .array(upsert.fields.map(\.json))
                return .object(item)
            }),
            "deletes": .array(port.plan.deletes.map { ["blueprint": .string($0.blueprint), "identifier": .string($0.identifier)] }),
            "deletesSkipped": .bool(port.deletesSkipped),
        ]
        if let reason = port.deletesSkippedBecause { object["deletesSkippedReason"] = .string(reason) }
        return .object(object)
    }

    static func printPlan(_ report: SyncReport, console: Console) {
        if report.changes.isEmpty {
            console.print("Mirror: no changes.")
        } else {
            FieldChangeOutput.printEntities(report.changes.map { ($0.ref.description, $0.change, report.fieldChanges[$0.ref] ?? []) },
                                            console: console)
        }
        let plan = report.port.plan
        if plan.upserts.isEmpty && plan.deletes.isEmpty {
            console.print("Port: nothing to push.")
        } else {
            for upsert in plan.upserts {
                console.print("\(upsert.isCreate ? "create" : "update")  \(upsert.key.blueprint)  \(upsert.key.identifier)")
                for line in FieldChangeOutput.lines(upsert.fields, values: true) { console.print(line) }
            }
            for delete in plan.deletes { console.print("delete  \(delete.blueprint)  \(delete.identifier)") }
        }
    }
}

/// Loads the mapping file, Port's integration config (`port:ID`, needs `configuration`), or the
/// built-in mapping; a bad mapping is a configuration error. With `database`, a program that
/// database records as compiled (`compiled_mappings`) is not compiled up front.
func loadMapping(_ path: String?, configuration: Configuration? = nil, database: String? = nil) throws -> LoadedMapping {
    let compiledBefore: (String) -> Bool = { key in
        database.map { MirrorStore.hasCompiledMapping(key, databasePath: $0) } ?? false
    }
    if let path, PortMappingSource.isPortMapping(path), let configuration {
        return try PortMappingSource.load(path, configuration: configuration, compiledBefore: compiledBefore)
    }
    do {
        return try LoadedMapping.load(path: path, compiledBefore: compiledBefore)
    } catch {
        throw UsageError("\(error)")
    }
}
