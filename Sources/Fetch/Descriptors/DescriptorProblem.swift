import Store

/// A descriptor file or document that could not become an entity, and why: the unit of
/// per-document isolation. Reading goes on past it; the run lists every one and ends `partial`.
public struct DescriptorProblem: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong.
    public enum Reason: Sendable, Equatable {
        /// The file (or a folder) could not be read at all.
        case unreadable(String)
        /// The document is not valid YAML (libyaml's message, with the column).
        case yaml(String)
        /// The document is not a mapping; `found` is its JSON type.
        case notAMapping(found: String)
        /// The entity breaks a catalog-model rule: `field` and what the rule expects.
        case invalid(field: String, rule: String)
        /// A `$text`/`$json`/`$yaml` placeholder could not be substituted.
        case placeholder(String)
        /// A Location's target could not be followed.
        case locationTarget(target: String, reason: String)
        /// The entity ref (case-insensitively) is already defined earlier in the walk.
        case duplicate(ref: String, firstFile: String, firstLine: Int)
    }

    /// The file the problem is in.
    public let file: String
    /// 1-based line of the document (or of the YAML error); 0 for the file as a whole.
    public let line: Int
    /// The entity as written (`kind:namespace/name`), when the document got that far.
    public let entity: String?
    public let reason: Reason

    public init(file: String, line: Int, entity: String? = nil, reason: Reason) {
        self.file = file
        self.line = line
        self.entity = entity
        self.reason = reason
    }

    /// `FILE:LINE: [ENTITY: ]reason`.
    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        let who = entity.map { "\($0): " } ?? ""
        return "\(place): \(who)\(message)"
    }

    /// The reason alone.
    public var message: String {
        switch reason {
        case .unreadable(let why): return "cannot be read: \(why)"
        case .yaml(let why): return "YAML error: \(why)"
        case .notAMapping(let found): return "a descriptor must be a mapping, found \(found)"
        case .invalid(let field, let rule): return "\(field) \(rule)"
        case .placeholder(let why): return why
        case .locationTarget(let target, let why): return "Location target \"\(target)\": \(why)"
        case .duplicate(let ref, let firstFile, let firstLine):
            return "\(ref) is already defined in \(firstFile):\(firstLine); the first definition is kept"
        }
    }
}

extension DescriptorProblem {
    /// The entity a problem names, as its descriptor writes it: kind lower-cased, namespace
    /// (`default` when absent) and name as written. Nil without a string kind and name.
    static func writtenRef(_ object: [String: JSONValue]) -> String? {
        guard let kind = object["kind"]?.stringValue, let name = object["metadata"]?["name"]?.stringValue else { return nil }
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? "default"
        return "\(kind.lowercased()):\(namespace)/\(name)"
    }
}
