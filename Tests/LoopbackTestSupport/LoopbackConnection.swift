import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to 127.0.0.1, for tests that must see exactly what goes over the
/// wire (the fakes' HTTP server, the watcher's metrics server). It owns its socket and closes it
/// when released, so a test never leaks or double-closes a descriptor.
public final class LoopbackConnection {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// What one receive gave: bytes, the peer's close (end of stream), a reset (a connection still
    /// in a listen backlog when the listener closes gets one), or another error such as the
    /// receive timeout.
    public enum Received: Equatable {
        case data([UInt8])
        case closed
        case reset
        case failed(errno: Int32)
    }

    private let fd: Int32

    /// Connects to 127.0.0.1:`port`; a receive waits at most `receiveTimeoutSeconds`.
    public init(port: UInt16, receiveTimeoutSeconds: Int) throws(Failure) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let failure = errno
            close(fd)
            throw Failure("connect to 127.0.0.1:\(port): errno \(failure)")
        }
    }

    deinit { close(fd) }

    /// Sends `bytes` in order and returns how many went out: fewer than all when the peer stopped
    /// reading (a server may answer and close before a large request is all sent).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Int {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { break }
            offset += sent
        }
        return offset
    }

    /// One receive of at most `limit` bytes.
    public func receive(upTo limit: Int) -> Received {
        var chunk = [UInt8](repeating: 0, count: limit)
        let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if received > 0 { return .data(Array(chunk[..<received])) }
        if received == 0 { return .closed }
        let failure = errno
        return failure == ECONNRESET ? .reset : .failed(errno: failure)
    }
}

/// The status and headers of an HTTP/1.1 response head (the text before the blank line).
public struct ResponseHead {
    public var status: Int
    /// Lower-cased names, values without surrounding spaces.
    public var headers: [String: String]

    /// Nil when the status line is not `HTTP/1.1 <number> …`.
    public init?(_ head: Substring) {
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else { return nil }
        self.status = status
        headers = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
}
