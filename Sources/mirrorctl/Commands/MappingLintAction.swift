import Fetch
import Foundation
import Reconcile
import Store

/// `mapping lint`: the mapping over every mirrored entity.
enum MappingLintAction {
    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let configuration = try Configuration.load(arguments, environment: context.environment)
        let mapping = try loadMapping(configuration.mappingPath, configuration: configuration)
        let blueprints = try arguments.value("blueprints").map { try loadBlueprints($0, mapping: mapping, configuration: configuration) }
        let store = try openStore(configuration.databasePath, readOnly: true)
        let linter = MappingLinter(mapping: mapping, blueprints: blueprints)
        try store.eachEntity(atRun: nil, kind: nil) { ref, body in
            guard let entity = try? JQValue.parse(body.bytes) else { return }
            linter.add(entity, ref: ref)
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
