import Fetch
import Foundation
import Reconcile
import Store

/// `mirrorctl mapping test|lint`: try a mapping on one entity, or check it against the whole mirror.
enum MappingCommand {
    static let spec = CommandSpec(
        name: "mapping", abstract: "Try the mapping on one entity (test) or lint it against the whole mirror (lint).",
        usage: "mapping test REF | mapping test --file DESCRIPTOR [--ref REF] | mapping lint [--blueprints FILE|builtin|port] [--mapping F] [--db PATH] [--json]",
        options: [Configuration.databaseOption,
                  OptionSpec(name: "mapping", value: "FILE", help: "Port app config YAML, or port:INTEGRATION_ID (env MIRROR_MAPPING; default built-in)."),
                  OptionSpec(name: "file", value: "FILE", help: "test: a descriptor file (YAML or JSON, any number of documents) instead of the mirror: processed as a sync would, every entity tried."),
                  OptionSpec(name: "ref", value: "REF", help: "test --file: try only this entity of the file."),
                  OptionSpec(name: "blueprints", value: "SOURCE", help: "lint: check values against blueprint schemas from a JSON file, 'builtin' or 'port'."),
                  OptionSpec(name: "port-url", value: "URL", help: "Port API base URL (env PORT_BASE_URL), for port: mappings and --blueprints port."),
                  OptionSpec(name: "json", value: nil, help: "Print one JSON object.")],
        positionals: 1...2,
        discussion: """
            test: shows each matching resource's result (identifier, title, blueprint, properties,
            relations), every field that fell back to null, and expressions yielding several outputs
            (Ocean keeps the first). --file runs the processing of a file: sync (placeholders,
            validation, relations) and tries every entity of the file (or --ref one); documents a
            sync would reject are listed as problems. Exit 0 when every entity tried produced a
            Port entity and nothing was rejected, 1 otherwise.
            lint: reports many-output expressions, schema mismatches (with --blueprints), relation
            targets the mapping does not produce, identifiers Port would refuse, always-null
            expressions, dropped entities and selector errors. Exit 0 when clean, 1 with findings.
            """,
        actions: ["test", "lint"])

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let action = arguments.positionals[0]
        switch action {
        case "test": return try MappingTestAction.run(arguments, context: context)
        case "lint":
            guard arguments.positionals.count == 1 else { throw UsageError("'mapping lint' takes no argument", spec: spec) }
            return try MappingLintAction.run(arguments, context: context)
        default:
            throw UsageError("unknown mapping action '\(action)' (expected: test or lint)", spec: spec)
        }
    }
}

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
        guard let entity = try? CanonicalJSON.parse(body) else { throw EntityNotFound(message: "\(ref): the stored body is not JSON") }
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

/// `mapping lint`: the mapping over every mirrored entity.
enum MappingLintAction {
    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let configuration = try Configuration.load(arguments, environment: context.environment)
        let mapping = try loadMapping(configuration.mappingPath, configuration: configuration)
        let blueprints = try arguments.value("blueprints").map { try loadBlueprints($0, mapping: mapping, configuration: configuration) }
        let store = try openStore(configuration.databasePath, readOnly: true)
        let linter = MappingLinter(mapping: mapping, blueprints: blueprints)
        var after = ""
        while true {
            let rows = try store.db.rows("""
                SELECT e.ref, b.body FROM entities e JOIN blobs b ON b.hash = e.hash
                WHERE e.ref > ? ORDER BY e.ref LIMIT 2000
                """, [.text(after)])
            guard let last = rows.last?.string(0) else { break }
            for row in rows {
                guard let text = row.string(0), let ref = EntityRef(parsing: text), let body = row.string(1),
                      let entity = try? JQValue.parse(body) else { continue }
                linter.add(entity, ref: ref)
            }
            after = last
        }
        let report = linter.finish()
        if arguments.flag("json") {
            context.console.json(json(report, mapping: mapping))
        } else {
            context.console.print(text(report, mapping: mapping))
        }
        return report.findings.isEmpty ? .success : .failed
    }

    /// Blueprint schemas from a JSON file (an array, as for `blueprints apply --file`), the
    /// built-in seven, or Port (the blueprints the mapping names).
    static func loadBlueprints(_ source: String, mapping: LoadedMapping, configuration: Configuration) throws -> [String: BlueprintSchema] {
        let definitions: [JSONValue]
        switch source {
        case "builtin":
            definitions = BuiltinBlueprints.all
        case "port":
            guard let credentials = configuration.portCredentials else {
                throw UsageError("--blueprints port needs PORT_CLIENT_ID and PORT_CLIENT_SECRET")
            }
            let client = try PortClient(baseURL: configuration.portBaseURL,
                                        auth: PortAuth(baseURL: configuration.portBaseURL, credentials: credentials),
                                        transport: configuration.portTransport)
            let names = Set(mapping.config.resources.compactMap { resource -> String? in
                let text = resource.mappings.blueprint.text.trimmingCharacters(in: .whitespaces)
                guard let parsed = try? CanonicalJSON.parse(OceanQuotes.rewrite(text)) else { return nil }
                return parsed.stringValue
            })
            definitions = try names.sorted().compactMap { try client.blueprint($0) }
        default:
            do {
                definitions = try BlueprintInstaller.load(path: source)
            } catch {
                throw UsageError("--blueprints \(source): \(error)")
            }
        }
        var schemas: [String: BlueprintSchema] = [:]
        for definition in definitions {
            if let schema = BlueprintSchema(json: definition) { schemas[schema.identifier] = schema }
        }
        return schemas
    }

    static func json(_ report: LintReport, mapping: LoadedMapping) -> JSONValue {
        ["mapping": .string(mapping.origin), "entities": .number(Double(report.entities)),
         "checkedSchemas": .bool(report.checkedSchemas),
         "resources": .array(report.resources.enumerated().map { index, counts in
             ["resource": .number(Double(index)), "kind": .string(counts.kind), "entities": .number(Double(counts.entities)),
              "mapped": .number(Double(counts.mapped)), "filtered": .number(Double(counts.filtered)),
              "dropped": .number(Double(counts.dropped)), "selectorErrors": .number(Double(counts.selectorErrors))]
         }),
         "notes": .array(report.notes.map { note in
             ["rule": .string(note.rule.rawValue), "resource": .number(Double(note.resourceIndex)), "kind": .string(note.kind),
              "field": note.field.map(JSONValue.string) ?? .null, "message": .string(note.message)]
         }),
         "findings": .array(report.findings.map { finding in
             ["rule": .string(finding.rule.rawValue), "resource": .number(Double(finding.resourceIndex)),
              "kind": .string(finding.kind), "field": finding.field.map(JSONValue.string) ?? .null,
              "expression": finding.expression.map(JSONValue.string) ?? .null,
              "location": finding.location.map { .string($0.description) } ?? .null,
              "count": .number(Double(finding.count)), "examples": .array(finding.examples.map(JSONValue.string)),
              "message": .string(finding.message), "suggestion": finding.suggestion.map(JSONValue.string) ?? .null]
         })]
    }

    static func text(_ report: LintReport, mapping: LoadedMapping) -> String {
        var lines: [String] = []
        for finding in report.findings {
            let place = finding.location.map { "\($0): " } ?? ""
            let field = finding.field.map { " \($0)" } ?? ""
            lines.append("\(place)resources[\(finding.resourceIndex)] (\(finding.kind))\(field): \(finding.rule.rawValue): \(finding.message)")
            if let expression = finding.expression, finding.rule != .dropped { lines.append("    expression: \(expression)") }
            if !finding.examples.isEmpty { lines.append("    e.g. \(finding.examples.joined(separator: "; "))") }
            if let suggestion = finding.suggestion { lines.append("    fix: \(suggestion)") }
        }
        for note in report.notes {
            lines.append("note: resources[\(note.resourceIndex)] (\(note.kind)) \(note.field ?? ""): \(note.message), as written (optional)")
        }
        let resources = report.resources.enumerated().map { index, counts in
            "resources[\(index)] \(counts.kind): \(counts.mapped) mapped, \(counts.filtered) filtered, \(counts.dropped) dropped"
        }
        lines.append(contentsOf: resources)
        let schemas = report.checkedSchemas ? "" : " (blueprint schemas not checked: pass --blueprints)"
        lines.append("\(mapping.origin): \(report.findings.count) finding\(report.findings.count == 1 ? "" : "s") over \(report.entities) entities\(schemas)")
        // Each element is one line; entity text and jq messages in it are escaped (`TerminalText`).
        return lines.map(TerminalText.escape).joined(separator: "\n")
    }
}
