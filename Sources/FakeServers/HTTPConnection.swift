import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Serves one accepted connection: reads requests one after another (keep-alive), hands each to
/// the handler and writes the answer, until the client closes, asks to close, a fault closes it,
/// or the server stops. The registry closes the descriptor afterwards.
struct HTTPConnection {
    let fd: Int32
    let core: ServerCore
    private var input: ReadBuffer

    /// Request heads larger than this are refused (431) rather than buffered forever.
    static let maximumHeadBytes = 64 * 1024
    /// Request bodies larger than this are refused (413).
    static let maximumBodyBytes = 512 * 1024 * 1024
    /// Bodies up to this size go out in the same `send` as the head.
    private static let coalesceBytes = 256 * 1024

    init(fd: Int32, core: ServerCore) {
        self.fd = fd
        self.core = core
        self.input = ReadBuffer(fd: fd)
    }

    mutating func serve() {
        while !core.isStopped {
            let head: RequestHead
            switch readHead() {
            case .closed: return
            case .tooLarge:
                _ = write(HTTPResponse(status: 431), keepAlive: false, headOnly: false)
                return
            case .malformed:
                _ = write(HTTPResponse(status: 400), keepAlive: false, headOnly: false)
                return
            case .head(let parsed): head = parsed
            }
            guard let body = readBody(for: head) else { return }
            let request = HTTPRequest(
                method: head.method, path: head.path, query: head.query, headers: head.headers, body: body)
            let response = core.handler(request)
            let headOnly = head.method == "HEAD"
            let keepAlive = head.keepAlive
            switch response.fault {
            case .closeConnection?:
                return
            case .delay(let seconds)?:
                guard core.sleep(seconds: seconds) else { return }
                guard write(response, keepAlive: keepAlive, headOnly: headOnly) else { return }
            case .truncateBody(let bytes)?:
                _ = write(response, keepAlive: false, headOnly: headOnly, bodyLimit: max(0, bytes))
                return
            case nil:
                guard write(response, keepAlive: keepAlive, headOnly: headOnly) else { return }
            }
            if !keepAlive { return }
        }
    }

    private enum HeadResult {
        case head(RequestHead)
        case closed
        case tooLarge
        case malformed
    }

    private mutating func readHead() -> HeadResult {
        var searchFrom = 0
        while true {
            if let end = input.indexOfHeadEnd(from: searchFrom) {
                let bytes = input.take(end + 4)
                guard let head = RequestHead(bytes: bytes[..<(bytes.count - 4)]) else { return .malformed }
                return .head(head)
            }
            if input.count > Self.maximumHeadBytes { return .tooLarge }
            searchFrom = max(0, input.count - 3)
            guard input.fill() else { return .closed }
        }
    }

    /// The request body per Content-Length or chunked encoding; nil when the connection must close.
    private mutating func readBody(for head: RequestHead) -> Data? {
        if head.headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            sendContinueIfAsked(head)
            return readChunkedBody()
        }
        guard let lengthText = head.headers["content-length"] else { return Data() }
        guard let length = Int(lengthText.trimmingCharacters(in: .whitespaces)), length >= 0 else {
            _ = write(HTTPResponse(status: 400), keepAlive: false, headOnly: false)
            return nil
        }
        guard length <= Self.maximumBodyBytes else {
            _ = write(HTTPResponse(status: 413), keepAlive: false, headOnly: false)
            return nil
        }
        if length > input.count { sendContinueIfAsked(head) }
        while input.count < length {
            guard input.fill() else { return nil }
        }
        return Data(input.take(length))
    }

    /// libcurl sends `Expect: 100-continue` for larger POSTs and waits (about a second) for this.
    private func sendContinueIfAsked(_ head: RequestHead) {
        guard head.headers["expect"]?.lowercased() == "100-continue" else { return }
        _ = Sockets.sendAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
    }

    private mutating func readChunkedBody() -> Data? {
        var body = Data()
        while true {
            guard let sizeLine = readLine(), let size = Int(sizeLine.split(separator: ";").first?
                .trimmingCharacters(in: .whitespaces) ?? "", radix: 16), size >= 0,
                body.count + size <= Self.maximumBodyBytes
            else { return nil }
            if size == 0 {
                // Trailer fields, if any, end with an empty line.
                while let line = readLine() {
                    if line.isEmpty { return body }
                }
                return nil
            }
            while input.count < size + 2 {
                guard input.fill() else { return nil }
            }
            body.append(contentsOf: input.take(size))
            _ = input.take(2)
        }
    }

    private mutating func readLine() -> String? {
        while true {
            if let end = input.indexOfLineEnd() {
                let line = input.take(end + 2)
                return String(decoding: line[..<(line.count - 2)], as: UTF8.self)
            }
            if input.count > Self.maximumHeadBytes { return nil }
            guard input.fill() else { return nil }
        }
    }

    /// Writes status line, headers (always with Content-Length) and body, or only `bodyLimit`
    /// bytes of the body. False when the peer is gone.
    private func write(_ response: HTTPResponse, keepAlive: Bool, headOnly: Bool, bodyLimit: Int? = nil) -> Bool {
        var head = "HTTP/1.1 \(response.status) \(HTTPStatus.reason(response.status))\r\n"
        for (name, value) in response.headers {
            switch name.lowercased() {
            case "content-length", "connection", "transfer-encoding": continue
            default: head += "\(name): \(value)\r\n"
            }
        }
        // 1xx, 204 and 304 carry no body and therefore no Content-Length.
        let bodyless = response.status < 200 || response.status == 204 || response.status == 304
        if !bodyless { head += "Content-Length: \(response.body.count)\r\n" }
        head += "Connection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"

        var bodyCount = headOnly || bodyless ? 0 : response.body.count
        if let bodyLimit { bodyCount = min(bodyCount, bodyLimit) }
        let body = response.body.prefix(bodyCount)
        if bodyCount <= Self.coalesceBytes {
            var packet = Array(head.utf8)
            packet.append(contentsOf: body)
            return Sockets.sendAll(fd, packet)
        }
        return Sockets.sendAll(fd, Array(head.utf8)) && Sockets.sendAll(fd, body)
    }
}

/// Bytes received on a connection and not yet consumed.
struct ReadBuffer {
    private let fd: Int32
    private var storage: [UInt8] = []
    private var start = 0
    private static let chunk = 64 * 1024

    init(fd: Int32) {
        self.fd = fd
    }

    var count: Int { storage.count - start }

    /// Receives more bytes; false when the peer closed, the socket was shut down, or it failed.
    mutating func fill() -> Bool {
        if start > 0 && start >= storage.count / 2 {
            storage.removeFirst(start)
            start = 0
        }
        let oldCount = storage.count
        storage.append(contentsOf: repeatElement(0, count: Self.chunk))
        while true {
            let received = storage.withUnsafeMutableBytes { buffer in
                recv(fd, buffer.baseAddress.map { $0 + oldCount }, Self.chunk, 0)
            }
            if received < 0 && errno == EINTR { continue }
            storage.removeLast(Self.chunk - max(0, received))
            return received > 0
        }
    }

    /// Removes and returns the next `n` bytes (the caller made sure they are there).
    mutating func take(_ n: Int) -> [UInt8] {
        let taken = Array(storage[start..<(start + n)])
        start += n
        return taken
    }

    /// Offset (from the unconsumed start) of the `\r\n\r\n` that ends a request head.
    func indexOfHeadEnd(from offset: Int) -> Int? {
        index(of: [13, 10, 13, 10], from: offset)
    }

    /// Offset of the next `\r\n`.
    func indexOfLineEnd() -> Int? {
        index(of: [13, 10], from: 0)
    }

    private func index(of pattern: [UInt8], from offset: Int) -> Int? {
        guard count >= pattern.count else { return nil }
        var position = start + offset
        let last = storage.count - pattern.count
        while position <= last {
            var matched = true
            for (k, byte) in pattern.enumerated() where storage[position + k] != byte {
                matched = false
                break
            }
            if matched { return position - start }
            position += 1
        }
        return nil
    }
}

/// Reason phrases for the status line.
enum HTTPStatus {
    static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status \(status)"
        }
    }
}
