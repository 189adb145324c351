import Foundation
import LoopbackTestSupport

/// A blocking HTTP/1.1 client on one TCP connection, so tests see exactly what went over the wire:
/// keep-alive, Content-Length, truncated bodies, closed connections.
final class RawHTTPClient {
    struct Response {
        var status: Int
        /// Lower-cased names.
        var headers: [String: String]
        var body: Data
        /// False when the connection closed before Content-Length bytes arrived.
        var complete: Bool

        var text: String { String(decoding: body, as: UTF8.self) }

        func json() throws -> Any { try JSONSerialization.jsonObject(with: body) }

        func object() throws -> [String: Any] {
            guard let object = try json() as? [String: Any] else { throw ClientError("body is not a JSON object: \(text.prefix(200))") }
            return object
        }
    }

    struct ClientError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private let connection: LoopbackConnection
    private var buffer: [UInt8] = []

    init(port: UInt16, timeoutSeconds: Int = 20) throws {
        connection = try LoopbackConnection(port: port, receiveTimeoutSeconds: timeoutSeconds)
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        guard connection.send(bytes) == bytes.count else { throw ClientError("send failed") }
    }

    /// Sends a request and reads its response.
    func request(_ method: String, _ target: String, headers: [String: String] = [:], body: Data? = nil) throws -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body { bytes.append(contentsOf: body) }
        try send(bytes)
        return try readResponse()
    }

    /// Reads one response (skipping `100 Continue`); throws when the connection closes before a head.
    func readResponse() throws -> Response {
        while true {
            let text = try readHead()
            guard let head = ResponseHead(Substring(text)) else { throw ClientError("bad status line") }
            let (status, headers) = (head.status, head.headers)
            if status == 100 { continue }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < length {
                guard fill() else {
                    let body = Data(buffer)
                    buffer = []
                    return Response(status: status, headers: headers, body: body, complete: false)
                }
            }
            let body = Data(buffer[..<length])
            buffer.removeFirst(length)
            return Response(status: status, headers: headers, body: body, complete: true)
        }
    }

    /// Reads a response head only (the text before the blank line).
    func readHead() throws -> String {
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                return head
            }
            guard fill() else { throw ClientError("connection closed before a response") }
        }
    }

    /// True when the server closed (EOF) or reset the connection within the receive timeout.
    /// A connection still in the listen backlog when the listener closes gets a reset.
    func isClosedByPeer() -> Bool {
        switch connection.receive(upTo: 1) {
        case .closed, .reset: return true
        case .data, .failed: return false
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
            where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func fill() -> Bool {
        guard case .data(let bytes) = connection.receive(upTo: 256 * 1024) else { return false }
        buffer.append(contentsOf: bytes)
        return true
    }
}

/// Runs /usr/bin/curl, for checks that libcurl (which the real client uses) gets along with the server.
enum Curl {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: stdout, stderr: String(decoding: stderr, as: UTF8.self))
    }
}
