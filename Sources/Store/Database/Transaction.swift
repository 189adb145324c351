import CSQLite

/// One open transaction on a `Database`: committed by `commit()`, rolled back by `rollback()` or,
/// when neither was called (an error unwound past it, the owner was released), by `deinit`.
/// Inside another transaction it is a SAVEPOINT, so a helper that wants atomicity composes with
/// a caller's longer transaction instead of failing on a nested BEGIN.
///
/// The one place that spells BEGIN, COMMIT and ROLLBACK; `Database.transaction(_:_:)` wraps it
/// for a closure, and `SnapshotWriter` keeps one open across a whole walk.
final class Transaction {
    private unowned let database: Database
    /// The savepoint's name when nested, nil for an outermost transaction.
    private let savepoint: String?
    private var finished = false

    /// Begins a transaction (`kind` applies to an outermost one only; SQLite's savepoints have none).
    init(_ database: Database, kind: Database.TransactionKind) throws(DatabaseError) {
        self.database = database
        if database.isInTransaction {
            database.savepointCount += 1
            let name = "mirrorctl_\(database.savepointCount)"
            try database.execute("SAVEPOINT \(name)")
            savepoint = name
        } else {
            try database.execute("BEGIN \(kind.rawValue)")
            savepoint = nil
        }
    }

    deinit {
        rollback()
    }

    /// Makes the transaction's writes permanent (or, nested, part of the enclosing transaction).
    func commit() throws(DatabaseError) {
        guard !finished else { throw DatabaseError(code: SQLITE_MISUSE, message: "the transaction has already finished") }
        try database.execute(savepoint.map { "RELEASE \($0)" } ?? "COMMIT")
        finished = true
    }

    /// Discards the transaction's writes; does nothing once finished. A failed rollback leaves
    /// nothing to do: SQLite has already rolled back, or the connection is gone.
    func rollback() {
        guard !finished else { return }
        finished = true
        if let savepoint {
            try? database.execute("ROLLBACK TO \(savepoint)")
            try? database.execute("RELEASE \(savepoint)")
        } else {
            try? database.execute("ROLLBACK")
        }
    }
}

@available(*, unavailable)
extension Transaction: Sendable {}

extension Database {
    enum TransactionKind: String { case deferred = "DEFERRED", immediate = "IMMEDIATE" }

    /// Whether a transaction is open on this connection (SQLite is not in autocommit mode).
    var isInTransaction: Bool { handle.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// Begins a transaction to finish with `commit()` or `rollback()`: for work that spans calls
    /// (a walk). Prefer `transaction(_:_:)` when the work is one closure.
    func begin(_ kind: TransactionKind = .immediate) throws(DatabaseError) -> Transaction {
        try Transaction(self, kind: kind)
    }

    /// Runs `body` in a transaction: commit when it returns, roll back when it throws (the body's
    /// error wins over a rollback error). Nested in another transaction, it is a savepoint.
    func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        let transaction = try begin(kind)
        let result: T
        do {
            result = try body()
        } catch {
            transaction.rollback()
            throw error
        }
        try transaction.commit()
        return result
    }
}
