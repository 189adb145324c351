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
                    "run": .number(Double(run.id)), "command": .string(run.command), "status": .string(run.status),
                    "startedAt": .string(run.startedAt), "source": .string(run.source),
                    "kinds": .array(run.kinds.map(JSONValue.string)), "counts": Walk.counts(run.counts),
                ]
                object["finishedAt"] = run.finishedAt.map(JSONValue.string) ?? .null
                object["error"] = run.error.map(JSONValue.string) ?? .null
                return .object(object)
            }))
        } else if runs.isEmpty {
            context.console.print("No runs yet.")
        } else {
            context.console.print(table(
                ["RUN", "STARTED", "STATUS", "FETCHED", "CREATED", "UPDATED", "DELETED", "ERROR"],
                runs.map { run in
                    [String(run.id), run.startedAt, run.status, String(run.counts.fetched), String(run.counts.created),
                     String(run.counts.updated), String(run.counts.deleted), run.error ?? ""]
                }))
        }
        return .success
    }
}

enum HistoryCommand {
    static let spec = CommandSpec(
        name: "history", abstract: "Show every recorded change of one entity.",
        usage: "history REF [--db PATH] [--json]",
        options: [Configuration.databaseOption, OptionSpec(name: "json", value: nil, help: "Print a JSON array.")],
        positionals: 1...1, discussion: "REF is an entity ref such as component:default/artist-web (kind required).")

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let ref = try parseRef(arguments.positionals[0])
        let store = try openStore(Configuration.databasePath(arguments, environment: context.environment), readOnly: true)
        let entries = try store.history(ref: ref)
        if arguments.flag("json") {
            context.console.json(.array(entries.map { entry in
                ["run": .number(Double(entry.run)), "change": .string(entry.change.rawValue),
                 "hash": entry.newHash.map { .string($0.hex) } ?? .null, "at": .string(entry.at)]
            }))
        } else if entries.isEmpty {
            context.console.print("No history for \(ref).")
        } else {
            context.console.print(table(["RUN", "AT", "CHANGE", "HASH"], entries.map {
                [String($0.run), $0.at, $0.change.rawValue, $0.newHash?.short ?? "-"]
            }))
        }
        return .success
    }
}

enum ShowCommand {
    static let spec = CommandSpec(
        name: "show", abstract: "Print an entity as mirrored now, or as it was after run RUN.",
        usage: "show REF [--at RUN] [--db PATH] [--json]",
        options: [Configuration.databaseOption,
                  OptionSpec(name: "at", value: "RUN", help: "Show the version current after this run."),
                  OptionSpec(name: "json", value: nil, help: "Print {ref, run, hash, entity} as JSON.")],
        positionals: 1...1)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let ref = try parseRef(arguments.positionals[0])
        let at = try arguments.int("at", range: 1...Int(Int32.max))
        let store = try openStore(Configuration.databasePath(arguments, environment: context.environment), readOnly: true)
        if let at, let floor = try Retention(store: store).historyFloor(), at < floor {
            context.console.error("run \(at) was pruned: history is kept from run \(floor) on (mirrorctl prune)")
            return .failed
        }
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
                .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys]) }
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
