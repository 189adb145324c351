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
    OptionSpec(name: "json", value: nil, help: "Print one JSON object on stdout."),
]

let walkDiscussion = """
    Environment: BACKSTAGE_URL, BACKSTAGE_TOKEN (or BACKSTAGE_TOKEN_FILE), MIRROR_DB, MIRROR_MAPPING.
    Exit status: 0 succeeded, 3 partial (some kind did not complete: no deletes for it),
    1 failed, 2 usage or configuration error, 4 database unusable.
    """

enum SyncCommand {
    static let spec = CommandSpec(
        name: "sync", abstract: "Walk the catalog, record what changed in the mirror database.",
        usage: "sync [--db PATH] [--backstage-url URL] [--kind K]... [--page-size N] [--json]",
        options: walkOptions, discussion: walkDiscussion)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        try Walk.run(arguments, context: context, dryRun: false)
    }
}

enum DiffCommand {
    static let spec = CommandSpec(
        name: "diff", abstract: "Walk the catalog and show what a sync would change, writing nothing.",
        usage: "diff [--db PATH] [--backstage-url URL] [--kind K]... [--page-size N] [--json]",
        options: walkOptions, discussion: walkDiscussion)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        try Walk.run(arguments, context: context, dryRun: true)
    }
}

/// The shared body of `sync` and `diff`.
enum Walk {
    static func run(_ arguments: ParsedArguments, context: CommandContext, dryRun: Bool) throws -> ExitStatus {
        let console = context.console
        let configuration = try Configuration.load(arguments, environment: context.environment)
        let url = try configuration.requireBackstageURL()
        let json = arguments.flag("json")
        let store = try openStore(configuration.databasePath, readOnly: dryRun)
        let source = try openCatalogSource(url: url, token: configuration.backstageToken,
                                           pageSize: configuration.pageSize, transport: configuration.transport,
                                           retry: RetryPolicy())
        let progress = Progress(console: console)
        let sync = MirrorSync(store: store, source: source) { event in progress.handle(event) }
        let started = Date()
        let report = try sync.run(kinds: configuration.kinds, dryRun: dryRun, collectChanges: dryRun)
        progress.finish()
        let elapsed = Date().timeIntervalSince(started)

        if json {
            var object: [String: JSONValue] = [
                "status": .string(report.status.rawValue),
                "dryRun": .bool(dryRun),
                "source": counts(report.counts),
            ]
            object["run"] = report.run.map { .number(Double($0)) } ?? .null
            if let error = report.error { object["error"] = .string(error) }
            if dryRun {
                object["changes"] = .array(report.changes.map { change in
                    ["ref": .string(change.ref), "change": .string(change.change.rawValue)]
                })
            }
            console.json(.object(object))
        } else {
            if dryRun {
                if report.changes.isEmpty {
                    console.print("No changes.")
                } else {
                    console.print(table(["CHANGE", "REF"], report.changes.map { [$0.change.rawValue, $0.ref] }))
                }
            }
            let c = report.counts
            let what = dryRun ? "diff" : "run \(report.run ?? 0)"
            console.print("\(what) \(report.status.rawValue) in \(String(format: "%.2f", elapsed))s: \(c.fetched) fetched, \(c.created) created, \(c.updated) updated, \(c.deleted) deleted, \(c.unchanged) unchanged")
        }
        for outcome in report.kinds where !outcome.complete {
            console.error("kind \(outcome.kind) incomplete, no deletes for it: \(outcome.error ?? "unknown error")")
        }
        switch report.status {
        case .succeeded: return .success
        case .partial: return .partial
        case .failed: return .failed
        }
    }

    static func counts(_ counts: ChangeCounts) -> JSONValue {
        ["fetched": .number(Double(counts.fetched)), "created": .number(Double(counts.created)),
         "updated": .number(Double(counts.updated)), "deleted": .number(Double(counts.deleted)),
         "unchanged": .number(Double(counts.unchanged))]
    }
}

/// Progress on stderr while walking, only when stderr is a terminal.
final class Progress {
    private let console: Console
    private var active = false

    init(console: Console) {
        self.console = console
    }

    func handle(_ event: SyncEvent) {
        switch event {
        case .page(let kind, let number, _, let total) where console.stderrIsTerminal:
            console.err("\r\u{1B}[K\(kind): page \(number), \(total) entities")
            active = true
        case .warning(let message):
            finish()
            console.error("warning: \(message)")
        default:
            break
        }
    }

    func finish() {
        if active { console.err("\r\u{1B}[K") }
        active = false
    }
}
