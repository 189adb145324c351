import FakeServers
import Fetch
import Foundation
import Store
import XCTest

/// Secrets (the Backstage token, the Port client secret, Port's access token) never reach output,
/// logs, errors or the database file, whatever the run does; TLS verification is only ever turned
/// off by an explicit, loudly announced `--insecure`.
final class SecretsEndToEndTests: EndToEndCase {
    var backstage: FakeBackstage!
    var port: FakePort!
    let backstageToken = "bs-token-\(UUID().uuidString)"
    let clientId = "client-\(UUID().uuidString)"
    let clientSecret = "port-secret-\(UUID().uuidString)"
    let wrongToken = "wrong-bs-token-\(UUID().uuidString)"
    let wrongSecret = "wrong-port-secret-\(UUID().uuidString)"
    var outputs: [(String, CommandResult)] = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        backstage = try FakeBackstage(configuration: FakeBackstage.Configuration(tokens: [backstageToken]),
                                      entities: FakeBackstage.generateCatalog(count: 80, seed: 5))
        port = try FakePort.start(clientId: clientId, clientSecret: clientSecret)
        environment["BACKSTAGE_URL"] = backstage.baseURL
        environment["PORT_BASE_URL"] = port.baseURL
        // Every secret from a *_FILE, as a container would mount them.
        environment["BACKSTAGE_TOKEN_FILE"] = try writeFile("secrets-backstage-token", backstageToken + "\n")
        environment["PORT_CLIENT_ID_FILE"] = try writeFile("secrets-port-client-id", clientId + "\n")
        environment["PORT_CLIENT_SECRET_FILE"] = try writeFile("secrets-port-client-secret", clientSecret)
    }

    override func tearDownWithError() throws {
        backstage.stop()
        port.stop()
        try super.tearDownWithError()
    }

    @discardableResult
    func run(_ arguments: [String], env: [String: String] = [:]) throws -> CommandResult {
        let result = try mirrorctl(arguments, env: env)
        outputs.append((arguments.joined(separator: " "), result))
        return result
    }

    func editOneComponent(_ text: String) throws {
        guard case .object(var entity) = backstage.allEntities.first(where: { $0["kind"] == "Component" }),
              case .object(var metadata) = entity["metadata"] else { return XCTFail("no component") }
        metadata["description"] = .string(text)
        entity["metadata"] = .object(metadata)
        try backstage.upsert(.object(entity))
    }

    /// Port's access token for our client. The fake keeps one active token per client until it
    /// expires (3 h), so this is the token every mirrorctl run above was given.
    func portAccessToken() throws -> String {
        let connection = try HTTPConnection()
        let body = CanonicalJSON.bytes(["clientId": .string(clientId), "clientSecret": .string(clientSecret)])
        let response = try connection.send(HTTPRequestSpec(method: "POST", url: port.baseURL + "/v1/auth/access_token", body: body))
        return try XCTUnwrap(try CanonicalJSON.parse(response.body)["accessToken"]?.stringValue)
    }

    func testNoSecretReachesOutputLogsErrorsOrTheDatabase() throws {
        assertStatus(try run(["blueprints", "apply"]), 0)
        let first = try run(["sync", "--json"])
        assertStatus(first, 0)
        XCTAssertGreaterThan(first.json?[path: ["port", "upserted"]]?.numberValue ?? 0, 0, "credentials from *_FILE work")
        let ref = try XCTUnwrap(backstage.allEntities.first { $0["kind"] == "Component" }.flatMap(EntityRef.init(entity:)))
        try editOneComponent("changed once")
        assertStatus(try run(["diff", "--json"]), 0)
        assertStatus(try run(["sync", "--log-level", "debug", "--log-format", "json", "--json"]), 0)
        assertStatus(try run(["runs", "--json"]), 0)
        assertStatus(try run(["history", ref.description]), 0)
        assertStatus(try run(["show", ref.description, "--json"]), 0)
        try run(["status", "--json"])
        try run(["config", "show"])
        for command in ["sync", "diff", "blueprints", "prune", "init"] {
            let help = try run([command, "--help"], env: ["BACKSTAGE_TOKEN": backstageToken, "PORT_CLIENT_SECRET": clientSecret])
            assertStatus(help, 0)
        }

        // Failing runs: Backstage refuses a wrong token (401); Port refuses a wrong secret.
        let refused = try run(["sync", "--log-level", "debug", "--json"], env: ["BACKSTAGE_TOKEN": wrongToken])
        assertStatus(refused, 1)
        XCTAssertTrue(refused.stderr.contains("401"), refused.stderr)
        try editOneComponent("changed twice")
        let portRefused = try run(["sync", "--log-level", "debug", "--json"], env: ["PORT_CLIENT_SECRET": wrongSecret])
        XCTAssertNotNil(portRefused.json?[path: ["port", "error"]], "Port refused the wrong secret: \(portRefused.stdout)")
        XCTAssertTrue(portRefused.stdout.contains("401") || portRefused.stderr.contains("401"), portRefused.stderr)

        let accessToken = try portAccessToken()
        XCTAssertGreaterThan(accessToken.count, 20)
        let secrets = ["Backstage token": backstageToken, "wrong Backstage token": wrongToken, "Port client secret": clientSecret,
                       "wrong Port client secret": wrongSecret, "Port access token": accessToken]
        for (command, result) in outputs {
            for (name, secret) in secrets {
                XCTAssertFalse(result.stdout.contains(secret), "\(name) on stdout of '\(command)'")
                XCTAssertFalse(result.stderr.contains(secret), "\(name) on stderr of '\(command)'")
            }
        }
        // Every file the runs left behind, the database and its WAL included (but not our inputs).
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix("secrets-") }
        XCTAssertTrue(files.contains("mirror.db"))
        for file in files {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(file))
            for (name, secret) in secrets {
                XCTAssertNil(bytes.range(of: Data(secret.utf8)), "\(name) in \(file)")
            }
        }
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: databasePath)[.posixPermissions] as? Int)
        XCTAssertEqual(mode, 0o600)
    }

    func testCredentialsInAURLAreRefused() throws {
        let url = backstage.baseURL.replacingOccurrences(of: "http://", with: "http://admin:\(backstageToken)@")
        let result = try mirrorctl(["sync", "--backstage-url", url])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("must not contain credentials"), result.stderr)
        XCTAssertFalse(result.stderr.contains(backstageToken))
        XCTAssertFalse(FileManager.default.fileExists(atPath: databasePath), "refused before anything was written")
    }

    /// A TLS server with a self-signed certificate (`openssl s_server -www`), on a free port.
    func startSelfSignedServer() throws -> (process: Process, url: String) {
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else { throw XCTSkip("no openssl at \(openssl)") }
        let key = directory.appendingPathComponent("tls-key.pem").path
        let cert = directory.appendingPathComponent("tls-cert.pem").path
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: openssl)
        generate.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                              "-subj", "/CN=127.0.0.1"]
        generate.standardOutput = FileHandle.nullDevice
        generate.standardError = FileHandle.nullDevice
        try generate.run()
        generate.waitUntilExit()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: openssl)
        server.arguments = ["s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key, "-www"]
        let log = directory.appendingPathComponent("tls-server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        server.standardOutput = try FileHandle(forWritingTo: log)
        server.standardError = FileHandle.nullDevice
        try server.run()
        var port: Substring?
        let deadline = Date().addingTimeInterval(10)
        while port == nil, Date() < deadline, server.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first { $0.hasPrefix("ACCEPT") }?.split(separator: ":").last
            if port == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let port else {
            server.terminate()
            throw XCTSkip("openssl s_server did not start")
        }
        return (server, "https://127.0.0.1:\(port)")
    }

    func testTLSVerificationIsOffOnlyWithAnAnnouncedInsecureFlag() throws {
        let (server, url) = try startSelfSignedServer()
        defer { server.terminate() }
        let verified = try mirrorctl(["sync", "--kind", "group", "--backstage-url", url, "--max-retries", "0"],
                                     env: ["MIRROR_INSECURE": "1", "CURL_INSECURE": "1"])
        assertStatus(verified, 1)
        XCTAssertTrue(verified.stderr.contains("certificate"), "no environment variable turns verification off: \(verified.stderr)")
        XCTAssertFalse(verified.stderr.contains("NOT verified"))

        let insecure = try mirrorctl(["sync", "--kind", "group", "--backstage-url", url, "--max-retries", "0", "--insecure"])
        assertStatus(insecure, 1)
        XCTAssertTrue(insecure.stderr.contains("warning: --insecure: TLS certificates and host names are NOT verified"), insecure.stderr)
        XCTAssertFalse(insecure.stderr.contains("certificate problem"), "the TLS handshake passed: \(insecure.stderr)")
        XCTAssertTrue(insecure.stderr.contains("invalid page"), "s_server's HTML status page is no catalog page: \(insecure.stderr)")

        for arguments in [["diff", "--kind", "group"], ["blueprints", "apply"]] {
            let result = try mirrorctl(arguments + ["--insecure"], env: ["PORT_CLIENT_ID": clientId, "PORT_CLIENT_SECRET": clientSecret])
            XCTAssertTrue(result.stderr.contains("warning: --insecure"), "\(arguments): \(result.stderr)")
        }
    }
}
