import Foundation

/// The parsed request line and header fields of one HTTP/1.x request.
struct RequestHead {
    let method: String
    /// The raw path, still percent-encoded, without the query.
    let path: String
    let query: [(name: String, value: String)]
    /// Lower-cased names; repeated fields joined with ", ".
    let headers: [String: String]
    /// Whether the connection stays open after the response (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    let keepAlive: Bool

    /// Parses the bytes before the blank line; nil when they are not an HTTP/1.x request head.
    init?(bytes: ArraySlice<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let requestLine = lines.popFirst() else { return nil }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        method = String(parts[0])
        let target = parts[1]
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = QueryString.decode(target[target.index(after: mark)...])
        } else {
            path = String(target)
            query = []
        }
        var fields: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if let existing = fields[name] {
                fields[name] = existing + ", " + value
            } else {
                fields[name] = value
            }
        }
        headers = fields
        let connection = fields["connection"]?.lowercased() ?? ""
        if parts[2] == "HTTP/1.0" {
            keepAlive = connection.contains("keep-alive")
        } else {
            keepAlive = !connection.contains("close")
        }
    }
}

/// Decoding of `application/x-www-form-urlencoded` query strings and of percent-encoded paths.
public enum QueryString {
    /// Splits `a=1&b=x%20y&a=2` into decoded pairs in order; `+` means space here.
    public static func decode(_ query: Substring) -> [(name: String, value: String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return (
                    percentDecode(pair[..<equals], plusAsSpace: true),
                    percentDecode(pair[pair.index(after: equals)...], plusAsSpace: true)
                )
            }
            return (percentDecode(pair, plusAsSpace: true), "")
        }
    }

    /// Replaces `%XX` escapes with their bytes (invalid escapes stay as written) and, in queries,
    /// `+` with a space. Bytes that are not UTF-8 become U+FFFD.
    public static func percentDecode(_ text: Substring, plusAsSpace: Bool = false) -> String {
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), index + 2 < utf8.count,
               let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            out.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
