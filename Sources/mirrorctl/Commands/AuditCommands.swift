import Foundation
import Store

enum RunsCommand {
    static let spec = CommandSpec(
        name: "runs", abstract: "List recent runs, newest first.",
        usage: "runs [--db PATH] [--limit N] [--json]",
        options: [Configuration.databaseOption,
                  OptionSpec(name: "limit", value: "N", help: "How many runs (default 20)."),
                  OptionSpec(name: "json", value: nil, help: "Print a JSON array.")])

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let store = try openStore(Configuration.databasePath(arguments, environment: context.environment), readOnly: true)
        let runs = try store.runs(limit: try arguments.int("limit", range: 1...1_000_000) ?? 20)
        if arguments.flag("json") {
            context.console.json(.array(runs.map { run in
                var object: [String: JSONValue] = [
                    "run": .number(Double(run.id)), "command": .string(run.command), "status": .string(run.status.description),
                    "startedAt": .string(run.startedAt), "source": .string(run.source),
                    "kinds": .array(run.kinds.map(JSONValue.string)), "counts": Walk.counts(run.counts),
                ]
                object["finishedAt"] = run.finishedAt.map(JSONValue.string) ?? .null
                object["error"] = run.error.map(JSONValue.string) ?? .null
                object["reasons"] = .array(run.reasons.map { .string($0.rawValue) })
                return .object(object)
            }))
        } else if runs.isEmpty {
            context.console.print("No runs yet.")
        } else {
            context.console.print(table(
                ["RUN", "STARTED", "STATUS", "FETCHED", "CREATED", "UPDATED", "DELETED", "REASON"],
                runs.map { run in
                    [String(run.id), run.startedAt, run.status.description, String(run.counts.fetched), String(run.counts.created),
                     String(run.counts.updated), String(run.counts.deleted), reason(run)]
                }))
        }
        return .success
    }

    /// One short reason (`runs --json`, `status` and `v_run_reasons` have them all); a run
    /// without reasons (a `verify` run, or one from before reasons were kept) shows its error.
    static func reason(_ run: RunRecord) -> String {
        if run.reasons.isEmpty { return OneLine.cut(run.error ?? "", limit: 100) }
        return RunOutcome(status: run.status.ended ?? .failed, reasons: run.reasons).short
    }
}

enum HistoryCommand {
    static let spec = CommandSpec(
        name: "history", abstract: "Show every recorded change of one entity, field by field.",
        usage: "history REF [--patch] [--db PATH] [--json]",
        options: [Configuration.databaseOption,
                  OptionSpec(name: "patch", value: nil, help: "Show each changed field's old and new value."),
                  OptionSpec(name: "json", value: nil, help: "Print a JSON array, every field with its old and new value.")],
        positionals: 1...1, discussion: """
            REF is an entity ref such as component:default/artist-web (kind required).
            Exit status: 0 shown; 1 the mirror never held REF; 4 the database can't be read.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let ref = try parseRef(arguments.positionals[0])
        let store = try openStore(Configuration.databasePath(arguments, environment: context.environment), readOnly: true)
        let versions = try store.versions(of: ref)
        guard !versions.isEmpty else {
            context.console.error("\(ref) is not in the mirror and never was (see 'mirrorctl export' for what it holds)")
            return .failed
        }
        let fields = versions.map { version -> [FieldChange]? in
            guard !version.previousPruned else { return nil }
            return FieldChanges.between(parse(version.oldBody), parse(version.newBody))
        }
        if arguments.flag("json") {
            context.console.json(.array(zip(versions, fields).map { version, fields in
                let entry = version.entry
                return ["run": .number(Double(entry.run)), "change": .string(entry.change.rawValue),
                        "hash": entry.newHash.map { .string($0.hex) } ?? .null, "at": .string(entry.at),
                        "fields": fields.map { .array($0.map(\.json)) } ?? .null]
            }))
            return .success
        }
        let patch = arguments.flag("patch")
        for (version, fields) in zip(versions, fields) {
            let entry = version.entry
            context.console.print("run \(entry.run)  \(entry.at)  \(entry.change.rawValue)  \(entry.newHash?.short ?? "-")")
            guard let fields else {
                context.console.print("    (the version before was pruned: changed fields unknown)")
                continue
            }
            if entry.change == .updated || patch {
                for line in FieldChangeOutput.lines(fields, values: patch) { context.console.print(line) }
            } else {
                context.console.print("    (\(fields.count) field\(fields.count == 1 ? "" : "s")\(entry.change == .created ? " set" : " removed"); --patch lists them)")
            }
        }
        return .success
    }

    private static func parse(_ body: String?) -> JSONValue? {
        body.map { (try? CanonicalJSON.parse($0)) ?? .null }
    }
}

enum ShowCommand {
    static let spec = CommandSpec(
        name: "show", abstract: "Print an entity as mirrored now, or as it was after a run or at a time.",
        usage: "show REF [--at RUN|TIME] [--db PATH] [--json]",
        options: [Configuration.databaseOption,
                  SnapshotPointOption.at("The version current"),
                  OptionSpec(name: "json", value: nil, help: "Print {ref, run, hash, entity} as JSON.")],
        positionals: 1...1, discussion: """
            Exit status: 0 shown; 1 REF did not exist then (or that history was pruned);
            2 no such run, or a time before the first run; 4 the database can't be read.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let ref = try parseRef(arguments.positionals[0])
        let store = try openStore(Configuration.databasePath(arguments, environment: context.environment), readOnly: true)
        let at = try SnapshotPointOption.run(arguments, "at", store: store)
        guard let version = try store.version(of: ref, atRun: at) else {
            context.console.error(at.map { "\(ref) did not exist after run \($0)" } ?? "\(ref) is not in the mirror")
            return .failed
        }
        if arguments.flag("json") {
            let entity = (try? CanonicalJSON.parse(version.body)) ?? .null
            context.console.json(["ref": .string(ref.description), "run": .number(Double(version.run)),
                                  "hash": .string(version.hash.hex), "entity": entity])
        } else {
            let pretty = (try? JSONSerialization.jsonObject(with: Data(version.body.utf8)))
                .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) }
                .map { String(decoding: $0, as: UTF8.self) } ?? version.body
            context.console.print("# \(ref) as of run \(version.run) (hash \(version.hash.short))")
            context.console.print(pretty)
        }
        return .success
    }
}

/// Parses a full entity ref given on the command line.
func parseRef(_ text: String) throws(UsageError) -> EntityRef {
    guard let ref = EntityRef(parsing: text) else {
        throw UsageError("'\(text)' is not an entity ref: expected kind:namespace/name or kind:name")
    }
    return ref
}

/// Opens the mirror database. A missing file is a clear error for readers; `diff` against a
/// missing file works on a private in-memory database, so it creates nothing.
func openStore(_ path: String, readOnly: Bool, createIfMissing: Bool = false) throws -> MirrorStore {
    if !FileManager.default.fileExists(atPath: path) {
        if !readOnly && !createIfMissing { return try MirrorStore(path: ":memory:") }
        if readOnly { throw StoreError(path: path, message: "no such database (run 'mirrorctl sync' first)") }
    }
    return try MirrorStore(path: path, readOnly: readOnly)
}
