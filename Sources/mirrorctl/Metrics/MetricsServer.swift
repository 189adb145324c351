import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `--metrics-addr HOST:PORT`. A bare `PORT` or `:PORT` binds 127.0.0.1: serving metrics beyond
/// the host is a choice made by naming an address (`0.0.0.0:9464`, `[::]:9464`), never a default.
struct ListenAddress: Equatable, CustomStringConvertible {
    var host: String
    var port: UInt16

    static let defaultHost = "127.0.0.1"

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    init(parsing text: String) throws(UsageError) {
        let problem = UsageError("--metrics-addr must be HOST:PORT, :PORT or PORT (IPv6 in brackets: [::1]:9464), got '\(text)'")
        var hostPart = Substring("")
        var portPart = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else { throw problem }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { throw problem }
        }
        guard !portPart.isEmpty, portPart.allSatisfy(\.isASCII), let port = UInt16(portPart) else { throw problem }
        self.host = hostPart.isEmpty ? ListenAddress.defaultHost : String(hostPart)
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A socket descriptor with one owner, closed exactly once: by `close()` or when the owner goes.
final class SocketDescriptor: Sendable {
    private let value: Atomic<Int32>

    init(_ fd: Int32) { value = Atomic(fd) }

    /// The descriptor, or -1 once closed.
    var fd: Int32 { value.load(ordering: .acquiring) }

    func close() {
        let fd = value.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    deinit { close() }
}

/// What the server answers a request with.
struct HTTPReply {
    var status: Int
    var body: String
    var contentType = "text/plain; charset=utf-8"
    var headers: [(String, String)] = []

    static func text(_ status: Int, _ body: String) -> HTTPReply { HTTPReply(status: status, body: body) }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 431: return "Request Header Fields Too Large"
        case 503: return "Service Unavailable"
        default: return "Error"
        }
    }
}

/// A small HTTP/1.1 server for `/metrics` and `/healthz` on POSIX sockets (no HTTP library is
/// available). It is built not to hurt the watcher it runs in: it has its own threads, answers
/// one request per connection (`Connection: close`), reads at most `maxRequestBytes` of a request
/// head within `requestSeconds`, serves at most `maxConnections` connections at once (more are
/// closed on arrival), and accepts only GET and HEAD. Every descriptor is close-on-exec, so the
/// watcher's `sync` children never inherit the listening socket.
final class MetricsServer: Sendable {
    struct Limits: Sendable {
        var maxRequestBytes = 8 * 1024
        var requestSeconds = 5.0
        var maxConnections = 8
    }

    /// Answers a GET or HEAD for a path (query string removed).
    typealias Route = @Sendable (String) -> HTTPReply

    /// Where it listens (the actual port when asked for port 0).
    let address: ListenAddress
    private let limits: Limits
    private let route: Route
    /// Only the accept thread uses it once `start()` has run; it closes it on the way out.
    private let listener: SocketDescriptor
    private let stopping = Atomic<Bool>(false)
    private let connections = Atomic<Int>(0)
    private let acceptLoopEnded = DispatchSemaphore(value: 0)

    /// Binds and listens; throws a usage error (exit 2) when the address can't be used.
    init(address: ListenAddress, limits: Limits = Limits(), route: @escaping Route) throws(UsageError) {
        self.limits = limits
        self.route = route
        (listener, self.address) = try MetricsServer.listen(address)
    }

    /// Starts accepting connections on a thread of its own.
    func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "metrics-server"
        thread.start()
    }

    /// Stops accepting and closes the listening socket (within about 0.2 s). Connections being
    /// answered finish on their own threads, within their time bound.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        _ = acceptLoopEnded.wait(timeout: .now() + 2)
    }

    private static func listen(_ address: ListenAddress) throws(UsageError) -> (SocketDescriptor, ListenAddress) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(address.host, String(address.port), &hints, &found)
        guard resolved == 0 else {
            throw UsageError("--metrics-addr \(address): cannot resolve '\(address.host)': \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(found) }
        var failure = EADDRNOTAVAIL
        var candidate = found
        while let info = candidate?.pointee {
            candidate = info.ai_next
            let socket = SocketDescriptor(Glibc.socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol))
            guard socket.fd >= 0 else {
                failure = errno
                continue
            }
            var on: Int32 = 1
            setsockopt(socket.fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            guard bind(socket.fd, info.ai_addr, info.ai_addrlen) == 0, Glibc.listen(socket.fd, 64) == 0 else {
                failure = errno
                continue
            }
            return (socket, ListenAddress(host: address.host, port: boundPort(socket.fd) ?? address.port))
        }
        throw UsageError("--metrics-addr \(address): cannot listen: \(String(cString: strerror(failure)))")
    }

    /// The port the kernel chose (for port 0).
    private static func boundPort(_ fd: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET: return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) } }
        case AF_INET6: return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) } }
        default: return nil
        }
    }

    private func acceptLoop() {
        defer {
            listener.close()
            acceptLoopEnded.signal()
        }
        while !stopping.load(ordering: .relaxed) {
            var ready = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            // accept4 is not in Swift's Glibc module: mark it close-on-exec right away.
            let fd = accept(listener.fd, nil, nil)
            if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            guard fd >= 0 else {
                // A client that gave up (ECONNABORTED) is nothing; anything else, out of descriptors
                // above all, would make poll spin: pause instead.
                if errno != EINTR && errno != ECONNABORTED && errno != EAGAIN { Thread.sleep(forTimeInterval: 0.1) }
                continue
            }
            let connection = SocketDescriptor(fd)
            guard connections.add(1, ordering: .relaxed).newValue <= limits.maxConnections else {
                connections.subtract(1, ordering: .relaxed)
                connection.close()
                continue
            }
            let worker = Thread { [self] in
                serve(connection)
                connections.subtract(1, ordering: .relaxed)
            }
            worker.name = "metrics-connection"
            worker.start()
        }
    }

    /// Answers one request on `connection`, then closes it.
    private func serve(_ connection: SocketDescriptor) {
        defer { connection.close() }
        let deadline = Date().addingTimeInterval(limits.requestSeconds)
        var sendTimeout = timeval(tv_sec: Int(limits.requestSeconds.rounded(.up)), tv_usec: 0)
        setsockopt(connection.fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var head = false
        let reply: HTTPReply
        switch readHead(connection.fd, deadline: deadline) {
        case .closed:
            return
        case .tooLarge:
            reply = .text(431, "request head larger than \(limits.maxRequestBytes) bytes\n")
        case .timedOut:
            reply = .text(408, "request not received within \(DurationText.describe(limits.requestSeconds))\n")
        case .received(let bytes):
            let request = HTTPRequestLine(bytes)
            head = request?.method == "HEAD"
            reply = answer(request)
        }
        send(reply, headOnly: head, to: connection.fd)
        lingeringClose(connection.fd)
    }

    private func answer(_ request: HTTPRequestLine?) -> HTTPReply {
        guard let request else { return .text(400, "malformed request line\n") }
        guard request.method == "GET" || request.method == "HEAD" else {
            var reply = HTTPReply.text(405, "only GET and HEAD are served\n")
            reply.headers.append(("Allow", "GET, HEAD"))
            return reply
        }
        return route(request.path)
    }

    private enum HeadRead {
        case received([UInt8])
        case tooLarge, timedOut, closed
    }

    /// Reads until the blank line that ends a request head, within the size and time bounds.
    private func readHead(_ fd: Int32, deadline: Date) -> HeadRead {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if HTTPRequestLine.headEnd(in: buffer) != nil { return .received(buffer) }
            if buffer.count > limits.maxRequestBytes { return .tooLarge }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return .timedOut }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, Int32(max(1, min(left * 1000, 1000))))
            if polled < 0 && errno != EINTR { return .closed }
            guard polled > 0 else { continue }
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received < 0 && errno == EINTR { continue }
            guard received > 0 else { return .closed }
            buffer.append(contentsOf: chunk[..<received])
        }
    }

    private func send(_ reply: HTTPReply, headOnly: Bool, to fd: Int32) {
        let body = Array(reply.body.utf8)
        var head = "HTTP/1.1 \(reply.status) \(HTTPReply.reason(reply.status))\r\n"
        head += "Content-Type: \(reply.contentType)\r\nContent-Length: \(body.count)\r\n"
        head += "Cache-Control: no-store\r\nConnection: close\r\n"
        for (name, value) in reply.headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !headOnly { bytes += body }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Closes our side, then reads (and drops) what the client still sends for a moment, so an
    /// answer to a request we did not read whole is not destroyed by a reset.
    private func lingeringClose(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
        let until = Date().addingTimeInterval(0.5)
        var drained = 0
        var chunk = [UInt8](repeating: 0, count: 4096)
        while drained < 256 * 1024 {
            let left = until.timeIntervalSinceNow
            guard left > 0 else { return }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, Int32(max(1, left * 1000))) > 0 else { return }
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { return }
            drained += received
        }
    }
}

/// The first line of a request head: `GET /metrics?x=1 HTTP/1.1`.
struct HTTPRequestLine: Equatable {
    var method: String
    /// The target without its query string.
    var path: String

    /// Nil when the line is not `METHOD SP TARGET SP HTTP/1.x`.
    init?(_ head: [UInt8]) {
        let end = head.firstIndex(of: UInt8(ascii: "\n")) ?? head.count
        var line = head[..<end]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, let method = String(bytes: parts[0], encoding: .ascii),
              let target = String(bytes: parts[1], encoding: .ascii), let version = String(bytes: parts[2], encoding: .ascii),
              !method.isEmpty, method.allSatisfy({ $0.isLetter && $0.isUppercase }),
              target.hasPrefix("/"), version.hasPrefix("HTTP/1.")
        else { return nil }
        self.method = method
        self.path = String(target.prefix { $0 != "?" && $0 != "#" })
    }

    /// Where the head ends (the blank line, CRLF or bare LF), if it has arrived.
    static func headEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in 1..<bytes.count where bytes[index] == 10 {
            if bytes[index - 1] == 10 { return index }
            if index >= 3, bytes[index - 1] == 13, bytes[index - 2] == 10 { return index }
        }
        return nil
    }
}
