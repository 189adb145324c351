import Fetch
import Foundation
import Store

/// `mirrorctl.yaml`: settings as nested YAML, read once per command and validated as a whole
/// (unknown keys and wrong types are errors naming `file:line`). Values are looked up by dotted
/// key (`port.url`); `Configuration.load` decides precedence (flags > env > file > defaults).
struct ConfigFile {
    /// A value and where it was written (`path:line`).
    struct Value<T> {
        let value: T
        let origin: String
    }

    /// The type a key holds.
    enum KeyType {
        case string, secret, int, bool, strings, duration
        /// A file path: relative paths are relative to the config file's folder.
        case path
    }

    /// Every key the file may hold.
    static let keys: [String: KeyType] = [
        "backstage.url": .string, "backstage.token": .secret, "backstage.tokenFile": .path,
        "backstage.pageSize": .int,
        "port.url": .string, "port.clientId": .secret, "port.clientIdFile": .path,
        "port.clientSecret": .secret, "port.clientSecretFile": .path, "port.integrationId": .string,
        "db": .path, "mapping": .path, "kinds": .strings, "caBundle": .path, "concurrency": .int,
        "watch.interval": .duration, "watch.maxBackoff": .duration, "watch.grace": .duration,
        "watch.pruneKeepDays": .int, "watch.pruneEvery": .duration,
        "status.maxAge": .duration,
        "log.level": .string, "log.format": .string, "log.color": .bool,
    ].merging(TransportLimits.fileKeys) { first, _ in first }

    let path: String
    private let nodes: [String: YAMLNode]
    /// How it was found (`flag --config`, `env MIRROR_CONFIG`, the default), for `config show`.
    var source = "flag --config or env MIRROR_CONFIG"

    /// Reads and checks `path`.
    /// - Throws: `UsageError` naming the file, line and key.
    static func load(path: String) throws(UsageError) -> ConfigFile {
        let documents: [YAMLNode]
        do {
            documents = try YAML.loadDocuments(path: path)
        } catch {
            throw UsageError("config \(error)")
        }
        guard documents.count <= 1 else { throw UsageError("config \(path): expected one YAML document, found \(documents.count)") }
        var nodes: [String: YAMLNode] = [:]
        if let root = documents.first {
            if case .scalar(let text, _) = root.value, text.isEmpty || text == "~" || text == "null" {
                // An empty document: no settings.
            } else {
                try flatten(root, prefix: "", into: &nodes)
            }
        }
        let file = ConfigFile(path: path, nodes: nodes)
        for (key, node) in nodes {
            guard let type = keys[key] else {
                let known = keys.keys.sorted().joined(separator: ", ")
                throw UsageError("\(file.place(node)): unknown setting '\(key)' (known: \(known))")
            }
            try file.check(key, node, type)
        }
        return file
    }

    private static func flatten(_ node: YAMLNode, prefix: String, into nodes: inout [String: YAMLNode]) throws(UsageError) {
        guard case .mapping(let pairs) = node.value else {
            throw UsageError("\(node.file):\(node.line): expected a mapping of settings\(prefix.isEmpty ? "" : " under '\(prefix)'"), found a \(node.kindName)")
        }
        for pair in pairs {
            guard let name = pair.key.scalarText else {
                throw UsageError("\(pair.key.file):\(pair.key.line): a setting name must be a plain word")
            }
            let key = prefix.isEmpty ? name : "\(prefix).\(name)"
            guard nodes[key] == nil else { throw UsageError("\(pair.key.file):\(pair.key.line): '\(key)' is set twice") }
            // A section whose settings are all commented out (`port:` and nothing) is empty, not unknown.
            if keys[key] == nil, keys.keys.contains(where: { $0.hasPrefix(key + ".") }),
               case .scalar(let text, quoted: false) = pair.value.value, text.isEmpty || text == "~" || text == "null" {
                continue
            }
            if case .mapping = pair.value.value, keys[key] == nil {
                try flatten(pair.value, prefix: key, into: &nodes)
            } else {
                nodes[key] = pair.value
            }
        }
    }

    private func place(_ node: YAMLNode) -> String { "\(node.file):\(node.line)" }

    private func check(_ key: String, _ node: YAMLNode, _ type: KeyType) throws(UsageError) {
        switch type {
        case .string, .secret, .path:
            guard node.scalarText != nil else { throw UsageError("\(place(node)): '\(key)' must be a text value") }
        case .int:
            guard let text = node.scalarText, Int(text) != nil else { throw UsageError("\(place(node)): '\(key)' must be a whole number") }
        case .bool:
            guard let text = node.scalarText, ["true", "false"].contains(text.lowercased()) else {
                throw UsageError("\(place(node)): '\(key)' must be true or false")
            }
        case .strings:
            if node.scalarText != nil { return }
            guard case .sequence(let items) = node.value, items.allSatisfy({ $0.scalarText != nil }) else {
                throw UsageError("\(place(node)): '\(key)' must be a list of text values")
            }
        case .duration:
            guard let text = node.scalarText, DurationText.seconds(text) != nil else {
                throw UsageError("\(place(node)): '\(key)' must be a duration such as 30s, 5m, 1h or 1h30m")
            }
        }
    }

    /// Where `key` was set, when it was.
    func origin(_ key: String) -> String? { nodes[key].map(place) }

    /// A text value; a relative `.path` value is resolved against the config file's folder
    /// (`port:ID` mappings are left alone).
    func string(_ key: String) -> Value<String>? {
        guard let node = nodes[key], let text = node.scalarText else { return nil }
        if ConfigFile.keys[key] == .path, !text.isEmpty, !text.hasPrefix("/"), !text.hasPrefix("port:") {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            return Value(value: folder.appendingPathComponent(text).standardizedFileURL.path, origin: place(node))
        }
        return Value(value: text, origin: place(node))
    }

    func int(_ key: String) -> Value<Int>? {
        guard let text = string(key), let number = Int(text.value) else { return nil }
        return Value(value: number, origin: text.origin)
    }

    func bool(_ key: String) -> Bool? {
        string(key).map { $0.value.lowercased() == "true" }
    }

    /// A list, or a single value as a one-element list.
    func strings(_ key: String) -> Value<[String]>? {
        guard let node = nodes[key] else { return nil }
        if let text = node.scalarText { return Value(value: [text], origin: place(node)) }
        guard case .sequence(let items) = node.value else { return nil }
        return Value(value: items.compactMap(\.scalarText), origin: place(node))
    }

    /// A duration in seconds.
    func duration(_ key: String) -> Value<Double>? {
        guard let text = string(key), let seconds = DurationText.seconds(text.value) else { return nil }
        return Value(value: seconds, origin: text.origin)
    }
}

/// Durations as people write them: `500ms`, `30s`, `5m`, `1h30m`, `2d`; a bare number is seconds.
enum DurationText {
    static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let plain = Double(trimmed) { return plain >= 0 && plain.isFinite ? plain : nil }
        var total = 0.0
        var number = ""
        var unit = ""
        var sawPart = false
        func flush() -> Bool {
            guard let value = Double(number), value.isFinite else { return false }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86400
            default: return false
            }
            total += value * scale
            number = ""
            unit = ""
            sawPart = true
            return true
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, flush(), sawPart else { return nil }
        return total
    }

    /// `90` → `1m30s`, `0.25` → `250ms`.
    static func describe(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        var rest = Int(seconds.rounded())
        var parts: [String] = []
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            parts.append("\(rest / size)\(unit)")
            rest %= size
        }
        return parts.isEmpty ? "0s" : parts.joined()
    }
}
