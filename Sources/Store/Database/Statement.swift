import CSQLite

/// A value bound to or read from SQL.
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }
    static func optionalText(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
}

/// One row read from a statement (values copied out of SQLite), readable by column position or
/// by column name (`row.string("status")`): queries that read many columns name them, so adding
/// or reordering a column can't shift what a field reads.
struct Row: Sendable {
    let values: [SQLValue]
    /// The result's column names (the `AS` name when given), in position order.
    let columns: [String]

    /// The value of the column named `name`; nil when the result has no such column.
    subscript(_ name: String) -> SQLValue? {
        columns.firstIndex(of: name).map { values[$0] }
    }

    func string(_ name: String) -> String? { columns.firstIndex(of: name).flatMap(string) }
    func int(_ name: String) -> Int? { columns.firstIndex(of: name).flatMap(int) }
    func double(_ name: String) -> Double? { columns.firstIndex(of: name).flatMap(double) }
    /// The entity ref stored in the column named `name` (see `Statement.ref`).
    func ref(_ name: String) -> EntityRef? { string(name).flatMap(EntityRef.init(stored:)) }

    func string(_ index: Int) -> String? {
        switch values[index] {
        case .text(let text): return text
        case .integer(let number): return String(number)
        case .real(let number): return String(number)
        case .null: return nil
        }
    }

    func int(_ index: Int) -> Int? {
        switch values[index] {
        case .integer(let number): return Int(number)
        case .real(let number): return Int(number)
        case .text(let text): return Int(text)
        case .null: return nil
        }
    }

    func double(_ index: Int) -> Double? {
        switch values[index] {
        case .integer(let number): return Double(number)
        case .real(let number): return number
        case .text(let text): return Double(text)
        case .null: return nil
        }
    }
}

/// A prepared statement, owned by its `Database` cache and finalized in `deinit`.
final class Statement {
    private let handle: OpaquePointer
    private unowned let database: Database
    let sql: String
    /// Column names, read once: every row of the statement shares them.
    private lazy var columns: [String] = (0..<sqlite3_column_count(handle)).map { index in
        sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
    }

    init(database: Database, sql: String) throws(DatabaseError) {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw DatabaseError(code: code, message: database.lastErrorMessage, sql: sql)
        }
        self.handle = statement
        self.database = database
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds positional arguments (`?`). A count mismatch is a programming error.
    func bind(_ arguments: [SQLValue]) throws(DatabaseError) {
        precondition(Int(sqlite3_bind_parameter_count(handle)) == arguments.count,
                     "wrong number of arguments for: \(sql)")
        for (offset, value) in arguments.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let number): code = sqlite3_bind_int64(handle, index, number)
            case .real(let number): code = sqlite3_bind_double(handle, index, number)
            case .text(let text): code = sqlite3_bind_text(handle, index, text, -1, SQLITE_TRANSIENT)
            }
            guard code == SQLITE_OK else { throw DatabaseError(code: code, message: database.lastErrorMessage, sql: sql) }
        }
    }

    /// Binds UTF-8 bytes as TEXT without building a Swift String (entity bodies on the hot path).
    func bindText(_ bytes: [UInt8], at index: Int32) throws(DatabaseError) {
        let code = bytes.withUnsafeBytes { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, SQLITE_TRANSIENT) }
            return sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(buffer.count), SQLITE_TRANSIENT)
        }
        guard code == SQLITE_OK else { throw DatabaseError(code: code, message: database.lastErrorMessage, sql: sql) }
    }

    /// Advances to the next row: true when a row is available, false when done.
    func step() throws(DatabaseError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(handle)
            return false
        default:
            let message = database.lastErrorMessage
            sqlite3_reset(handle)
            throw DatabaseError(code: code, message: message, sql: sql)
        }
    }

    /// Runs the statement to completion with `arguments`.
    func run(_ arguments: [SQLValue]) throws(DatabaseError) {
        try bind(arguments)
        while try step() {}
    }

    /// The position of result column `name` (its `AS` name when given), for hot loops that read
    /// by position after naming the column once. A name the query lacks is a programming error.
    func column(_ name: String) -> Int32 {
        guard let index = columns.firstIndex(of: name) else { preconditionFailure("no column \(name) in: \(sql)") }
        return Int32(index)
    }

    /// The text of column `index` of the current row, without copying the whole row (hot loops).
    func text(_ index: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, index) else { return nil }
        return String(cString: text)
    }

    /// The UTF-8 bytes of text column `index` of the current row, borrowed for `body` (nil for
    /// NULL): hot loops copy what they keep without making a `String`.
    func withBytes<R>(_ index: Int32, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard let text = sqlite3_column_text(handle, index) else { return body(nil) }
        return body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, index))))
    }

    /// A copy of the UTF-8 bytes of text column `index` of the current row (nil for NULL), taken
    /// without a `String` in between: what stored canonical bodies are read as.
    func bytes(_ index: Int32) -> [UInt8]? {
        withBytes(index) { $0.map(Array.init) }
    }

    /// The entity ref stored in text column `index` of the current row (nil for NULL or a damaged row).
    func ref(_ index: Int32) -> EntityRef? {
        text(index).flatMap(EntityRef.init(stored:))
    }

    /// Copies the current row out.
    func row() -> Row {
        let count = sqlite3_column_count(handle)
        var values: [SQLValue] = []
        values.reserveCapacity(Int(count))
        for index in 0..<count {
            switch sqlite3_column_type(handle, index) {
            case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(handle, index)))
            case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(handle, index)))
            case SQLITE_NULL: values.append(.null)
            default:
                if let text = sqlite3_column_text(handle, index) {
                    values.append(.text(String(cString: text)))
                } else {
                    values.append(.null)
                }
            }
        }
        return Row(values: values, columns: columns)
    }
}

@available(*, unavailable)
extension Statement: Sendable {}
