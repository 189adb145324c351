import Foundation
import Store

/// Backstage's placeholder substitution (`$text`, `$json`, `$yaml`) for descriptors read from
/// files, resolved as Backstage resolves them for a repository registered by URL: relative to the
/// descriptor's folder, `/x` from the source root. Only files inside the source root are read;
/// absolute URLs are refused (a `file:` source fetches nothing from the network).
///
/// An object is replaced only when its sole key is one of the three; an object with a `$` key and
/// other keys is left as written, children included; other `$` keys (a JSON Schema `$ref`) are
/// left alone; substituted values are not scanned again.
struct Placeholders {
    /// The folder placeholders may read from, absolute with symlinks resolved.
    let root: String

    /// A resolver confined to `root`.
    init(root: String) {
        self.root = URL(fileURLWithPath: root).resolvingSymlinksInPath().standardizedFileURL.path
    }

    /// `value` with every placeholder substituted; `file` is the descriptor it came from.
    /// - Throws: a message naming the placeholder and why it could not be substituted.
    func substitute(_ value: JSONValue, file: String) throws(PlaceholderFailure) -> JSONValue {
        switch value {
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try substitute(item, file: file)) }
            return .array(out)
        case .object(let members):
            if members.count == 1, let (key, parameter) = members.first, ["$text", "$json", "$yaml"].contains(key) {
                return try resolve(String(key.dropFirst()), parameter, file: file)
            }
            if members.keys.contains(where: { $0.hasPrefix("$") }) { return value }
            var out: [String: JSONValue] = [:]
            out.reserveCapacity(members.count)
            for (key, member) in members { out[key] = try substitute(member, file: file) }
            return .object(out)
        default:
            return value
        }
    }

    private func resolve(_ name: String, _ parameter: JSONValue, file: String) throws(PlaceholderFailure) -> JSONValue {
        guard let reference = parameter.stringValue else {
            throw PlaceholderFailure("Placeholder $\(name) expected a string value parameter, in the form of a relative path")
        }
        func failure(_ why: String) -> PlaceholderFailure { PlaceholderFailure("Placeholder $\(name) \(reference): \(why)") }
        if reference.contains("://") || reference.lowercased().hasPrefix("data:") {
            throw failure("absolute URLs are not fetched by a file: source; use a path inside \(root)")
        }
        let base = reference.hasPrefix("/") ? root : URL(fileURLWithPath: file).deletingLastPathComponent().path
        let relative = reference.hasPrefix("/") ? String(reference.drop { $0 == "/" }) : reference
        let path = URL(fileURLWithPath: relative, relativeTo: URL(fileURLWithPath: base, isDirectory: true))
            .standardizedFileURL.resolvingSymlinksInPath().path
        guard path == root || path.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw failure("refused: \(path) is outside the source root \(root)")
        }
        let bytes: [UInt8]
        do {
            bytes = DescriptorText.decode(try YAML.readFile(path))
        } catch {
            throw failure("could not read \(path): \(error.message)")
        }
        switch name {
        case "text":
            return .string(String(decoding: bytes, as: UTF8.self))
        case "json":
            guard let parsed = try? CanonicalJSON.parse(String(decoding: bytes, as: UTF8.self)) else {
                throw failure("failed to parse JSON data at \(path)")
            }
            return parsed
        default:
            var found: [JSONValue] = []
            for document in YAML.parseEachDocument(bytes: bytes, file: path) {
                switch document.result {
                case .failure(let error):
                    throw failure("found an error in the data at \(error)")
                case .success(let node):
                    let value: JSONValue
                    do {
                        value = try node.toJSON()
                    } catch {
                        throw failure("found an error in the data at \(error)")
                    }
                    if !value.isNull { found.append(value) }
                }
            }
            guard found.count == 1 else {
                throw failure("expected to find exactly one document of data at \(path), found \(found.count)")
            }
            return found[0]
        }
    }
}

/// Why a placeholder could not be substituted (the whole message).
struct PlaceholderFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// How descriptor bytes become text: as Backstage reads them, UTF-8 with invalid bytes replaced by
/// U+FFFD (a Latin-1 file still reads), a leading UTF-8 BOM dropped. UTF-16 with a BOM is left to
/// libyaml, which decodes it.
enum DescriptorText {
    static func decode(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.count >= 2, (bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF) {
            return bytes
        }
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        if isValidUTF8(body) { return body }
        return Array(String(decoding: body, as: UTF8.self).utf8)
    }

    /// Whether `bytes` decode as UTF-8 without replacement.
    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
