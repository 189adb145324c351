import Foundation

/// A request as the loopback fakes see it. Header names are lower-cased; `path` is the raw
/// (still percent-encoded) path without the query; `query` keeps repeated keys in order, decoded.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: [String: String]
    public var body: Data

    public init(method: String, path: String, query: [(name: String, value: String)], headers: [String: String], body: Data) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// All values of a query parameter, in order.
    public func queryValues(_ name: String) -> [String] { query.filter { $0.name == name }.map(\.value) }
    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }
}

/// A response from a fake. `fault` lets tests break the wire on purpose.
public struct HTTPResponse: Sendable {
    public enum Fault: Sendable {
        /// Send the headers (with the full Content-Length) and only `bytes` of the body, then close.
        case truncateBody(bytes: Int)
        /// Close the connection without answering.
        case closeConnection
        /// Wait before answering.
        case delay(seconds: Double)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Data
    public var fault: Fault?

    public init(status: Int, headers: [(String, String)] = [], body: Data = Data(), fault: Fault? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.fault = fault
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 for the fakes: an ephemeral port, keep-alive, one thread
/// per connection. Not a general server: enough of the protocol for libcurl and the tests.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    /// The threads capture the core, never the server, so dropping the last reference to an
    /// `HTTPServer` still stops it (see `deinit`).
    private let core: ServerCore

    /// Starts listening on 127.0.0.1 (`port` 0 picks a free one) and serving with `handler`.
    public init(port: UInt16 = 0, handler: @escaping Handler) throws {
        Signals.ignoreBrokenPipeOnce()
        let listener = try LoopbackListener(port: port)
        core = ServerCore(listener: listener, handler: handler)
        core.startAccepting()
    }

    deinit {
        core.stop()
    }

    /// The port actually bound.
    public var port: UInt16 { core.listener.port }

    /// `http://127.0.0.1:<port>`
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting and closes every open connection. Returns once the listener is closed
    /// (the port is free again) and the connection threads have finished, or after a few seconds
    /// if a handler is still busy. Safe to call more than once, and from a handler.
    public func stop() {
        core.stop()
    }

    /// How many connections are open right now (tests check keep-alive and cleanup with it).
    public var openConnectionCount: Int { core.openConnectionCount }

    /// How many connections were accepted since the start.
    public var acceptedConnectionCount: Int { core.acceptedConnectionCount }
}

/// Why a server could not start. `errno` is the C error of the failing call.
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32

    public var description: String { "\(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Shared state of one server: the listener, the open connections and the thread count that
/// `stop()` waits on. Every field is guarded by `condition`.
final class ServerCore: @unchecked Sendable {
    let listener: LoopbackListener
    let handler: HTTPServer.Handler

    private let condition = NSCondition()
    private var stopped = false
    private var connections: Set<Int32> = []
    private var runningThreads: Set<pthread_t> = []
    private var accepted = 0

    init(listener: LoopbackListener, handler: @escaping HTTPServer.Handler) {
        self.listener = listener
        self.handler = handler
    }

    var openConnectionCount: Int { condition.withLock { connections.count } }
    var acceptedConnectionCount: Int { condition.withLock { accepted } }
    var isStopped: Bool { condition.withLock { stopped } }

    func startAccepting() {
        spawn { core in core.acceptLoop() }
    }

    /// Runs `body` on a new thread that `stop()` waits for.
    private func spawn(_ body: @escaping @Sendable (ServerCore) -> Void) {
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            condition.withLock { _ = runningThreads.insert(pthread_self()) }
            ready.signal()
            body(self)
            condition.withLock {
                runningThreads.remove(pthread_self())
                condition.broadcast()
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
        // Registering before returning means stop() never misses a thread that is starting.
        ready.wait()
    }

    private func acceptLoop() {
        defer { listener.close() }
        while !isStopped {
            guard listener.waitReadable(milliseconds: 250) else { continue }
            guard let fd = listener.accept() else { continue }
            let admitted = condition.withLock { () -> Bool in
                if stopped { return false }
                connections.insert(fd)
                accepted += 1
                return true
            }
            guard admitted else {
                Glibc.close(fd)
                break
            }
            Sockets.setNoDelay(fd)
            spawn { core in
                var connection = HTTPConnection(fd: fd, core: core)
                connection.serve()
                core.forget(fd)
            }
        }
    }

    /// Removes a connection from the registry and closes it. Closing happens under the lock so that
    /// `stop()` can never shut down a descriptor number the kernel has already handed out again.
    fileprivate func forget(_ fd: Int32) {
        condition.withLock {
            connections.remove(fd)
            Glibc.close(fd)
        }
    }

    /// Waits up to `seconds`; returns false as soon as the server stops (used for delay faults).
    func sleep(seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: max(0, seconds))
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            if !condition.wait(until: deadline) { return !stopped }
        }
        return false
    }

    func stop() {
        let me = pthread_self()
        condition.lock()
        defer { condition.unlock() }
        if !stopped {
            stopped = true
            listener.shutdown()
            for fd in connections { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            condition.broadcast()
        }
        // A handler may call stop(); it must not wait for its own thread.
        let deadline = Date(timeIntervalSinceNow: 5)
        while !runningThreads.subtracting([me]).isEmpty {
            if !condition.wait(until: deadline) { break }
        }
    }
}
