import FakeServers
import Fetch
import Foundation
import XCTest

/// Credentials stay with the host they were meant for, and libcurl never prints them.
final class TransportSecurityTests: XCTestCase {
    /// What a loopback server saw: each path with the Authorization header it carried, if any.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [(path: String, authorization: String?)] = []

        func add(_ request: HTTPRequest) {
            lock.lock()
            entries.append((request.path, request.headers["authorization"]))
            lock.unlock()
        }

        func authorization(of path: String) -> String?? {
            lock.lock()
            defer { lock.unlock() }
            return entries.last { $0.path == path }.map(\.authorization)
        }
    }

    func testRedirectsCarryTheAuthorizationHeaderOnlyToTheSameHostAndPort() throws {
        let elsewhere = Seen()
        let target = try HTTPServer { request in
            elsewhere.add(request)
            return HTTPResponse(status: 200, body: Data(#"{"where":"elsewhere"}"#.utf8))
        }
        defer { target.stop() }
        let here = Seen()
        let port = target.port
        let origin = try HTTPServer { request in
            here.add(request)
            switch request.path {
            case "/same-host": return HTTPResponse(status: 302, headers: [("Location", "/landing")])
            // curl treats 127.0.0.1 and localhost as different hosts, and another port as another origin.
            case "/other-host": return HTTPResponse(status: 302, headers: [("Location", "http://localhost:\(port)/from-other-host")])
            case "/other-port": return HTTPResponse(status: 302, headers: [("Location", "http://127.0.0.1:\(port)/from-other-port")])
            default: return HTTPResponse(status: 200, body: Data(#"{"where":"here"}"#.utf8))
            }
        }
        defer { origin.stop() }
        let connection = try HTTPConnection()
        let secret = "Bearer do-not-forward-me"
        for path in ["/same-host", "/other-host", "/other-port"] {
            let response = try connection.send(HTTPRequestSpec(url: origin.baseURL + path, headers: [("Authorization", secret)]))
            XCTAssertEqual(response.status, 200, path)
            XCTAssertEqual(here.authorization(of: path), .some(secret), "the original request carries it")
        }
        // The control: a redirect within the same host and port keeps the header, so the
        // assertions below can fail.
        XCTAssertEqual(here.authorization(of: "/landing"), .some(secret))
        XCTAssertEqual(elsewhere.authorization(of: "/from-other-host"), .some(nil), "followed, without the header")
        XCTAssertEqual(elsewhere.authorization(of: "/from-other-port"), .some(nil), "followed, without the header")
    }

    func testNothingEverTurnsOnLibcurlsVerboseOutput() throws {
        // CURLOPT_VERBOSE and a debug callback would print request headers (tokens) to stderr.
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        XCTAssertFalse(files.isEmpty)
        var uses: [String] = []
        for file in files {
            let text = try String(contentsOfFile: sources.appendingPathComponent(file).path, encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("CURLOPT_VERBOSE") || line.contains("CURLOPT_DEBUG") {
                uses.append("\(file): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        XCTAssertEqual(uses, ["Fetch/HTTP/HTTPConnection.swift: try check(ccurl_setopt_long(handle, CURLOPT_VERBOSE, 0))"])
    }
}
