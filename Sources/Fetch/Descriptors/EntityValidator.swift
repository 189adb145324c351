import Foundation
import Store

/// The checks Backstage's catalog-model applies to an entity read from a descriptor, in its order:
/// the envelope, the root-field whitelist, field formats (names, namespaces, kinds, apiVersion,
/// labels, annotations, tags, links) and, for the built-in kinds, the kind's schema (exact-case
/// kind, apiVersion, `spec` field types). Kinds mirrorctl does not know pass with the envelope
/// and format checks: Backstage accepts them when the processor defining them is installed.
public enum EntityValidator {
    /// A rule an entity breaks: the field and what the rule expects.
    public struct Violation: Error, Sendable, Equatable {
        public let field: String
        public let rule: String
    }

    /// The first rule `entity` breaks (an entity object as written, namespace not yet defaulted),
    /// or nil when it is valid.
    public static func violation(in entity: [String: JSONValue]) -> Violation? {
        do {
            try check(entity)
            return nil
        } catch let violation as Violation {
            return violation
        } catch {
            return Violation(field: "entity", rule: "\(error)")
        }
    }

    // MARK: - Built-in kinds

    /// A `spec` field's type in a kind schema.
    enum FieldType {
        case string, strings, object, objectOrArray, steps
    }

    struct KindSchema {
        let kind: String
        let apiVersions: [String]
        let required: [(String, FieldType)]
        let optional: [(String, FieldType)]
    }

    static let coreVersions = ["backstage.io/v1alpha1", "backstage.io/v1beta1"]

    /// `packages/catalog-model/src/schema/kinds/*.schema.json` and the scaffolder's Template v1beta3.
    static let kinds: [String: KindSchema] = {
        let schemas = [
            KindSchema(kind: "Component", apiVersions: coreVersions,
                       required: [("type", .string), ("lifecycle", .string), ("owner", .string)],
                       optional: [("system", .string), ("subcomponentOf", .string), ("providesApis", .strings),
                                  ("consumesApis", .strings), ("dependsOn", .strings), ("dependencyOf", .strings)]),
            KindSchema(kind: "API", apiVersions: coreVersions,
                       required: [("type", .string), ("lifecycle", .string), ("owner", .string), ("definition", .string)],
                       optional: [("system", .string)]),
            KindSchema(kind: "Resource", apiVersions: coreVersions,
                       required: [("type", .string), ("owner", .string)],
                       optional: [("dependsOn", .strings), ("dependencyOf", .strings), ("system", .string)]),
            KindSchema(kind: "System", apiVersions: coreVersions, required: [("owner", .string)],
                       optional: [("domain", .string), ("type", .string)]),
            KindSchema(kind: "Domain", apiVersions: coreVersions, required: [("owner", .string)],
                       optional: [("subdomainOf", .string), ("type", .string)]),
            KindSchema(kind: "Group", apiVersions: coreVersions, required: [("type", .string), ("children", .strings)],
                       optional: [("profile", .object), ("parent", .string), ("members", .strings)]),
            KindSchema(kind: "User", apiVersions: coreVersions, required: [("memberOf", .strings)],
                       optional: [("profile", .object)]),
            KindSchema(kind: "Location", apiVersions: coreVersions, required: [],
                       optional: [("type", .string), ("target", .string), ("targets", .strings), ("presence", .string)]),
            KindSchema(kind: "Template", apiVersions: ["scaffolder.backstage.io/v1beta3"],
                       required: [("type", .string), ("steps", .steps)],
                       optional: [("owner", .string), ("parameters", .objectOrArray), ("output", .object)]),
        ]
        return Dictionary(uniqueKeysWithValues: schemas.map { ($0.kind.lowercased(), $0) })
    }()

    /// Whether `kind` names a built-in kind, in any case.
    public static func isBuiltinKind(_ kind: String) -> Bool { kinds[kind.lowercased()] != nil }

    // MARK: - Checks

    private static func fail(_ field: String, _ rule: String) -> Violation { Violation(field: field, rule: rule) }

    private static func check(_ entity: [String: JSONValue]) throws {
        let apiVersion = try requiredString(entity["apiVersion"], "apiVersion")
        let kind = try requiredString(entity["kind"], "kind")
        guard let metadataValue = entity["metadata"], !metadataValue.isNull else { throw fail("metadata", "is required") }
        guard case .object(let metadata) = metadataValue else { throw fail("metadata", "must be a mapping, found \(metadataValue.typeName)") }
        let name = try requiredString(metadata["name"], "metadata.name")
        if let namespace = metadata["namespace"], !namespace.isNull {
            let text = try requiredString(namespace, "metadata.namespace")
            guard isDNSLabel(text) else {
                throw fail("metadata.namespace", "\"\(text)\" is not valid: expected a DNS label (1-63 characters of [a-z0-9] separated by -)")
            }
        }
        for key in entity.keys.sorted() where !["apiVersion", "kind", "metadata", "spec"].contains(key) {
            throw fail(key, "is not allowed: an entity has only apiVersion, kind, metadata and spec at its root")
        }
        if let spec = entity["spec"], !spec.isNull, spec.objectValue == nil {
            throw fail("spec", "must be a mapping, found \(spec.typeName)")
        }
        try checkMetadata(metadata)
        guard isValidAPIVersion(apiVersion) else {
            throw fail("apiVersion", "\"\(apiVersion)\" is not valid: expected [<DNS subdomain>/]<1-63 characters of [a-zA-Z0-9]>")
        }
        guard isValidKind(kind) else {
            throw fail("kind", "\"\(kind)\" is not valid: expected 1-63 characters of [a-zA-Z0-9] starting with a letter")
        }
        guard isObjectName(name) else {
            throw fail("metadata.name", "\"\(name)\" is not valid: expected 1-63 characters of [a-zA-Z0-9] separated by [-_.]")
        }
        guard let schema = kinds[kind.lowercased()] else { return }
        guard kind == schema.kind else {
            throw fail("kind", "\"\(kind)\" is not recognized: built-in kinds are case-sensitive, write \(schema.kind)")
        }
        guard schema.apiVersions.contains(apiVersion) else {
            throw fail("apiVersion", "\"\(apiVersion)\" is not valid for kind \(kind): expected \(schema.apiVersions.joined(separator: " or "))")
        }
        guard case .object(let spec)? = entity["spec"] else { throw fail("spec", "is required for kind \(kind)") }
        for (field, type) in schema.required {
            guard let value = spec[field], !value.isNull else { throw fail("spec.\(field)", "is required for kind \(kind)") }
            try checkType(value, type, "spec.\(field)", kind: kind)
        }
        for (field, type) in schema.optional {
            if let value = spec[field], !value.isNull { try checkType(value, type, "spec.\(field)", kind: kind) }
        }
        if kind == "Location", let presence = spec["presence"]?.stringValue, presence != "required", presence != "optional" {
            throw fail("spec.presence", "must be required or optional, found \"\(presence)\"")
        }
    }

    private static func requiredString(_ value: JSONValue?, _ field: String) throws -> String {
        guard let value, !value.isNull else { throw fail(field, "is required") }
        guard let text = value.stringValue, !text.isEmpty else {
            throw fail(field, "must be a non-empty string, found \(value.stringValue == nil ? value.typeName : "an empty string")")
        }
        return text
    }

    private static func checkType(_ value: JSONValue, _ type: FieldType, _ field: String, kind: String) throws {
        let found = value.typeName
        switch type {
        case .string:
            guard let text = value.stringValue, !text.isEmpty else {
                throw fail(field, "must be a non-empty string for kind \(kind), found \(value.stringValue == nil ? found : "an empty string")")
            }
        case .strings:
            guard let items = value.arrayValue else { throw fail(field, "must be a list of strings for kind \(kind), found \(found)") }
            for (index, item) in items.enumerated() where (item.stringValue ?? "").isEmpty {
                throw fail("\(field)[\(index)]", "must be a non-empty string for kind \(kind), found \(item.typeName)")
            }
        case .object:
            guard case .object(let members) = value else { throw fail(field, "must be a mapping for kind \(kind), found \(found)") }
            if field == "spec.profile" {
                for key in ["displayName", "email", "picture"] {
                    if let item = members[key], !item.isNull, item.stringValue == nil {
                        throw fail("\(field).\(key)", "must be a string, found \(item.typeName)")
                    }
                }
            }
        case .objectOrArray:
            guard value.objectValue != nil || value.arrayValue != nil else {
                throw fail(field, "must be a mapping or a list for kind \(kind), found \(found)")
            }
        case .steps:
            guard let steps = value.arrayValue else { throw fail(field, "must be a list of steps for kind \(kind), found \(found)") }
            for (index, step) in steps.enumerated() {
                guard step.objectValue != nil else { throw fail("\(field)[\(index)]", "must be a mapping, found \(step.typeName)") }
                guard let action = step["action"]?.stringValue, !action.isEmpty else {
                    throw fail("\(field)[\(index)].action", "is required")
                }
            }
        }
    }

    private static func checkMetadata(_ metadata: [String: JSONValue]) throws {
        for field in ["title", "description", "uid", "etag"] {
            if let value = metadata[field], !value.isNull, value.stringValue == nil {
                throw fail("metadata.\(field)", "must be a string, found \(value.typeName)")
            }
        }
        for group in ["labels", "annotations"] {
            guard let value = metadata[group], !value.isNull else { continue }
            guard case .object(let members) = value else { throw fail("metadata.\(group)", "must be a mapping, found \(value.typeName)") }
            for key in members.keys.sorted() {
                guard isPrefixedName(key) else {
                    throw fail("metadata.\(group)", "key \"\(key)\" is not valid: expected [<DNS subdomain>/]<1-63 characters of [a-zA-Z0-9] separated by [-_.]>")
                }
                guard let text = members[key]?.stringValue else {
                    throw fail("metadata.\(group).\(key)", "must be a string, found \(members[key]?.typeName ?? "null")")
                }
                if group == "labels", !text.isEmpty, !isObjectName(text) {
                    throw fail("metadata.labels.\(key)", "\"\(text)\" is not valid: expected empty or 1-63 characters of [a-zA-Z0-9] separated by [-_.]")
                }
            }
        }
        if let tags = metadata["tags"], !tags.isNull {
            guard let items = tags.arrayValue else { throw fail("metadata.tags", "must be a list, found \(tags.typeName)") }
            for (index, tag) in items.enumerated() {
                guard let text = tag.stringValue, isTag(text) else {
                    throw fail("metadata.tags[\(index)]", "\(tag.stringValue.map { "\"\($0)\"" } ?? tag.typeName) is not valid: expected 1-63 characters of [a-z0-9:+#] separated by -")
                }
            }
        }
        if let links = metadata["links"], !links.isNull {
            guard let items = links.arrayValue else { throw fail("metadata.links", "must be a list, found \(links.typeName)") }
            for (index, link) in items.enumerated() {
                guard case .object(let members) = link else { throw fail("metadata.links[\(index)]", "must be a mapping, found \(link.typeName)") }
                guard let url = members["url"]?.stringValue, let parsed = URL(string: url), parsed.scheme != nil else {
                    throw fail("metadata.links[\(index)].url", "must be a URL")
                }
                if let title = members["title"], !title.isNull,
                   (title.stringValue ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                    throw fail("metadata.links[\(index)].title", "must be a non-empty string")
                }
                if let icon = members["icon"], !icon.isNull, !(icon.stringValue.map(isObjectName) ?? false) {
                    throw fail("metadata.links[\(index)].icon", "is not valid: expected 1-63 characters of [a-zA-Z0-9] separated by [-_.]")
                }
            }
        }
    }

    // MARK: - Formats (catalog-model's KubernetesValidatorFunctions)

    static func isObjectName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), isAlphanumeric(bytes[0]), isAlphanumeric(bytes[bytes.count - 1]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), isLowerAlphanumeric(bytes[0]), isLowerAlphanumeric(bytes[bytes.count - 1]) else { return false }
        var previousDash = false
        for byte in bytes {
            if byte == UInt8(ascii: "-") {
                if previousDash { return false }
                previousDash = true
            } else {
                guard isLowerAlphanumeric(byte) else { return false }
                previousDash = false
            }
        }
        return true
    }

    static func isDNSSubdomain(_ text: String) -> Bool {
        (1...253).contains(text.utf8.count) && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }

    static func isValidAPIVersion(_ text: String) -> Bool {
        isPrefixed(text) { version in
            (1...63).contains(version.utf8.count) && version.utf8.allSatisfy(isAlphanumeric)
        }
    }

    static func isValidKind(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), isLetter(bytes[0]) else { return false }
        return bytes.allSatisfy(isAlphanumeric)
    }

    static func isPrefixedName(_ text: String) -> Bool { isPrefixed(text, isObjectName) }

    static func isTag(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        let allowed: (UInt8) -> Bool = { isLowerAlphanumeric($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }
        return text.split(separator: "-", omittingEmptySubsequences: false).allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy(allowed)
        }
    }

    /// `[<DNS subdomain>/]<suffix>`: one optional prefix before a single `/`.
    private static func isPrefixed(_ text: String, _ suffix: (String) -> Bool) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return suffix(text)
        case 2: return isDNSSubdomain(String(parts[0])) && suffix(String(parts[1]))
        default: return false
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || (0x30...0x39).contains(byte) }
    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
}
