import Foundation

extension EndToEndCase {
    /// Runs any program (the binary in another folder, a shell, groff, a script) to its end and
    /// collects what it printed.
    func runProgram(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                    in folder: URL? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let folder { process.currentDirectoryURL = folder }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // stderr is read on another thread, so neither pipe can fill up and stall the program.
        let collected = ErrorCollector()
        let reader = Thread { collected.data = err.fileHandleForReading.readDataToEndOfFile(); collected.done.signal() }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        collected.done.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: collected.data, as: UTF8.self))
    }
}

/// The stderr bytes `runProgram` reads on its own thread.
private final class ErrorCollector: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}
