import FakeServers
import Fetch
import Foundation
import Store
import XCTest

/// deploy/ works as written: `scripts/check-deploy` (Dockerfile, systemd units, cron file) passes,
/// the Kubernetes manifests parse and agree with each other and with the binary, and their
/// commands run: the CronJob's and the Deployment's arguments sync and prune against a catalog.
final class DeploymentTests: EndToEndCase {
    static var deploy: URL { repositoryRoot.appendingPathComponent("deploy") }

    /// Every document of every manifest, by kind.
    func manifests() throws -> [String: JSONValue] {
        var byKind: [String: JSONValue] = [:]
        let folder = DeploymentTests.deploy.appendingPathComponent("kubernetes")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where name.hasSuffix(".yaml") {
            for document in try YAML.loadDocuments(path: folder.appendingPathComponent(name).path) {
                let json = try document.toJSON()
                let kind = try XCTUnwrap(json["kind"]?.stringValue, "\(name): no kind")
                XCTAssertNotNil(json["apiVersion"]?.stringValue, "\(name): no apiVersion")
                XCTAssertEqual(json[path: ["metadata", "namespace"]], "mirrorctl", name)
                byKind[kind] = json
            }
        }
        return byKind
    }

    func podSpec(_ workload: JSONValue) throws -> JSONValue {
        try XCTUnwrap(workload[path: ["spec", "template", "spec"]] ?? workload[path: ["spec", "jobTemplate", "spec", "template", "spec"]])
    }

    func container(_ workload: JSONValue) throws -> JSONValue {
        try XCTUnwrap(try podSpec(workload)["containers"]?.arrayValue?.first)
    }

    func args(_ workload: JSONValue) throws -> [String] {
        try XCTUnwrap(try container(workload)["args"]?.arrayValue?.compactMap(\.stringValue))
    }

    /// The options `mirrorctl COMMAND --help` lists.
    func acceptedOptions(_ command: String) throws -> Set<String> {
        let help = try mirrorctl([command, "--help"])
        return Set(help.stdout.matches(of: /\n  --([a-z-]+)/).map { String($0.output.1) })
    }

    /// `--metrics-addr` comes with the metrics server (`watch --metrics-addr`, another branch);
    /// until this binary has it, the Deployment's arguments are checked without it.
    func runnable(_ arguments: [String]) throws -> [String] {
        guard arguments.contains("--metrics-addr"), try !acceptedOptions("watch").contains("metrics-addr") else { return arguments }
        print("note: this mirrorctl has no watch --metrics-addr yet; checking the Deployment's other arguments")
        var kept = arguments
        if let index = kept.firstIndex(of: "--metrics-addr") { kept.removeSubrange(index...index + 1) }
        return kept
    }

    /// README's Operating section names every file in deploy/, and only files that exist.
    func testReadmeNamesExactlyTheDeploymentFiles() throws {
        let readme = try String(contentsOf: EndToEndCase.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var named = Set<String>()
        for match in readme.matches(of: /`(deploy\/[A-Za-z0-9._\/-]+)(?:\.\{([a-z,]+)\})?`/) {
            let path = String(match.output.1)
            if let extensions = match.output.2 {
                for ext in extensions.split(separator: ",") { named.insert("\(path).\(ext)") }
            } else {
                named.insert(path)
            }
        }
        let root = EndToEndCase.repositoryRoot
        for path in named {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path), "README names \(path), which does not exist")
        }
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(atPath: DeploymentTests.deploy.path))
        for case let file as String in enumerator {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: DeploymentTests.deploy.appendingPathComponent(file).path, isDirectory: &isDirectory)
            guard !isDirectory.boolValue else { continue }
            XCTAssertTrue(named.contains("deploy/\(file)"), "README's Operating section does not mention deploy/\(file)")
        }
        XCTAssertTrue(readme.contains("`.dockerignore`"))
    }

    func testCheckDeployScriptPasses() throws {
        let result = try run("/bin/bash",
                             [EndToEndCase.repositoryRoot.appendingPathComponent("scripts/check-deploy").path,
                              "--binary", EndToEndCase.binary.path], in: EndToEndCase.repositoryRoot)
        let text = result.stdout + result.stderr
        XCTAssertEqual(result.status, 0, text)
        XCTAssertTrue(text.contains("check-deploy: all passed"), text)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") {
            XCTAssertTrue(text.contains("ok   systemd-analyze verify"), text)
        }
    }

    func testKubernetesManifestsParseAndAgreeWithEachOtherAndTheBinary() throws {
        let kinds = try manifests()
        XCTAssertEqual(Set(kinds.keys), ["ConfigMap", "CronJob", "Deployment", "PersistentVolumeClaim", "Secret"])
        let configMap = try XCTUnwrap(kinds["ConfigMap"])
        let secret = try XCTUnwrap(kinds["Secret"])
        let claim = try XCTUnwrap(kinds["PersistentVolumeClaim"])
        for kind in ["CronJob", "Deployment"] {
            let workload = try XCTUnwrap(kinds[kind])
            let arguments = try args(workload)
            // The binary accepts the arguments as written.
            let parsed = try mirrorctl(try runnable(arguments) + ["--help"])
            XCTAssertEqual(parsed.status, 0, "\(kind) args \(arguments): \(parsed.stderr)")
            XCTAssertTrue(arguments.contains("--prune-keep-days"), "\(kind) has no retention")
            // Volumes point at the ConfigMap, Secret and claim defined next to it; the config
            // file MIRROR_CONFIG names is in the config volume.
            let pod = try podSpec(workload)
            let volumes = try XCTUnwrap(pod["volumes"]?.arrayValue)
            XCTAssertTrue(volumes.contains { $0[path: ["configMap", "name"]] == configMap[path: ["metadata", "name"]] }, kind)
            XCTAssertTrue(volumes.contains { $0[path: ["secret", "secretName"]] == secret[path: ["metadata", "name"]] }, kind)
            XCTAssertTrue(volumes.contains { $0[path: ["persistentVolumeClaim", "claimName"]] == claim[path: ["metadata", "name"]] }, kind)
            let mounts = try XCTUnwrap(try container(workload)["volumeMounts"]?.arrayValue)
            let mount = { (name: String) in mounts.first { $0["name"]?.stringValue == name }?["mountPath"]?.stringValue ?? "?" }
            let config = try XCTUnwrap(try container(workload)["env"]?.arrayValue?.first { $0["name"] == "MIRROR_CONFIG" }?["value"]?.stringValue)
            XCTAssertEqual(config, mount("config") + "/mirrorctl.yaml", kind)
            // The config file's secret files and database live in the mounted volumes.
            let file = try YAML.parseDocuments(try XCTUnwrap(configMap[path: ["data", "mirrorctl.yaml"]]?.stringValue), file: "mirrorctl.yaml")[0].toJSON()
            for key in ["tokenFile"] {
                let path = try XCTUnwrap(file[path: ["backstage", key]]?.stringValue)
                XCTAssertTrue(path.hasPrefix(mount("credentials") + "/"), "\(kind): backstage.\(key) \(path)")
                XCTAssertNotNil(secret[path: ["stringData", (path as NSString).lastPathComponent]], path)
            }
            for key in ["clientIdFile", "clientSecretFile"] {
                let path = try XCTUnwrap(file[path: ["port", key]]?.stringValue)
                XCTAssertTrue(path.hasPrefix(mount("credentials") + "/"), "\(kind): port.\(key) \(path)")
                XCTAssertNotNil(secret[path: ["stringData", (path as NSString).lastPathComponent]], path)
            }
            XCTAssertTrue(try XCTUnwrap(file["db"]?.stringValue).hasPrefix(mount("data") + "/"), kind)
            XCTAssertNotNil(configMap[path: ["data", try XCTUnwrap(file["mapping"]?.stringValue)]], "the mapping the config names is in the ConfigMap")
        }
        // The Deployment's probes check only that watch is alive and serving: /healthz on the
        // port --metrics-addr listens on, never `mirrorctl status` (exit 3 after a partial run).
        let deployment = try XCTUnwrap(kinds["Deployment"])
        let watch = try container(deployment)
        let arguments = try args(deployment)
        let address = try XCTUnwrap(arguments.firstIndex(of: "--metrics-addr").map { arguments[$0 + 1] })
        XCTAssertTrue(address.hasPrefix("0.0.0.0:"), "the kubelet probes the pod's IP: bind all interfaces, not \(address)")
        let portNumber = try XCTUnwrap(Int(address.split(separator: ":").last ?? ""))
        let liveness = try XCTUnwrap(watch["livenessProbe"])
        XCTAssertEqual(liveness[path: ["httpGet", "path"]], "/healthz")
        let probePort = try XCTUnwrap(liveness[path: ["httpGet", "port"]])
        let declared = watch["ports"]?.arrayValue?.first { $0["name"] == probePort || $0["containerPort"] == probePort }
        XCTAssertEqual(declared?["containerPort"]?.numberValue.map(Int.init), portNumber)
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            XCTAssertNil(watch[probe]?["exec"], "\(probe) must not run a command (status exits 3 after a partial run)")
        }
        XCTAssertEqual(deployment[path: ["spec", "replicas"]], 1)
        XCTAssertEqual(deployment[path: ["spec", "strategy", "type"]], "Recreate")
        let cronJob = try XCTUnwrap(kinds["CronJob"])
        XCTAssertEqual(cronJob[path: ["spec", "concurrencyPolicy"]], "Forbid")

        // The ConfigMap's files are valid as they are: the config file loads, the mapping maps.
        let config = try writeFile("mirrorctl.yaml", try XCTUnwrap(configMap[path: ["data", "mirrorctl.yaml"]]?.stringValue))
        assertStatus(try mirrorctl(["--config", config, "version"]), 0)
        let example = try writeFile("example.yaml", try XCTUnwrap(configMap[path: ["data", "mapping.yaml"]]?.stringValue))
        let entity = try writeFile("component.json", #"{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"checkout","namespace":"default"},"spec":{"type":"service","lifecycle":"production","owner":"team-a"},"relations":[]}"#)
        assertStatus(try mirrorctl(["mapping", "test", "--file", entity, "--mapping", example]), 0)
        // And the commented example config next to the manifests.
        assertStatus(try mirrorctl(["--config", DeploymentTests.deploy.appendingPathComponent("mirrorctl.yaml").path, "version"]), 0)
    }

    /// The ConfigMap's mirrorctl.yaml pointed at this test's catalog and folder (no credentials:
    /// mirror-only), as the pods would read it.
    func podConfig() throws -> String {
        let configMap = try XCTUnwrap(try manifests()["ConfigMap"])
        var text = try XCTUnwrap(configMap[path: ["data", "mirrorctl.yaml"]]?.stringValue)
        let catalog = EndToEndCase.repositoryRoot.appendingPathComponent("examples/catalog").path
        text = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("File:") }.map { line in
            if line.contains("url: http") && !line.contains("getport") { return "  url: file:\(catalog)" }
            if line.hasPrefix("db:") { return "db: \(databasePath)" }
            if line.contains("interval:") { return "  interval: 300ms" }
            return String(line)
        }.joined(separator: "\n")
        _ = try writeFile("mapping.yaml", try XCTUnwrap(configMap[path: ["data", "mapping.yaml"]]?.stringValue))
        return try writeFile("mirrorctl.yaml", text)
    }

    /// The CronJob's arguments, run as its pod runs them: a sync, then a prune, exit 0.
    func testTheCronJobsCommandSyncsThenPrunes() throws {
        environment.removeValue(forKey: "MIRROR_DB")
        let config = try podConfig()
        let arguments = try args(try XCTUnwrap(try manifests()["CronJob"]))
        for round in 1...2 {
            let run = try mirrorctl(arguments, env: ["MIRROR_CONFIG": config])
            assertStatus(run, 0)
            let events = run.stderr.split(separator: "\n").compactMap { try? CanonicalJSON.parse(String($0)) }
            XCTAssertEqual(events.filter { $0["event"] == "watch.prune" }.count, 1, "round \(round): \(run.stderr)")
        }
        let runs = try mirrorctl(["runs", "--json"], env: ["MIRROR_CONFIG": config])
        XCTAssertEqual(runs.json?.arrayValue?.count, 2, "both runs are younger than 30 days: none pruned")
    }

    /// The Deployment's arguments, run as its pod runs them: watch syncs, prunes between runs on
    /// its own schedule, and stops cleanly on SIGTERM.
    func testTheDeploymentsCommandWatchesAndPrunesOnItsOwnSchedule() throws {
        environment.removeValue(forKey: "MIRROR_DB")
        let config = try podConfig()
        var arguments = try runnable(try args(try XCTUnwrap(try manifests()["Deployment"])))
        if let index = arguments.firstIndex(of: "--metrics-addr") { arguments[index + 1] = "127.0.0.1:0" }
        // History older than 0 days, every second: only the newest run (and what it needs) stays.
        if let index = arguments.firstIndex(of: "--prune-keep-days") { arguments[index + 1] = "0" }
        arguments += ["--prune-every", "1s", "--log-format", "json"]
        let (process, _, stderr) = try launchMirrorctl(arguments, env: ["MIRROR_CONFIG": config])
        defer { if process.isRunning { process.terminate() } }
        let events = { () -> [JSONValue] in
            ((try? String(contentsOf: stderr, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? CanonicalJSON.parse(String($0)) }
        }
        let deadline = Date().addingTimeInterval(60)
        while events().filter({ $0["event"] == "watch.prune" }).count < 2 && Date() < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let prunes = events().filter { $0["event"] == "watch.prune" }
        XCTAssertGreaterThanOrEqual(prunes.count, 2, "\(events())")
        let finished = events().filter { $0["event"] == "run.finished" }
        XCTAssertGreaterThan(finished.count, prunes.count, "prunes are spaced by --prune-every, not one per run")
        let deleted = prunes.compactMap { $0[path: ["fields", "report", "runsDeleted"]]?.numberValue }.reduce(0, +)
        XCTAssertGreaterThan(deleted, 0, "old runs were pruned")
        let runs = try XCTUnwrap(try mirrorctl(["runs", "--json"], env: ["MIRROR_CONFIG": config]).json?.arrayValue)
        XCTAssertLessThan(runs.count, finished.count, "the database does not keep every tick's run")
    }
}
