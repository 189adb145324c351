import Foundation
import Store

/// `mirrorctl diff --from RUN|TIME [--to RUN|TIME]`: what differs between two states of the
/// mirror, entity by entity and field by field, read from the database alone (no Backstage, no
/// Port, no lock). The same shapes as a live `diff`.
enum SnapshotDiffCommand {
    static let options: [OptionSpec] = [
        OptionSpec(name: "from", value: SnapshotPointOption.valueName,
                   help: "Compare the mirror as it was after this run or at this time (RFC 3339, or back from now: 24h, 7d), offline…"),
        OptionSpec(name: "to", value: SnapshotPointOption.valueName, help: "…with this run or time (default: the latest run)."),
    ]

    /// Whether `arguments` ask for an offline comparison rather than a walk.
    static func isRequested(_ arguments: ParsedArguments) -> Bool {
        arguments.value("from") != nil || arguments.value("to") != nil
    }

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        guard arguments.value("from") != nil else { throw UsageError("--to needs --from (the earlier state)") }
        let store = try openStore(Configuration.databasePath(arguments, environment: context.environment), readOnly: true)
        let now = Date()
        guard let from = try SnapshotPointOption.run(arguments, "from", store: store, now: now) else { return .usage }
        let to = try SnapshotPointOption.run(arguments, "to", store: store, now: now) ?? (try store.runRange()?.last.run ?? from)
        let entities = try store.compare(fromRun: from, toRun: to).map { change in
            (ref: change.ref, change: change.change,
             fields: FieldChanges.between(change.oldBody.map(parse), change.newBody.map(parse)))
        }
        var counts = ChangeCounts()
        for entity in entities { counts.add(entity.change) }
        if arguments.flag("json") {
            context.console.json(["from": .number(Double(from)), "to": .number(Double(to)),
                                  "source": ["created": .number(Double(counts.created)), "updated": .number(Double(counts.updated)),
                                             "deleted": .number(Double(counts.deleted))],
                                  "changes": .array(entities.map { FieldChangeOutput.entityJSON(ref: $0.ref, change: $0.change, fields: $0.fields) })])
        } else {
            FieldChangeOutput.printEntities(entities, console: context.console)
            context.console.print("run \(from) → run \(to): \(counts.created) created, \(counts.updated) updated, \(counts.deleted) deleted")
        }
        return .success
    }

    private static func parse(_ body: String) -> JSONValue {
        (try? CanonicalJSON.parse(body)) ?? .null
    }
}
