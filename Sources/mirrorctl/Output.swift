import Foundation
import Store

/// Exit statuses: a small closed set, documented in README.
enum ExitStatus: Int32 {
    case success = 0
    case failed = 1
    case usage = 2
    case partial = 3
    case database = 4
    /// Another process (a sync or prune) holds the database's writer lock.
    case locked = 5
}

extension ExitStatus {
    /// A run's exit status: 0 succeeded, 3 partial, 1 failed (the one mapping, for every command
    /// that reports a run).
    init(_ status: RunStatus) {
        switch status {
        case .succeeded: self = .success
        case .partial: self = .partial
        case .failed: self = .failed
        }
    }
}

/// Where a command writes: results to stdout, messages to stderr. Injected for tests.
struct Console {
    var out: (String) -> Void = { text in FileHandle.standardOutput.write(Data(text.utf8)) }
    var err: (String) -> Void = { text in FileHandle.standardError.write(Data(text.utf8)) }
    var stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
    var stderrIsTerminal = isatty(STDERR_FILENO) == 1
    /// Log lines (levels, human or JSON format); `main` points it at `err`.
    var logger = Logger()

    /// Prints human output. Control characters other than our own line breaks are escaped
    /// (`TerminalText`), so text from a server can't drive the terminal; fields that may hold a
    /// line break of their own are escaped where they are formatted (`table` does it for cells).
    func print(_ line: String) { out(TerminalText.escapeLines(line) + "\n") }
    /// An error message for a person (or a JSON log line with `--log-format json`).
    func error(_ line: String, event: String = "error") { logger.log(.error, event, line) }
    func json(_ value: JSONValue) { out(CanonicalJSON.string(value) + "\n") }
}

/// Fixed-width columns for human tables.
/// Cells are escaped (`TerminalText`): a message with `\r\n` in it stays in its cell.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let rows = rows.map { $0.map(TerminalText.escape) }
    var widths = header.map(\.count)
    for row in rows {
        for (column, cell) in row.enumerated() where column < widths.count { widths[column] = max(widths[column], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { column, cell in
            column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}
