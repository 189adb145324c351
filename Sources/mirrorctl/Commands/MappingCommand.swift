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
