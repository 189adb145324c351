@testable import Store
import XCTest

/// `Database.transaction` commits on return and rolls back on a throw; nested, it is a savepoint
/// (the inner rollback keeps the outer transaction's writes).
final class TransactionTests: XCTestCase {
    struct Failure: Error {}

    private func database() throws -> Database {
        let db = try Database(path: "")
        try db.execute("CREATE TABLE t (v INTEGER)")
        return db
    }

    private func values(_ db: Database) throws -> [Int] {
        try db.rows("SELECT v FROM t ORDER BY v").compactMap { $0.int(0) }
    }

    func testCommitsOnReturnAndRollsBackOnThrow() throws {
        let db = try database()
        try db.transaction { try db.run("INSERT INTO t VALUES (1)") }
        XCTAssertThrowsError(try db.transaction {
            try db.run("INSERT INTO t VALUES (2)")
            throw Failure()
        }) { XCTAssertTrue($0 is Failure, "the body's error comes out") }
        XCTAssertEqual(try values(db), [1])
        XCTAssertFalse(db.isInTransaction)
    }

    func testNestedTransactionIsASavepoint() throws {
        let db = try database()
        try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            try? db.transaction {
                try db.run("INSERT INTO t VALUES (2)")
                throw Failure()
            }
            try db.transaction { try db.run("INSERT INTO t VALUES (3)") }
            XCTAssertTrue(db.isInTransaction, "the outer transaction is still open")
        }
        XCTAssertEqual(try values(db), [1, 3])
    }

    func testAnUnfinishedTransactionRollsBackWhenReleased() throws {
        let db = try database()
        do {
            let transaction = try db.begin()
            try db.run("INSERT INTO t VALUES (1)")
            withExtendedLifetime(transaction) {}
        }
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try values(db), [])
        let finished = try db.begin()
        try finished.commit()
        XCTAssertThrowsError(try finished.commit(), "a finished transaction can't commit again")
    }
}
