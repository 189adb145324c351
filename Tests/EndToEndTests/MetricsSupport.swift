import Foundation
import LoopbackTestSupport
import XCTest

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

    /// A connection (closed when released).
    static func connect(port: UInt16, receiveTimeout: Int = 10) throws -> LoopbackConnection {
        try LoopbackConnection(port: port, receiveTimeoutSeconds: receiveTimeout)
    }

    static func exchange(port: UInt16, _ request: String) throws -> Answer {
        try exchange(port: port, Array(request.utf8))
    }

    /// Sends `request` (as much as the server reads: it may answer and stop reading before a
    /// large request is all sent) and reads the answer.
    static func exchange(port: UInt16, _ request: [UInt8]) throws -> Answer {
        let connection = try connect(port: port)
        connection.send(request)
        return try parse(readToEnd(connection))
    }

    /// Everything the peer sends until it closes (or resets); throws on a receive timeout.
    static func readToEnd(_ connection: LoopbackConnection) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            switch connection.receive(upTo: 16 * 1024) {
            case .data(let chunk): bytes += chunk
            case .closed, .reset: return bytes
            case .failed(let errno): throw Failure(description: "recv: errno \(errno) after \(bytes.count) bytes")
            }
        }
    }

    static func parse(_ bytes: [UInt8]) throws -> Answer {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no response head in \(text.prefix(200))") }
        guard let head = ResponseHead(text[..<split.lowerBound]) else {
            throw Failure(description: "bad status line in \(text.prefix(200))")
        }
        return Answer(status: head.status, headers: head.headers, body: String(text[split.upperBound...]))
    }

    static func get(port: UInt16, _ path: String, method: String = "GET") throws -> Answer {
        try exchange(port: port, "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }
}
