import Foundation

/// Checks one property value against its schema from the blueprint: `type`, `format`
/// (url, email, date-time, labeled-url), `enum`, string/number/array bounds and array `items`.
/// Returns a problem description, or nil when the value fits.
enum FakePortPropertyValidator {
    static func problem(_ value: FakeJSON, schema: FakeJSON, at path: String) -> String? {
        guard let type = schema["type"]?.stringValue else { return nil }
        guard matches(type: type, value) else { return "\(path) must be \(type)" }
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
            return "\(path) must be equal to one of the allowed values"
        }
        if let format = schema["format"]?.stringValue, let problem = formatProblem(format, value) {
            return "\(path) \(problem)"
        }
        switch value {
        case .string(let text): return stringProblem(text, schema: schema, at: path)
        case .number(let number): return numberProblem(number, schema: schema, at: path)
        case .array(let items): return arrayProblem(items, schema: schema, at: path)
        default: return nil
        }
    }

    private static func matches(type: String, _ value: FakeJSON) -> Bool {
        switch (type, value) {
        case ("string", .string), ("number", .number), ("boolean", .bool), ("object", .object), ("array", .array):
            return true
        default:
            return false
        }
    }

    private static func stringProblem(_ text: String, schema: FakeJSON, at path: String) -> String? {
        let length = text.unicodeScalars.count
        if let min = schema["minLength"]?.numberValue, Double(length) < min {
            return "\(path) must NOT have fewer than \(Int(min)) characters"
        }
        if let max = schema["maxLength"]?.numberValue, Double(length) > max {
            return "\(path) must NOT have more than \(Int(max)) characters"
        }
        if let pattern = schema["pattern"]?.stringValue,
           let regex = try? NSRegularExpression(pattern: pattern),
           regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil
        {
            return "\(path) must match pattern \"\(pattern)\""
        }
        return nil
    }

    private static func numberProblem(_ number: Double, schema: FakeJSON, at path: String) -> String? {
        if let min = schema["minimum"]?.numberValue, number < min { return "\(path) must be >= \(min)" }
        if let max = schema["maximum"]?.numberValue, number > max { return "\(path) must be <= \(max)" }
        if let min = schema["exclusiveMinimum"]?.numberValue, number <= min { return "\(path) must be > \(min)" }
        if let max = schema["exclusiveMaximum"]?.numberValue, number >= max { return "\(path) must be < \(max)" }
        return nil
    }

    private static func arrayProblem(_ items: [FakeJSON], schema: FakeJSON, at path: String) -> String? {
        if let min = schema["minItems"]?.numberValue, Double(items.count) < min {
            return "\(path) must NOT have fewer than \(Int(min)) items"
        }
        if let max = schema["maxItems"]?.numberValue, Double(items.count) > max {
            return "\(path) must NOT have more than \(Int(max)) items"
        }
        if schema["uniqueItems"]?.boolValue == true, Set(items).count != items.count {
            return "\(path) must NOT have duplicate items"
        }
        guard let itemSchema = schema["items"], itemSchema.objectValue != nil else { return nil }
        for (index, item) in items.enumerated() {
            if let problem = problem(item, schema: itemSchema, at: "\(path)/\(index)") { return problem }
        }
        return nil
    }

    private static func formatProblem(_ format: String, _ value: FakeJSON) -> String? {
        switch (format, value) {
        case ("url", .string(let text)):
            return isURL(text) ? nil : "must match format \"url\""
        case ("email", .string(let text)), ("idn-email", .string(let text)):
            return isEmail(text) ? nil : "must match format \"email\""
        case ("date-time", .string(let text)), ("timer", .string(let text)):
            return isDateTime(text) ? nil : "must match format \"date-time\""
        case ("labeled-url", .object(let members)):
            guard let url = members["url"]?.stringValue, isURL(url) else { return "must have a valid 'url'" }
            return nil
        default:
            return nil
        }
    }

    /// An absolute URL: a scheme, `//` and a host (AJV's `uri` is laxer; Port's own check is unknown).
    static func isURL(_ text: String) -> Bool {
        guard !text.contains(where: \.isWhitespace), let components = URLComponents(string: text),
              let scheme = components.scheme, !scheme.isEmpty, let host = components.host, !host.isEmpty
        else { return false }
        return true
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !text.contains(where: \.isWhitespace) else { return false }
        let domain = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return domain.count >= 2 && domain.allSatisfy { !$0.isEmpty }
    }

    /// RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    static func isDateTime(_ text: String) -> Bool {
        let chars = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Bool {
            range.upperBound <= chars.count && range.allSatisfy { (48...57).contains(chars[$0]) }
        }
        guard chars.count >= 20, digits(0..<4), chars[4] == UInt8(ascii: "-"), digits(5..<7),
              chars[7] == UInt8(ascii: "-"), digits(8..<10), chars[10] == UInt8(ascii: "T") || chars[10] == UInt8(ascii: "t"),
              digits(11..<13), chars[13] == UInt8(ascii: ":"), digits(14..<16), chars[16] == UInt8(ascii: ":"),
              digits(17..<19)
        else { return false }
        var index = 19
        if chars[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < chars.count, (48...57).contains(chars[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < chars.count else { return false }
        if chars[index] == UInt8(ascii: "Z") || chars[index] == UInt8(ascii: "z") { return index + 1 == chars.count }
        guard chars[index] == UInt8(ascii: "+") || chars[index] == UInt8(ascii: "-") else { return false }
        return index + 6 == chars.count && digits(index + 1..<index + 3) && chars[index + 3] == UInt8(ascii: ":")
            && digits(index + 4..<index + 6)
    }
}
