import Foundation
@testable import Store
import XCTest

final class PrivateCopyTests: TemporaryDirectoryCase {
    var path: String { directory.appendingPathComponent("mirror.db").path }

    func testTheCopySeesTheLastCommitWhileAWriterIsBusyAndWritesNeverReachTheOriginal() throws {
        let original = try MirrorStore(path: path)
        _ = try original.recordFailedRun(command: "sync", startedAt: Timestamp.now(), source: "test", kinds: [], error: "one")
        // A writer in the middle of its transaction: the copy must neither wait for it nor see it.
        try original.db.execute("BEGIN IMMEDIATE")
        try original.db.run("INSERT INTO runs (command, started_at, status, source, kinds) VALUES ('sync', 'now', 'running', 'x', '[]')")

        let started = Date()
        let copy = try MirrorStore.privateCopy(of: path)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "the copy must not wait for the writer")
        XCTAssertEqual(try copy.runs().map(\.error), ["one"])
        XCTAssertEqual(try copy.db.integrityCheck(), "ok")

        try copy.db.execute("BEGIN IMMEDIATE")
        try copy.db.run("DELETE FROM runs")
        try copy.db.execute("COMMIT")
        try original.db.execute("COMMIT")
        XCTAssertEqual(try original.runs().count, 2)
        XCTAssertEqual(try copy.runs().count, 0)
        XCTAssertEqual(copy.db.path, "", "SQLite's temporary database: no file of ours to clean up")
    }

    func testNotADatabaseIsAStoreErrorNamingTheFile() throws {
        let bogus = directory.appendingPathComponent("bogus.db").path
        try Data(String(repeating: "not sqlite ", count: 500).utf8).write(to: URL(fileURLWithPath: bogus))
        XCTAssertThrowsError(try MirrorStore.privateCopy(of: bogus)) { error in
            XCTAssertTrue("\(error)".contains("bogus.db"), "\(error)")
            XCTAssertTrue("\(error)".contains("not a usable"), "\(error)")
        }
    }
}
