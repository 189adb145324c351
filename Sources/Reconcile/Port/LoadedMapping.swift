import Fetch
import Store

/// The mapping a run uses: parsed, compiled (every jq expression checked before anything is
/// fetched), and hashed so a changed mapping re-maps the whole mirror.
public struct LoadedMapping {
    public let config: PortAppConfig
    public let compiled: CompiledMapping
    /// SHA-256 of the mapping text.
    public let hash: String
    /// Where it came from: a file path or "built-in".
    public let origin: String

    /// Loads a mapping file, or the built-in mapping when `path` is nil.
    /// - Parameter compiledBefore: see `CompiledMapping.init`.
    public static func load(path: String?, compiledBefore: (String) -> Bool = { _ in false }) throws -> LoadedMapping {
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MappingLoadError(message: "mapping \(path): cannot read the file")
            }
            let text = String(decoding: data, as: UTF8.self)
            return try make(text: text, file: path, compiledBefore: compiledBefore)
        }
        return try make(text: BuiltinMapping.yaml, file: "built-in mapping", compiledBefore: compiledBefore)
    }

    public static func make(text: String, file: String, compiledBefore: (String) -> Bool = { _ in false }) throws -> LoadedMapping {
        let config = try PortAppConfig.parse(yaml: text, file: file)
        let compiled = try CompiledMapping(config, compiledBefore: compiledBefore)
        return LoadedMapping(config: config, compiled: compiled, hash: ContentHash(of: Array(text.utf8)).hex, origin: file)
    }

    /// The mapping's kinds in order, each once (Backstage matches kinds case-insensitively).
    public var kinds: [String] {
        var seen = Set<String>()
        return config.resources.map(\.kind).filter { seen.insert($0.lowercased()).inserted }
    }
}

public struct MappingLoadError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

import Foundation
