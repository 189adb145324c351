import Fetch
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A raw-socket HTTP/1.1 server for hostile-server tests: each request is handed to a handler
/// together with the connection itself, so the handler can answer normally, or stream without
/// end, dribble, hang, or send a 10 MB header. Every answer closes the connection. Counts what it
/// received, so a test can prove a second origin got nothing.
final class HostileServer: @unchecked Sendable {
    struct Request {
        let method: String
        /// Path and query as sent.
        let target: String
        /// Lower-cased names.
        let headers: [String: String]
        let body: Data

        var path: String { String(target.prefix { $0 != "?" }) }
    }

    /// One accepted connection, for the handler to write to.
    final class Wire {
        fileprivate let fd: Int32
        private weak var server: HostileServer?

        fileprivate init(fd: Int32, server: HostileServer) {
            self.fd = fd
            self.server = server
        }

        /// False once the peer is gone or the server stops.
        @discardableResult
        func send(_ data: Data) -> Bool {
            guard server?.isRunning == true else { return false }
            var offset = 0
            while offset < data.count {
                let sent = data[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }

        @discardableResult
        func send(_ text: String) -> Bool { send(Data(text.utf8)) }

        /// A complete answer with Content-Length.
        func respond(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
            var head = "HTTP/1.1 \(status) \(status < 300 ? "OK" : status < 400 ? "Redirect" : "Error")\r\nConnection: close\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(body.count)\r\n\r\n"
            send(Data(head.utf8) + body)
        }

        func respond(status: Int, json: String) {
            respond(status: status, headers: [("Content-Type", "application/json")], body: Data(json.utf8))
        }

        /// Waits (up to `seconds`) until the peer closes or the server stops: a server that hangs.
        func waitForClose(seconds: Double = 300) {
            let end = Date().addingTimeInterval(seconds)
            var byte: UInt8 = 0
            while server?.isRunning == true, Date() < end {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&entry, 1, 50) > 0 {
                    if recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0 { return }
                    // Pipelined bytes would keep poll readable: drain them.
                    _ = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
                }
            }
        }

        /// Pauses between writes; false once the server stopped.
        func pause(_ seconds: Double) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                guard server?.isRunning == true else { return false }
                Thread.sleep(forTimeInterval: min(0.02, max(0, end.timeIntervalSinceNow)))
            }
            return server?.isRunning == true
        }
    }

    typealias Handler = @Sendable (Request, Wire) -> Void

    private let listener: Int32
    let host: String
    let port: UInt16
    private let handler: Handler
    private let lock = NSLock()
    private var running = true
    private var open: Set<Int32> = []
    private var received: [Request] = []
    private var acceptedConnections = 0
    private let threads = DispatchGroup()

    /// Listens on `host` (any 127/8 address) on a free port.
    init(host: String = "127.0.0.1", handler: @escaping Handler) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw ServerError("bad address \(host)") }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            Glibc.close(fd)
            throw ServerError("cannot listen on \(host)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        self.host = host
        port = UInt16(bigEndian: actual.sin_port)
        self.handler = handler
        threads.enter()
        Thread { [self] in
            defer { threads.leave() }
            acceptLoop()
        }.start()
    }

    deinit { stop() }

    var baseURL: String { "http://\(host):\(port)" }

    var isRunning: Bool { lock.withLock { running } }

    /// Requests read so far.
    var requests: [Request] { lock.withLock { received } }

    /// Connections accepted so far (a connection that sent nothing counts too).
    var connections: Int { lock.withLock { acceptedConnections } }

    func stop() {
        let fds: Set<Int32> = lock.withLock {
            guard running else { return [] }
            running = false
            return open
        }
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        _ = threads.wait(timeout: .now() + 10)
        Glibc.close(listener)
    }

    private func acceptLoop() {
        while isRunning {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) > 0, isRunning else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            lock.withLock {
                open.insert(fd)
                acceptedConnections += 1
            }
            threads.enter()
            Thread { [self] in
                defer {
                    lock.withLock { _ = open.remove(fd) }
                    Glibc.close(fd)
                    threads.leave()
                }
                guard let request = readRequest(fd) else { return }
                lock.withLock { received.append(request) }
                handler(request, Wire(fd: fd, server: self))
            }.start()
        }
    }

    /// One request: head and Content-Length body (mirrorctl never sends chunked bodies).
    private func readRequest(_ fd: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var headEnd: Int?
        while headEnd == nil {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[..<count])
            headEnd = HostileServer.find([13, 10, 13, 10], in: buffer)
        }
        guard let headEnd else { return nil }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(buffer[(headEnd + 4)...])
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < length {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            body.append(contentsOf: chunk[..<count])
        }
        return Request(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: Data(body))
    }

    private static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for index in 0...(bytes.count - pattern.count) where bytes[index] == pattern[0] {
            if Array(bytes[index..<(index + pattern.count)]) == pattern { return index }
        }
        return nil
    }

    /// Sends `request` on to `baseURL` (the regular fake) and writes its answer back, after
    /// `rewrite` may have changed the body.
    static func forward(_ request: Request, to baseURL: String, over wire: Wire, target: String? = nil,
                        rewrite: (Int, Data) -> (Int, Data) = { ($0, $1) }) {
        var options = TransportOptions()
        options.maxResponseBytes = 1 << 30
        var headers: [(name: String, value: String)] = []
        for name in ["authorization", "content-type", "accept"] {
            if let value = request.headers[name] { headers.append((name, value)) }
        }
        do {
            let connection = try HTTPConnection(options: options)
            let response = try connection.send(HTTPRequestSpec(method: request.method, url: baseURL + (target ?? request.target), headers: headers,
                                                               body: request.method == "GET" ? nil : Array(request.body)))
            let (status, body) = rewrite(response.status, Data(response.body))
            var answer: [(String, String)] = [("Content-Type", "application/json")]
            for name in ["retry-after", "x-ratelimit-remaining", "x-ratelimit-reset"] {
                if let value = response.header(name) { answer.append((name, value)) }
            }
            wire.respond(status: status, headers: answer, body: body)
        } catch {
            wire.respond(status: 502, json: #"{"error":"proxy"}"#)
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// How a finished child went: its output, how long it took and its peak resident memory.
struct ChildRun {
    let result: CommandResult
    let seconds: Double
    /// VmHWM of the child, read from /proc while it ran (MiB).
    let peakMiB: Int
    let stdoutBytes: Data
    let stderrBytes: Data
}

extension EndToEndCase {
    /// Runs mirrorctl like `mirrorctl(_:)`, also measuring wall time and peak RSS (VmHWM, polled
    /// from /proc every few milliseconds; the high-water mark only grows, so the last reading
    /// before exit is at most a few milliseconds of growth short).
    func measuredRun(_ arguments: [String], env extra: [String: String] = [:], timeout: Double = 120) throws -> ChildRun {
        let started = Date()
        let (process, out, err) = try launchMirrorctl(arguments, env: extra)
        let status = "/proc/\(process.processIdentifier)/status"
        var peakKiB = 0
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            if let text = try? String(contentsOfFile: status, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kib = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peakKiB = max(peakKiB, kib)
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        if process.isRunning {
            process.terminate()
            XCTFail("mirrorctl \(arguments.joined(separator: " ")) did not finish in \(timeout)s")
        }
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(started)
        let stdout = (try? Data(contentsOf: out)) ?? Data()
        let stderr = (try? Data(contentsOf: err)) ?? Data()
        let result = CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                                   stderr: String(decoding: stderr, as: UTF8.self))
        return ChildRun(result: result, seconds: seconds, peakMiB: peakKiB / 1024, stdoutBytes: stdout, stderrBytes: stderr)
    }
}

