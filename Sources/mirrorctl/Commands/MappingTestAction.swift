import Fetch
import Foundation
import Reconcile
import Store

/// `mapping test`: one entity from the mirror, or every entity of a descriptor file.
enum MappingTestAction {
    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let configuration = try Configuration.load(arguments, environment: context.environment)
        let (entities, problems, origin) = try loadEntities(arguments, configuration: configuration)
        let mapping = try loadMapping(configuration.mappingPath, configuration: configuration)
        let trials = entities.map { EntityTrial(entity: $0.entity, ref: $0.ref, mapping: mapping) }
        if arguments.flag("json") {
            if trials.count == 1, problems.isEmpty {
                context.console.json(json(trials[0], origin: origin, mapping: mapping))
            } else {
                context.console.json(["from": .string(origin), "mapping": .string(mapping.origin),
                                      "entities": .array(trials.map { json($0, origin: origin, mapping: mapping) }),
                                      "problems": .array(problems.map { .string($0.description) })])
            }
        } else {
            let texts = trials.map { text($0, origin: origin, mapping: mapping) }
            let listed = problems.map { "problem: \($0) (not mirrored)" }
            context.console.print((texts + (listed.isEmpty ? [] : [listed.joined(separator: "\n")])).joined(separator: "\n\n"))
        }
        return problems.isEmpty && !trials.isEmpty && trials.allSatisfy(\.producedEntity) ? .success : .failed
    }

    /// The entities to try, the descriptor problems met on the way, and where they came from.
    private static func loadEntities(_ arguments: ParsedArguments, configuration: Configuration) throws
        -> ([(entity: JSONValue, ref: EntityRef)], [DescriptorProblem], String)
    {
        if let path = arguments.value("file") {
            guard arguments.positionals.count == 1 else { throw UsageError("give either REF or --file, not both", spec: MappingCommand.spec) }
            guard FileManager.default.isReadableFile(atPath: path) else { throw UsageError("--file \(path): cannot read the file") }
            // The same processing as a sync of this file: placeholders, validation, relations.
            let read = LocalCatalog.process(file: path)
            var entities = read.entities.compactMap { entity in EntityRef(entity: entity).map { (entity: entity, ref: $0) } }
            if let wanted = arguments.value("ref") {
                let ref = try parseRef(wanted)
                entities = entities.filter { $0.ref == ref }
                guard !entities.isEmpty else {
                    throw UsageError("--file \(path): no entity \(ref) (found: \(read.entities.compactMap { EntityRef(entity: $0)?.description }.joined(separator: ", ")))")
                }
                return (entities, [], path)
            }
            guard !entities.isEmpty else {
                let why = read.problems.isEmpty ? "no entity in the file" : read.problems.map(\.description).joined(separator: "\n")
                throw UsageError("--file \(path): \(why)")
            }
            return (entities, read.problems, path)
        }
        guard arguments.positionals.count == 2 else {
            throw UsageError("'mapping test' needs an entity REF or --file ENTITY.json", spec: MappingCommand.spec)
        }
        let ref = try parseRef(arguments.positionals[1])
        let store = try openStore(configuration.databasePath, readOnly: true)
        guard let body = try store.currentBody(of: ref) else {
            throw EntityNotFound(message: "\(ref) is not in the mirror \(configuration.databasePath) (see 'mirrorctl runs'; or pass --file)")
        }
        guard let entity = try? CanonicalJSON.parse(body.bytes) else { throw EntityNotFound(message: "\(ref): the stored body is not JSON") }
        return ([(entity, ref)], [], "mirror \(configuration.databasePath)")
    }

    static func json(_ trial: EntityTrial, origin: String, mapping: LoadedMapping) -> JSONValue {
        ["ref": .string(trial.ref.description), "from": .string(origin), "mapping": .string(mapping.origin),
         "results": .array(trial.results.map { result in
             var object: [String: JSONValue] = [
                 "resource": .number(Double(result.resourceIndex)), "kind": .string(result.kind),
                 "outcome": .string(result.outcome.name),
                 "warnings": .array(result.warnings.map { warning in
                     ["field": .string(warning.field), "expression": .string(warning.expression), "message": .string(warning.message)]
                 } + result.nullFields.map { field in
                     ["field": .string(field.path), "expression": .string(field.expression.text), "message": "null"]
                 }),
                 "notes": .array(result.optionalNullFields.map { field in
                     ["field": .string(field.path), "expression": .string(field.expression.text), "message": "null (optional)"]
                 }),
                 "multipleOutputs": .array(result.multipleOutputs.map { item in
                     ["field": .string(item.field.path), "expression": .string(item.field.expression.text),
                      "outputs": .number(Double(item.outputs))]
                 }),
                 "identifierProblems": .array(result.identifierProblems.map(JSONValue.string)),
             ]
             switch result.outcome {
             case .entity(let entity): object["entity"] = entity.body
             case .dropped(let reason): object["reason"] = .string(reason.description)
             case .selectorError(let message): object["reason"] = .string(message)
             case .filtered: object["reason"] = "selector.query is false"
             }
             return .object(object)
         })]
    }

    static func text(_ trial: EntityTrial, origin: String, mapping: LoadedMapping) -> String {
        var lines = ["# \(trial.ref) from \(origin), mapping \(mapping.origin)"]
        if trial.results.isEmpty {
            lines.append("No resource of the mapping reads kind '\(trial.ref.kind)': nothing would be sent to Port.")
        }
        for result in trial.results {
            lines.append("")
            lines.append("resources[\(result.resourceIndex)] (kind \(result.kind)): \(result.outcome.name)")
            switch result.outcome {
            case .entity(let entity):
                lines.append(contentsOf: describe(entity.body).map { "  " + $0 })
            case .dropped(let reason):
                lines.append("  dropped: \(reason)")
            case .selectorError(let message):
                lines.append("  \(message)")
            case .filtered:
                lines.append("  selector.query is false: not sent (Ocean deletes it from Port if it was there)")
            }
            for warning in result.warnings {
                lines.append("  warning: \(warning.field): `\(warning.expression)`: \(warning.message) (sent as null)")
            }
            for field in result.nullFields {
                lines.append("  warning: \(field.path): `\(field.expression.text)` gave null (sent as null)")
            }
            for field in result.optionalNullFields {
                lines.append("  note: \(field.path): `\(field.expression.text)` gave null (optional)")
            }
            for item in result.multipleOutputs {
                lines.append("  warning: \(item.field.path): `\(item.field.expression.text)` yields \(item.outputs) outputs; only the first is kept (wrap it in [...])")
            }
            for problem in result.identifierProblems {
                lines.append("  warning: Port would refuse: \(problem)")
            }
        }
        // Each element is one line; entity text and jq messages in it are escaped (`TerminalText`).
        return lines.map(TerminalText.escape).joined(separator: "\n")
    }

    /// The mapped body as `key: value` lines, properties and relations indented.
    private static func describe(_ body: JSONValue) -> [String] {
        var lines: [String] = []
        for key in ["identifier", "title", "blueprint", "icon", "team"] {
            if let value = body[key] { lines.append("\(key): \(CanonicalJSON.string(value))") }
        }
        for group in ["properties", "relations"] {
            guard let members = body[group]?.objectValue else { continue }
            lines.append("\(group):")
            for name in members.keys.sorted() {
                lines.append("  \(name): \(CanonicalJSON.string(members[name] ?? .null))")
            }
        }
        return lines
    }
}

/// The entity asked for is not in the mirror: exit 1 with a clear message.
struct EntityNotFound: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
