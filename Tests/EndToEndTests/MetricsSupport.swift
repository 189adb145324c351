import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A Prometheus text exposition (format 0.0.4), parsed strictly enough to catch a malformed one:
/// every sample belongs to a family announced by `# HELP` and `# TYPE` lines before it, label
/// values are quoted with the format's escapes, and values are numbers.
struct Exposition {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    var help: [String: String] = [:]
    var types: [String: String] = [:]
    var samples: [Sample] = []

    init(_ text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else { throw ParseError(description: "does not end in a line feed") }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count == 4 else { throw ParseError(description: "bad comment line: \(line)") }
                if parts[1] == "HELP" { help[String(parts[2])] = String(parts[3]) } else { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            let sample = try Exposition.sample(String(line))
            guard help[sample.name] != nil, types[sample.name] != nil else {
                throw ParseError(description: "sample before its HELP/TYPE lines: \(line)")
            }
            samples.append(sample)
        }
    }

    /// The value of the one sample named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value }
        }
        return matching.count == 1 ? matching[0].value : nil
    }

    func samples(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    private static func sample(_ line: String) throws -> Sample {
        var characters = Substring(line)
        let name = String(characters.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
        guard !name.isEmpty else { throw ParseError(description: "no metric name: \(line)") }
        characters = characters.dropFirst(name.count)
        var labels: [String: String] = [:]
        if characters.first == "{" {
            characters = characters.dropFirst()
            while characters.first != "}" {
                let label = String(characters.prefix { $0 != "=" })
                characters = characters.dropFirst(label.count)
                guard characters.hasPrefix("=\"") else { throw ParseError(description: "bad label in \(line)") }
                characters = characters.dropFirst(2)
                var value = ""
                while let character = characters.first, character != "\"" {
                    characters = characters.dropFirst()
                    if character == "\\" {
                        switch characters.first {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw ParseError(description: "bad escape in \(line)")
                        }
                        characters = characters.dropFirst()
                    } else {
                        value.append(character)
                    }
                }
                guard characters.first == "\"" else { throw ParseError(description: "unterminated label value in \(line)") }
                characters = characters.dropFirst()
                labels[label] = value
                if characters.first == "," { characters = characters.dropFirst() }
            }
            characters = characters.dropFirst()
        }
        guard characters.first == " ", let value = Double(characters.dropFirst()) ?? special(characters.dropFirst()) else {
            throw ParseError(description: "bad value in \(line)")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func special(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return nil
        }
    }
}

/// Raw HTTP exchanges with the watcher's metrics server on 127.0.0.1: the request bytes go out
/// exactly as given, and the answer is read to the end (the server closes every connection).
enum LoopbackHTTP {
    struct Answer {
        var status: Int
        /// Lower-cased names.
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A connected socket (the caller closes it).
    static func connect(port: UInt16, receiveTimeout: Int = 10) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)")
        }
        return fd
    }

    static func exchange(port: UInt16, _ request: String) throws -> Answer {
        try exchange(port: port, Array(request.utf8))
    }

    static func exchange(port: UInt16, _ request: [UInt8]) throws -> Answer {
        let fd = try connect(port: port)
        defer { close(fd) }
        var offset = 0
        while offset < request.count {
            let sent = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer (and stop reading) before a large request is all sent.
            guard sent > 0 else { break }
            offset += sent
        }
        return try parse(readToEnd(fd))
    }

    /// Everything the peer sends until it closes; throws on a receive timeout.
    static func readToEnd(_ fd: Int32) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received == 0 { return bytes }
            if received < 0 {
                if errno == ECONNRESET { return bytes }
                throw Failure(description: "recv: errno \(errno) after \(bytes.count) bytes")
            }
            bytes += chunk[..<received]
        }
    }

    static func parse(_ bytes: [UInt8]) throws -> Answer {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no response head in \(text.prefix(200))") }
        var lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
            throw Failure(description: "bad status line in \(text.prefix(200))")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    static func get(port: UInt16, _ path: String, method: String = "GET") throws -> Answer {
        try exchange(port: port, "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }
}
