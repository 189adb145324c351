import FakeServers
import Foundation
import XCTest

/// The loopback HTTP server: protocol details libcurl relies on, faults, and clean shutdown.
final class HTTPServerTests: XCTestCase {
    /// Answers with a JSON echo of what it received.
    private static let echo: HTTPServer.Handler = { request in
        let object: [String: Any] = [
            "method": request.method,
            "path": request.path,
            "query": request.query.map { [$0.name, $0.value] },
            "body": String(decoding: request.body, as: UTF8.self),
        ]
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
    }

    func testKeepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try HTTPServer(handler: Self.echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        for index in 0..<5 {
            let response = try client.request("GET", "/ping/\(index)")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.headers["connection"], "keep-alive")
            XCTAssertEqual(response.headers["content-length"], String(response.body.count))
            XCTAssertEqual(try response.object()["path"] as? String, "/ping/\(index)")
        }
        XCTAssertEqual(server.acceptedConnectionCount, 1)
    }

    func testCurlReusesTheConnectionAcrossRequests() throws {
        let server = try HTTPServer(handler: Self.echo)
        defer { server.stop() }
        let result = try Curl.run(["-s", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                                   "\(server.baseURL)/a", "\(server.baseURL)/b", "\(server.baseURL)/c"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(server.acceptedConnectionCount, 1)
    }

    func testQueryIsDecodedAndPathKeptRaw() throws {
        let server = try HTTPServer(handler: Self.echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let response = try client.request("GET", "/a%2Fb/c%20d?x=1+2&x=%41%3d&flag&filter=kind%3Dcomponent,spec.type=x")
        let object = try response.object()
        XCTAssertEqual(object["path"] as? String, "/a%2Fb/c%20d")
        let query = try XCTUnwrap(object["query"] as? [[String]])
        XCTAssertEqual(query, [["x", "1 2"], ["x", "A="], ["flag", ""], ["filter", "kind=component,spec.type=x"]])
        XCTAssertEqual(QueryString.percentDecode("a+b%2"), "a+b%2")
    }

    func testContentLengthBodyAfterExpectContinue() throws {
        let server = try HTTPServer(handler: Self.echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let body = String(repeating: "x", count: 5000)
        try client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertTrue(try client.readHead().hasPrefix("HTTP/1.1 100 Continue"))
        try client.send(body)
        let response = try client.readResponse()
        XCTAssertEqual(try response.object()["body"] as? String, body)

        // Chunked bodies work too.
        try client.send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().object()["body"] as? String, "abcdefg")
    }

    func testCurlPostsWithExpectContinue() throws {
        let server = try HTTPServer { request in HTTPResponse(status: 200, body: Data("\(request.body.count)".utf8)) }
        defer { server.stop() }
        let payload = Data(repeating: UInt8(ascii: "y"), count: 2_000_000)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fake-post-\(UUID().uuidString)")
        try payload.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Curl.run(["-sv", "-H", "Expect: 100-continue", "--data-binary", "@\(file.path)", "\(server.baseURL)/big"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "2000000")
        XCTAssertTrue(result.stderr.contains("HTTP/1.1 100 Continue"), result.stderr)
        XCTAssertFalse(result.stderr.contains("Done waiting for 100-continue"), "curl timed out waiting for 100 Continue")
    }

    func testFaultsBreakTheWire() throws {
        let server = try HTTPServer { request in
            let body = Data(repeating: UInt8(ascii: "z"), count: 1000)
            switch request.path {
            case "/truncate": return HTTPResponse(status: 200, body: body, fault: .truncateBody(bytes: 100))
            case "/close": return HTTPResponse(status: 200, body: body, fault: .closeConnection)
            case "/delay": return HTTPResponse(status: 200, body: body, fault: .delay(seconds: 0.3))
            default: return HTTPResponse(status: 200, body: body)
            }
        }
        defer { server.stop() }

        let truncated = try RawHTTPClient(port: server.port).request("GET", "/truncate")
        XCTAssertEqual(truncated.headers["content-length"], "1000")
        XCTAssertEqual(truncated.body.count, 100)
        XCTAssertFalse(truncated.complete)

        XCTAssertThrowsError(try RawHTTPClient(port: server.port).request("GET", "/close"))

        let started = Date()
        let delayed = try RawHTTPClient(port: server.port).request("GET", "/delay")
        XCTAssertEqual(delayed.body.count, 1000)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.29)

        let curl = try Curl.run(["-s", "-o", "/dev/null", "\(server.baseURL)/truncate"])
        XCTAssertEqual(curl.status, 18, "curl reports a partial file")
    }

    func testStopClosesConnectionsAndReleasesThePort() throws {
        let server = try HTTPServer(handler: Self.echo)
        let port = server.port
        let client = try RawHTTPClient(port: port)
        XCTAssertEqual(try client.request("GET", "/").status, 200)
        let delayed = try RawHTTPClient(port: port)
        let started = Date()
        server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.0)
        XCTAssertTrue(client.isClosedByPeer())
        XCTAssertTrue(delayed.isClosedByPeer())
        XCTAssertEqual(server.openConnectionCount, 0)
        XCTAssertThrowsError(try RawHTTPClient(port: port, timeoutSeconds: 1).request("GET", "/"))

        let again = try HTTPServer(port: port, handler: Self.echo)
        defer { again.stop() }
        XCTAssertEqual(again.port, port)
        XCTAssertEqual(try RawHTTPClient(port: port).request("GET", "/x").status, 200)
    }

    func testStopIsPromptWhileAResponseIsDelayed() throws {
        let server = try HTTPServer { _ in HTTPResponse(status: 200, fault: .delay(seconds: 30)) }
        let client = try RawHTTPClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.1)
        let started = Date()
        server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.0)
        XCTAssertTrue(client.isClosedByPeer())
    }

    func testManyServersStartAndStop() throws {
        for _ in 0..<50 {
            let server = try HTTPServer(handler: Self.echo)
            XCTAssertEqual(try RawHTTPClient(port: server.port).request("GET", "/").status, 200)
            server.stop()
        }
    }

    func testLargeBodiesStreamQuickly() throws {
        let body = Data(repeating: UInt8(ascii: "j"), count: 64 * 1024 * 1024)
        let server = try HTTPServer { _ in HTTPResponse(status: 200, body: body) }
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let started = Date()
        for _ in 0..<3 {
            let response = try client.request("GET", "/big")
            XCTAssertEqual(response.body.count, body.count)
        }
        let seconds = Date().timeIntervalSince(started)
        print("HTTPServer: \(Int(Double(3 * body.count) / seconds / 1_000_000)) MB/s to a raw client (debug build)")
    }
}
