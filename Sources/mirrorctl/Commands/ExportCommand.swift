import Foundation
import Store

/// `mirrorctl export`: the whole mirror, now or as it was after a run or at a time, as JSON Lines
/// of canonical entities (the stored bodies, byte for byte), for diffing, backups and audits.
enum ExportCommand {
    static let spec = CommandSpec(
        name: "export", abstract: "Write every mirrored entity, now or at a past run or time, as JSON Lines.",
        usage: "export [--at RUN|TIME] [--kind K] [--out FILE] [--db PATH]",
        options: [Configuration.databaseOption,
                  SnapshotPointOption.at("The mirror"),
                  OptionSpec(name: "kind", value: "K", help: "Only entities of this kind."),
                  OptionSpec(name: "out", value: "FILE", help: "Write to FILE instead of stdout.")],
        discussion: """
            One entity per line, in ref order: its canonical JSON (sorted keys, metadata.etag removed),
            as stored under its content hash.
            Exit status: 0 written; 2 no such run, or a time before the first run; 4 the database can't be read.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        let store = try openStore(Configuration.databasePath(arguments, environment: context.environment), readOnly: true)
        let at = try SnapshotPointOption.run(arguments, "at", store: store)
        let output: FileHandle
        if let path = arguments.value("out") {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw UsageError("--out \(path): cannot create the file")
            }
            output = handle
        } else {
            output = FileHandle.standardOutput
        }
        var buffer = Data()
        var count = 0
        try store.eachEntity(atRun: at, kind: arguments.value("kind")) { _, body in
            buffer.append(contentsOf: body.bytes)
            buffer.append(UInt8(ascii: "\n"))
            count += 1
            if buffer.count >= 1 << 20 {
                try output.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try output.write(contentsOf: buffer)
        if let path = arguments.value("out") {
            try output.close()
            context.console.logger.info("export.written", "\(count) entities\(at.map { " as of run \($0)" } ?? "") written to \(path)")
        }
        return .success
    }
}
