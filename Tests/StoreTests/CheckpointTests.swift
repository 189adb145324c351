import Foundation
@testable import Store
import XCTest

/// A run's commit leaves the write-ahead log to `BackgroundCheckpoint`: the commit copies nothing
/// into the database file even past SQLite's auto-checkpoint size, and the background checkpoint
/// copies all of it, on its own connection.
final class CheckpointTests: TemporaryDirectoryCase {
    private func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    func testCommitLeavesTheLogAndTheBackgroundCheckpointCopiesIt() throws {
        let path = directory.appendingPathComponent("m.db").path
        let db = try Database(path: path)
        try db.execute("CREATE TABLE t (v BLOB)")
        let before = try fileSize(path)

        // More pages than the auto-checkpoint threshold: a plain commit would copy them into the file.
        let transaction = try db.begin(.immediate)
        let pageBytes = 16_384
        for _ in 0..<(Database.autocheckpointPages + 100) {
            try db.run("INSERT INTO t VALUES (zeroblob(?))", [.int(pageBytes)])
        }
        try db.commitWithoutCheckpoint(transaction)
        XCTAssertEqual(try fileSize(path), before, "the commit copied the log into the database file")
        XCTAssertGreaterThan(try fileSize(path + "-wal"), Database.autocheckpointPages * pageBytes)

        XCTAssertNil(BackgroundCheckpoint(path: path).wait())
        XCTAssertGreaterThan(try fileSize(path), Database.autocheckpointPages * pageBytes)
        // The connection's own threshold is back: the next large commit checkpoints as usual.
        XCTAssertEqual(try db.row("PRAGMA wal_autocheckpoint")?.int(0), Database.autocheckpointPages)
    }
}
