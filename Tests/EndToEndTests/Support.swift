import FakeServers
import Foundation
import Store
import XCTest

/// What one run of the built binary printed and returned.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String

    var json: JSONValue? { try? CanonicalJSON.parse(stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Runs the built `mirrorctl` as a user would: a fresh process, arguments, environment.
/// Each test gets its own folder (database, mapping files) under the system temp directory.
class EndToEndCase: XCTestCase {
    var directory: URL!
    var environment: [String: String] = [:]

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mirrorctl-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        environment = ["MIRROR_DB": databasePath, "PATH": "/usr/bin:/bin"]
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    var databasePath: String { directory.appendingPathComponent("mirror.db").path }

    static var binary: URL {
        // The test bundle sits next to the products of the same build.
        var url = Bundle.main.bundleURL
        if url.pathExtension == "xctest" { url = url.deletingLastPathComponent() }
        return url.appendingPathComponent("mirrorctl")
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs `mirrorctl arguments…` and waits for it (at most `timeout` seconds).
    @discardableResult
    func mirrorctl(_ arguments: [String], env extra: [String: String] = [:], timeout: Double = 120) throws -> CommandResult {
        let (process, out, err) = try launchMirrorctl(arguments, env: extra)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            process.terminate()
            XCTFail("mirrorctl \(arguments.joined(separator: " ")) did not finish in \(timeout)s")
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Starts `mirrorctl arguments…` with stdout and stderr going to fresh files in the test's folder.
    func launchMirrorctl(_ arguments: [String], env extra: [String: String] = [:]) throws -> (process: Process, stdout: URL, stderr: URL) {
        let process = Process()
        process.executableURL = EndToEndCase.binary
        process.arguments = arguments
        process.environment = environment.merging(extra) { _, new in new }
        let out = directory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let err = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    /// Starts `mirrorctl` without waiting (for kill and concurrency tests).
    func startMirrorctl(_ arguments: [String], env extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = EndToEndCase.binary
        process.arguments = arguments
        process.environment = environment.merging(extra) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func writeFile(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Waits until `condition` holds (polling), failing after `seconds`.
    func waitFor(_ what: String, seconds: Double = 20, _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("timed out waiting for \(what)")
    }

    /// Asserts a command's exit status, showing its output when it differs.
    func assertStatus(_ result: CommandResult, _ expected: Int32, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, expected, "stdout: \(result.stdout)\nstderr: \(result.stderr)", file: file, line: line)
    }
}
