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

    /// Starts listening on 127.0.0.1 (`port` 0 picks a free one) and serving with `handler`.
    public init(port: UInt16 = 0, handler: @escaping Handler) throws {
        fatalError("implemented by the FakeServers work")
    }

    /// The port actually bound.
    public var port: UInt16 { fatalError("implemented by the FakeServers work") }

    /// `http://127.0.0.1:<port>`
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting and closes every open connection.
    public func stop() { fatalError("implemented by the FakeServers work") }
}
