import FakeServers
import Foundation
import Store
import XCTest

/// `init` writes the documented config file from what it is given, and nothing made up; the help
/// and README promises fixed with it (`--config` default, `--wait --timeout`, `prune --json`
/// sizes, the blueprints summary, `sync --dry-run`).
final class InitEndToEndTests: EndToEndCase {
    /// Runs the binary with `folder` as its working directory.
    func mirrorctl(in folder: URL, _ arguments: [String], env extra: [String: String] = [:]) throws -> CommandResult {
        try run(EndToEndCase.binary.path, arguments, environment: environment.merging(extra) { _, new in new }, in: folder)
    }

    func folder(_ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func setting(_ result: CommandResult, _ name: String) -> JSONValue? {
        result.json?["settings"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    func testInitWritesTheConfigFileFromTheEnvironmentAndTheDefaultConfigIsRead() throws {
        let here = try folder("project")
        environment.removeValue(forKey: "MIRROR_DB")
        let catalog = EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog").path
        let secretFile = try writeFile("port-secret", "s3cr3t-value\n")
        // (--skip-blueprints: the tests reach no Port but the fake.)
        let result = try mirrorctl(in: here, ["init", "--skip-blueprints"], env: [
            "BACKSTAGE_URL": "file:\(catalog)", "PORT_BASE_URL": "https://api.us.getport.io",
            "PORT_CLIENT_ID": "id-from-env", "PORT_CLIENT_SECRET_FILE": secretFile,
            "PORT_INTEGRATION_ID": "mirror-eu",
        ])
        assertStatus(result, 0)
        XCTAssertTrue(result.stdout.contains("wrote ./mirrorctl.yaml"), result.stdout + result.stderr)
        let config = try String(contentsOf: here.appendingPathComponent("mirrorctl.yaml"), encoding: .utf8)
        XCTAssertTrue(config.contains("url: \"file:\(catalog)\""), config)
        XCTAssertTrue(config.contains("url: \"https://api.us.getport.io\""), config)
        XCTAssertTrue(config.contains("clientSecretFile: \"\(secretFile)\""), config)
        XCTAssertTrue(config.contains("integrationId: \"mirror-eu\""), config)
        XCTAssertFalse(config.contains("localhost"), "no made-up Backstage URL")
        XCTAssertFalse(config.contains("id-from-env") || config.contains("s3cr3t-value"), "secrets are never copied")
        XCTAssertTrue(config.contains("PORT_CLIENT_ID"), "names where the client id comes from")
        XCTAssertEqual(try String(contentsOf: here.appendingPathComponent("mapping.yaml"), encoding: .utf8),
                       try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("examples/mappings/builtin.yaml"), encoding: .utf8))

        // Every command reads ./mirrorctl.yaml when present, as --help says.
        // (The client id still comes from the environment; Port itself is not contacted here.)
        let later = ["PORT_CLIENT_ID": "id-from-env", "PORT_BASE_URL": "http://127.0.0.1:9"]
        let shown = try mirrorctl(in: here, ["config", "show", "--json"], env: later)
        assertStatus(shown, 0)
        XCTAssertEqual(setting(shown, "config")?["value"], "./mirrorctl.yaml")
        XCTAssertTrue(setting(shown, "config")?["source"]?.stringValue?.hasPrefix("default") == true)
        XCTAssertEqual(setting(shown, "backstage.url")?["value"]?.stringValue, "file:\(catalog)")
        XCTAssertTrue(setting(shown, "backstage.url")?["source"]?.stringValue?.hasPrefix("file ./mirrorctl.yaml:") == true)
        XCTAssertEqual(setting(shown, "port.integrationId")?["value"], "mirror-eu")
        // The written files work as they are: a diff from the examples catalog with the mapping.
        let diff = try mirrorctl(in: here, ["diff", "--json"], env: later)
        assertStatus(diff, 0)
        XCTAssertGreaterThan(diff.json?[path: ["source", "created"]]?.numberValue ?? 0, 0)
        // --config still wins over the default file.
        let other = try writeFile("other.yaml", "backstage:\n  url: http://other.example:7007\n")
        XCTAssertEqual(setting(try mirrorctl(in: here, ["--config", other, "config", "show", "--json"]), "backstage.url")?["value"],
                       "http://other.example:7007")
    }

    func testWithoutPortCredentialsInitWritesTheFilesAndSaysHowToApplyBlueprints() throws {
        let here = try folder("bare")
        let result = try mirrorctl(in: here, ["init"])
        assertStatus(result, 0)
        XCTAssertTrue(result.stderr.contains("mirrorctl blueprints apply"), result.stderr)
        XCTAssertTrue(result.stderr.contains("--skip-blueprints"), result.stderr)
        XCTAssertTrue(result.stderr.contains("backstage.url"), "says what is still to fill in: \(result.stderr)")
        let config = try String(contentsOf: here.appendingPathComponent("mirrorctl.yaml"), encoding: .utf8)
        XCTAssertFalse(config.contains("\n  url:"), "no URL is made up when none is given:\n\(config)")
        XCTAssertFalse(config.contains("localhost"))
        // The file is a valid config file as written (commented placeholders).
        assertStatus(try mirrorctl(in: here, ["config", "show"]), 0)

        let skipped = try mirrorctl(in: try folder("skip"), ["init", "--skip-blueprints"])
        assertStatus(skipped, 0)
        XCTAssertFalse(skipped.stderr.contains("blueprints apply"), skipped.stderr)
    }

    func testInitRefusesToOverwriteWithoutForce() throws {
        let here = try folder("again")
        assertStatus(try mirrorctl(in: here, ["init", "--skip-blueprints", "--backstage-url", "http://first:7007"]), 0)
        let mapping = here.appendingPathComponent("mapping.yaml")
        try Data("# edited by hand\n".utf8).write(to: mapping)
        let again = try mirrorctl(in: here, ["init", "--skip-blueprints", "--backstage-url", "http://second:7007"])
        assertStatus(again, 2)
        XCTAssertTrue(again.stderr.contains("already exists") && again.stderr.contains("--force"), again.stderr)
        XCTAssertTrue(try String(contentsOf: here.appendingPathComponent("mirrorctl.yaml"), encoding: .utf8).contains("http://first:7007"))
        XCTAssertEqual(try String(contentsOf: mapping, encoding: .utf8), "# edited by hand\n", "nothing written")
        assertStatus(try mirrorctl(in: here, ["init", "--skip-blueprints", "--force", "--backstage-url", "http://second:7007"]), 0)
        XCTAssertTrue(try String(contentsOf: here.appendingPathComponent("mirrorctl.yaml"), encoding: .utf8).contains("http://second:7007"))
        XCTAssertNotEqual(try String(contentsOf: mapping, encoding: .utf8), "# edited by hand\n")
    }

    func testFileSystemErrorsAreOneClearLine() throws {
        let file = try writeFile("a-file", "x")
        // A folder that can't be created (a file is in the way), and one that can't be written
        // (read-only for a normal user; /proc for root, who may write anywhere else).
        var targets = [file + "/sub"]
        let readOnly = try folder("read-only")
        chmod(readOnly.path, 0o555)
        targets.append(geteuid() == 0 ? "/proc/self" : readOnly.path)
        for target in targets {
            let result = try mirrorctl(["init", "--dir", target, "--skip-blueprints"])
            assertStatus(result, 1)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(lines.first?.hasPrefix("mirrorctl: init: cannot write ") == true, result.stderr)
            XCTAssertFalse(result.stderr.contains("NSCocoaErrorDomain") || result.stderr.contains("Error Domain"), result.stderr)
        }
        chmod(readOnly.path, 0o755)
    }

    func testInitAppliesTheBlueprintsWithCredentials() throws {
        let port = try FakePort.start(clientId: "id-3", clientSecret: "secret-3")
        defer { port.stop() }
        let here = try folder("with-port")
        let env = ["PORT_BASE_URL": port.baseURL, "PORT_CLIENT_ID": "id-3", "PORT_CLIENT_SECRET": "secret-3"]
        let result = try mirrorctl(in: here, ["init"], env: env)
        assertStatus(result, 0)
        XCTAssertTrue(result.stdout.contains("blueprints: 7 created ("), result.stdout)
        XCTAssertTrue(result.stdout.contains(", 0 updated"), result.stdout)
        XCTAssertEqual(port.blueprints.count, 7)
        // `blueprints apply` again: names only where there are some, no empty "()".
        let again = try mirrorctl(in: here, ["blueprints", "apply"], env: env)
        assertStatus(again, 0)
        XCTAssertTrue(again.stdout.hasPrefix("blueprints: 0 created, 7 updated ("), again.stdout)
        XCTAssertFalse(again.stdout.contains("()"))
    }

    func testPruneAndVerifyWaitUpToTimeoutAndPruneJSONAlwaysHasSizes() throws {
        let catalog = EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog").path
        environment["BACKSTAGE_URL"] = "file:\(catalog)"
        assertStatus(try mirrorctl(["sync"]), 0)
        assertStatus(try mirrorctl(["sync"]), 0)
        let pruned = try mirrorctl(["prune", "--keep-runs", "1", "--json"])
        assertStatus(pruned, 0)
        XCTAssertEqual(pruned.json?["vacuumed"], false)
        XCTAssertGreaterThan(pruned.json?["bytesBefore"]?.numberValue ?? 0, 0)
        XCTAssertGreaterThan(pruned.json?["bytesAfter"]?.numberValue ?? 0, 0)
        // Another writer holds the lock: --wait gives up after --timeout, with exit 5.
        let lock = try WriterLock(database: databasePath, command: "test", wait: .no)
        defer { lock.release() }
        let started = Date()
        let waited = try mirrorctl(["prune", "--keep-runs", "1", "--wait", "--timeout", "1s"])
        assertStatus(waited, 5)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.9)
        let verify = try mirrorctl(["verify", "--wait", "--timeout", "1s"],
                                   env: ["PORT_CLIENT_ID": "x", "PORT_CLIENT_SECRET": "y", "PORT_BASE_URL": "http://127.0.0.1:9"])
        assertStatus(verify, 5)
    }

    func testSyncDryRunIsDiff() throws {
        let catalog = EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog").path
        environment["BACKSTAGE_URL"] = "file:\(catalog)"
        let dry = try mirrorctl(["sync", "--dry-run", "--json"])
        assertStatus(dry, 0)
        let diff = try mirrorctl(["diff", "--json"])
        XCTAssertEqual(dry.json?["dryRun"], true)
        XCTAssertEqual(dry.json?["source"], diff.json?["source"])
        XCTAssertEqual(dry.json?["changes"], diff.json?["changes"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: databasePath), "a dry run writes nothing")
    }
}
