import Foundation
import Store
import XCTest

extension EndToEndCase {
    /// Waits until `process` holds the database's writer lock (its pid is in the lock file).
    func waitUntilHoldingTheLock(_ process: Process, timeout: Double = 20, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.isRunning {
            if WriterLock.holder(atPath: WriterLock.lockPath(forDatabase: databasePath)).pid == process.processIdentifier { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("mirrorctl (pid \(process.processIdentifier)) never held the writer lock", file: file, line: line)
    }

    /// Runs the `sqlite3` shell on the database, as an operator would.
    func sqlite3(_ sql: String) throws -> CommandResult {
        let shell = "/usr/bin/sqlite3"
        guard FileManager.default.isExecutableFile(atPath: shell) else { throw XCTSkip("no sqlite3 shell at \(shell)") }
        return try run(shell, [databasePath, sql])
    }

    /// Runs a program to its end (in `folder`, when given) and returns what it printed.
    func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
             in folder: URL? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let folder { process.currentDirectoryURL = folder }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                             stderr: String(decoding: errors, as: UTF8.self))
    }

    /// Waits for a process started with `startMirrorctl` and returns its exit status.
    func finish(_ process: Process, timeout: Double = 120, file: StaticString = #filePath, line: UInt = #line) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            XCTFail("mirrorctl did not finish in \(timeout)s", file: file, line: line)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
