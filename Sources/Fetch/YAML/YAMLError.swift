/// A YAML text that could not be loaded: bad syntax, an unsupported construct, a limit hit, or a
/// file that could not be read. `line` and `column` are 1-based; both are 0 when the problem is
/// the file as a whole (it is missing or unreadable).
public struct YAMLError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or label) the text came from.
    public let file: String
    /// 1-based line of the problem, 0 when it has no position.
    public let line: Int
    /// 1-based column of the problem, 0 when it has no position.
    public let column: Int
    /// What went wrong, without the position.
    public let message: String

    /// An error at a position (pass 0 for `line` and `column` when there is none).
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `FILE:LINE:COL: message`, or `FILE: message` when there is no position.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}
