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

    func testRedirectsAreFollowedOnlyWithinTheOriginAndPortPOSTsFollowNone() throws {
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
            case "/post-here": return HTTPResponse(status: 307, headers: [("Location", "/landing")])
            // 127.0.0.1 and localhost are different hosts, and another port is another origin.
            case "/other-host": return HTTPResponse(status: 302, headers: [("Location", "http://localhost:\(port)/from-other-host?token=x")])
            case "/other-port": return HTTPResponse(status: 307, headers: [("Location", "http://127.0.0.1:\(port)/from-other-port")])
            default: return HTTPResponse(status: 200, body: Data(#"{"where":"here"}"#.utf8))
            }
        }
        defer { origin.stop() }
        let connection = try HTTPConnection()
        let secret = "Bearer do-not-forward-me"
        // The control: a redirect within the same origin is followed, header and all.
        let same = try connection.send(HTTPRequestSpec(url: origin.baseURL + "/same-host", headers: [("Authorization", secret)]))
        XCTAssertEqual(same.status, 200)
        XCTAssertEqual(here.authorization(of: "/landing"), .some(secret))

        for (path, method) in [("/other-host", "GET"), ("/other-port", "POST")] {
            XCTAssertThrowsError(try connection.send(HTTPRequestSpec(method: method, url: origin.baseURL + path, headers: [("Authorization", secret)],
                                                                     body: method == "POST" ? Array("{}".utf8) : nil))) { error in
                let failure = error as? TransportError
                XCTAssertEqual(failure?.kind, .redirectRefused, path)
                XCTAssertEqual(failure?.isRetryable, false)
                XCTAssertTrue(failure?.description.hasPrefix(origin.baseURL + path) == true, "\(error)")
                XCTAssertTrue(failure?.description.contains("redirect to http://") == true, "\(error)")
                XCTAssertFalse(failure?.description.contains("token=x") == true, "no query string: \(error)")
            }
        }
        XCTAssertTrue(elsewhere.authorization(of: "/from-other-host") == nil, "nothing reached the other host")
        XCTAssertTrue(elsewhere.authorization(of: "/from-other-port") == nil, "nothing reached the other port")

        // A request that follows no redirect refuses even one within its origin.
        XCTAssertThrowsError(try connection.send(HTTPRequestSpec(method: "POST", url: origin.baseURL + "/post-here", body: Array("{}".utf8),
                                                                 redirects: .none)))
    }

    func testABodyOverTheLimitStopsTheTransferAndIsNotRetryable() throws {
        let server = try HTTPServer { _ in HTTPResponse(status: 200, body: Data(repeating: UInt8(ascii: " "), count: 300_000)) }
        defer { server.stop() }
        var options = TransportOptions()
        options.maxResponseBytes = 100_000
        XCTAssertThrowsError(try HTTPConnection(options: options).send(HTTPRequestSpec(url: server.baseURL + "/big"))) { error in
            XCTAssertEqual((error as? TransportError)?.kind, .tooLarge, "\(error)")
        }
        options.maxResponseBytes = 300_000
        XCTAssertEqual(try HTTPConnection(options: options).send(HTTPRequestSpec(url: server.baseURL + "/big")).body.count, 300_000)
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
