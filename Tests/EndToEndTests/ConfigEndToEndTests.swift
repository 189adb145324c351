import FakeServers
import Foundation
@testable import Store
import XCTest

/// The config file, `config show`, precedence, and log output (levels, JSON, colour).
final class ConfigEndToEndTests: EndToEndCase {
    var catalogURL: String { "file:" + EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog").path }

    func setting(_ result: CommandResult, _ name: String) -> JSONValue? {
        result.json?["settings"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    func testAConfigFileAloneIsEnoughToSync() throws {
        let folder = directory.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("mirrorctl.yaml").path
        try Data("""
            backstage:
              url: \(catalogURL)
              pageSize: 50
            db: data/mirror.db          # relative to this file
            kinds: [Component, Group]
            watch:
              interval: 90s
            log:
              level: warn
            """.utf8).write(to: URL(fileURLWithPath: config))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        environment = ["PATH": "/usr/bin:/bin"]
        let sync = try mirrorctl(["sync", "--config", config, "--json"])
        assertStatus(sync, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/mirror.db").path))
        let runs = try mirrorctl(["runs", "--json"], env: ["MIRROR_CONFIG": config])
        assertStatus(runs, 0)
        XCTAssertEqual(runs.json?.arrayValue?.first?["kinds"], ["Component", "Group"])
        assertStatus(try mirrorctl(["status"], env: ["MIRROR_CONFIG": config]), 0)
    }

    func testPrecedenceIsFlagsThenEnvThenFileThenDefaultsAndConfigShowSaysWhere() throws {
        let config = try writeFile("mirrorctl.yaml", """
            backstage:
              url: http://from-file.example:7007
              pageSize: 123
            port:
              url: https://port-from-file.example
              clientId: file-client
              clientSecret: file-secret-value
            concurrency: 7
            watch:
              interval: 2m
            """)
        environment.removeValue(forKey: "MIRROR_DB")
        let shown = try mirrorctl(["config", "show", "--config", config, "--page-size", "9", "--json"],
                                  env: ["BACKSTAGE_URL": "http://from-env.example", "MIRROR_WATCH_INTERVAL": "45s"])
        assertStatus(shown, 0)
        XCTAssertEqual(setting(shown, "backstage.url")?["value"], "http://from-env.example")
        XCTAssertEqual(setting(shown, "backstage.url")?["source"], "env BACKSTAGE_URL")
        XCTAssertEqual(setting(shown, "backstage.pageSize")?["value"], 9)
        XCTAssertEqual(setting(shown, "backstage.pageSize")?["source"], "flag --page-size")
        XCTAssertEqual(setting(shown, "watch.interval")?["value"], "45s")
        XCTAssertEqual(setting(shown, "port.url")?["value"], "https://port-from-file.example")
        XCTAssertEqual(setting(shown, "port.url")?["source"], .string("file \(config):5"))
        XCTAssertEqual(setting(shown, "concurrency")?["value"], 7)
        XCTAssertEqual(setting(shown, "db")?["value"], "./mirror.db")
        XCTAssertEqual(setting(shown, "db")?["source"], "default")
        XCTAssertEqual(setting(shown, "port.clientSecret")?["value"], "***")
        XCTAssertFalse(shown.stdout.contains("file-secret-value"))
        XCTAssertFalse(shown.stdout.contains("file-client"))

        let human = try mirrorctl(["config", "show", "--config", config], env: ["PORT_CLIENT_SECRET": "env-secret-value",
                                                                                 "PORT_CLIENT_ID": "env-client"])
        assertStatus(human, 0)
        XCTAssertTrue(human.stdout.contains("port.clientSecret"), human.stdout)
        XCTAssertTrue(human.stdout.contains("env PORT_CLIENT_SECRET"), human.stdout)
        XCTAssertFalse(human.stdout.contains("env-secret-value") || human.stderr.contains("env-secret-value"))
    }

    func testSecretFilesInTheConfigAreRead() throws {
        _ = try writeFile("port-secret", "secret-from-a-file\n")
        _ = try writeFile("port-id", "id-from-a-file\n")
        let port = try FakePort.start(clientId: "id-from-a-file", clientSecret: "secret-from-a-file")
        defer { port.stop() }
        port.createPermissiveBlueprints(["component", "group", "user", "system", "domain", "api", "resource"])
        let config = try writeFile("mirrorctl.yaml", """
            backstage: {url: "\(catalogURL)"}
            port: {url: "\(port.baseURL)", clientIdFile: port-id, clientSecretFile: port-secret}
            """)
        let sync = try mirrorctl(["sync", "--config", config, "--json"])
        assertStatus(sync, 0)
        XCTAssertGreaterThan(sync.json?[path: ["port", "upserted"]]?.numberValue ?? 0, 0)
        let store = try MirrorStore(path: databasePath, readOnly: true)
        let dump = try store.db.rows("SELECT source, coalesce(port, '') FROM runs").map { "\($0.string(0) ?? "") \($0.string(1) ?? "")" }
        XCTAssertFalse(dump.joined().contains("secret-from-a-file"))
    }

    func testBadConfigFilesAreClearUsageErrors() throws {
        let unknown = try writeFile("unknown.yaml", "backstage:\n  url: http://x\n  tokn: abc\n")
        let result = try mirrorctl(["sync", "--config", unknown])
        assertStatus(result, 2)
        XCTAssertTrue(result.stderr.contains("unknown.yaml:3"), result.stderr)
        XCTAssertTrue(result.stderr.contains("backstage.tokn"), result.stderr)
        XCTAssertFalse(result.stderr.contains("abc"))

        let wrongType = try writeFile("type.yaml", "concurrency: many\n")
        let typed = try mirrorctl(["runs", "--config", wrongType])
        assertStatus(typed, 2)
        XCTAssertTrue(typed.stderr.contains("type.yaml:1") && typed.stderr.contains("concurrency"), typed.stderr)

        let missing = try mirrorctl(["status"], env: ["MIRROR_CONFIG": directory.appendingPathComponent("nope.yaml").path])
        assertStatus(missing, 2)
        XCTAssertTrue(missing.stderr.contains("nope.yaml"), missing.stderr)
        let syntax = try writeFile("syntax.yaml", "backstage: [unclosed\n")
        assertStatus(try mirrorctl(["status", "--config", syntax]), 2)
    }

    func testJSONLogsAreOneObjectPerLineAndLevelsFilter() throws {
        // An empty blueprint drops every component, with a warning each.
        let mapping = try writeComponentMapping("mapping.yaml", mappings: """
            identifier: .metadata.identifier
            blueprint: .spec.nothing
            """)
        let json = try mirrorctl(["sync", "--backstage-url", catalogURL, "--mapping", mapping, "--log-format", "json"])
        assertStatus(json, 0)
        let lines = json.stderr.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 0)
        for line in lines {
            let object = try XCTUnwrap(try? CanonicalJSON.parse(String(line)), "not JSON: \(line)")
            for key in ["time", "level", "run", "event", "fields", "message"] { XCTAssertNotNil(object[key], "\(key) in \(line)") }
        }
        let warnings = lines.compactMap { try? CanonicalJSON.parse(String($0)) }.filter { $0["level"] == "warn" }
        XCTAssertGreaterThan(warnings.count, 0)
        XCTAssertTrue(warnings.allSatisfy { $0["run"] == 1 }, "warnings carry the run: \(warnings)")

        let quiet = try mirrorctl(["sync", "--backstage-url", catalogURL, "--mapping", mapping, "--log-level", "error"],
                                  env: ["MIRROR_DB": directory.appendingPathComponent("other.db").path])
        assertStatus(quiet, 0)
        XCTAssertFalse(quiet.stderr.contains("warning"), quiet.stderr)
        let bad = try mirrorctl(["runs", "--log-level", "loud"])
        assertStatus(bad, 2)
        XCTAssertTrue(bad.stderr.contains("--log-level"), bad.stderr)
        // Errors are log lines too.
        let failing = try mirrorctl(["show", "component:default/nope", "--log-format=json"])
        XCTAssertEqual(try CanonicalJSON.parse(failing.stderr.trimmingCharacters(in: .whitespacesAndNewlines))["level"], "error")
        // No terminal here, so never colour, NO_COLOR or not.
        XCTAssertFalse(json.stderr.contains("\u{1B}["))
    }

    func testHelpListsTheNewCommandsAndGlobalOptions() throws {
        let help = try mirrorctl(["--help"])
        assertStatus(help, 0)
        for word in ["watch", "status", "mapping", "config", "--log-format", "--no-color", "--config"] {
            XCTAssertTrue(help.stdout.contains(word), word)
        }
        assertStatus(try mirrorctl(["config", "frob"]), 2)
    }
}
