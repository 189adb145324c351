import Store

/// One node of a parsed YAML document, with the position where it starts. Aliases are already
/// replaced by (shared copies of) the nodes their anchors name.
public struct YAMLNode: Sendable {
    /// The content of a node. `quoted` is true for every scalar that is not plain (single- or
    /// double-quoted, literal `|`, folded `>`) and for plain scalars tagged `!!str` or `!`:
    /// those always resolve to strings.
    public enum Value: Sendable {
        case scalar(String, quoted: Bool)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    public let value: Value
    /// 1-based line where the node starts.
    public let line: Int
    /// 1-based column where the node starts.
    public let column: Int
    /// The file the node was read from, for error messages.
    public let file: String

    /// A node at a 1-based position of `file`.
    public init(_ value: Value, line: Int, column: Int, file: String) {
        self.value = value
        self.line = line
        self.column = column
        self.file = file
    }

    /// The value of the first entry whose key is a scalar equal to `key` (nil for non-mappings).
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = value else { return nil }
        for pair in pairs {
            if case .scalar(let text, _) = pair.key.value, text == key { return pair.value }
        }
        return nil
    }

    /// The text of a scalar node, unresolved (nil for collections).
    public var scalarText: String? {
        if case .scalar(let text, _) = value { return text }
        return nil
    }

    /// Converts to JSON, resolving plain scalars with the YAML 1.2 core schema (see
    /// `YAMLScalar.resolve`). Mapping keys must be scalars; they become their text.
    /// - Throws: `YAMLError` at the offending key for a non-scalar key, or for two keys that
    ///   become the same JSON key.
    public func toJSON() throws(YAMLError) -> JSONValue {
        switch value {
        case .scalar(let text, let quoted):
            return quoted ? .string(text) : YAMLScalar.resolve(text)
        case .sequence(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try item.toJSON()) }
            return .array(out)
        case .mapping(let pairs):
            var out: [String: JSONValue] = [:]
            out.reserveCapacity(pairs.count)
            for pair in pairs {
                guard case .scalar(let key, _) = pair.key.value else {
                    throw YAMLError(file: pair.key.file, line: pair.key.line, column: pair.key.column,
                                    message: "mapping key is a \(pair.key.kindName), only scalar keys can become JSON")
                }
                if out[key] != nil {
                    throw YAMLError(file: pair.key.file, line: pair.key.line, column: pair.key.column,
                                    message: "duplicate key \"\(key)\" in mapping")
                }
                out[key] = try pair.value.toJSON()
            }
            return .object(out)
        }
    }

    /// `scalar`, `sequence` or `mapping`, for messages.
    public var kindName: String {
        switch value {
        case .scalar: return "scalar"
        case .sequence: return "sequence"
        case .mapping: return "mapping"
        }
    }
}

/// Resolution of plain scalars to JSON by the YAML 1.2 core schema.
public enum YAMLScalar {
    /// `null`/`Null`/`NULL`/`~`/empty → null; `true`/`True`/`TRUE`/`false`/`False`/`FALSE` → bool;
    /// decimal, `0x` and `0o` integers and decimal floats (with `.inf`, `-.inf`, `.nan`) → number;
    /// anything else → string.
    public static func resolve(_ text: String) -> JSONValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .number(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .number(-.infinity)
        case ".nan", ".NaN", ".NAN": return .number(.nan)
        default: break
        }
        if let number = number(text) { return .number(number) }
        return .string(text)
    }

    /// The number a plain scalar denotes, if it matches one of the core-schema number forms.
    static func number(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first else { return nil }
        // First byte must start a number; this keeps the common string case cheap.
        guard first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
            || isDigit(first)
        else { return nil }

        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let digits = bytes[2...]
            if bytes[1] == UInt8(ascii: "x"), !digits.isEmpty, digits.allSatisfy(isHexDigit) {
                return parseRadix(digits, radix: 16)
            }
            if bytes[1] == UInt8(ascii: "o"), !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }) {
                return parseRadix(digits, radix: 8)
            }
        }
        // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        var index = 0
        if bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        var mantissaDigits = 0
        while index < bytes.count, isDigit(bytes[index]) { index += 1; mantissaDigits += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, isDigit(bytes[index]) { index += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            var exponentDigits = 0
            while index < bytes.count, isDigit(bytes[index]) { index += 1; exponentDigits += 1 }
            guard exponentDigits > 0 else { return nil }
        }
        guard index == bytes.count else { return nil }
        return Double(text)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    private static func parseRadix(_ digits: ArraySlice<UInt8>, radix: Double) -> Double {
        var value = 0.0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            default: digit = byte - 0x61 + 10
            }
            value = value * radix + Double(digit)
        }
        return value
    }
}
