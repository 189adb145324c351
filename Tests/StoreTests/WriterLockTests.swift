import Foundation
@testable import Store
import XCTest

final class WriterLockTests: TemporaryDirectoryCase {
    var database: String { directory.appendingPathComponent("mirror.db").path }

    func testASecondWriterIsRefusedWithTheHoldersPidAndCommand() throws {
        let first = try WriterLock(database: database, command: "sync")
        XCTAssertEqual(first.path, database + ".lock")
        XCTAssertThrowsError(try WriterLock(database: database, command: "prune")) { error in
            guard case WriterLockError.held(let held, let holder) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(held, database)
            XCTAssertEqual(holder.pid, getpid())
            XCTAssertEqual(holder.command, "sync")
            XCTAssertNotNil(holder.since.flatMap(Timestamp.date))
            XCTAssertTrue((error as? WriterLockError)?.isContention == true)
            XCTAssertTrue("\(error)".hasPrefix("another mirrorctl sync holds \(database) (pid \(getpid()), since "), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("use --wait to wait for it"), "\(error)")
        }
        withExtendedLifetime(first) {}
    }

    func testReleasingFreesTheLockAndClearsTheRecord() throws {
        var first: WriterLock? = try WriterLock(database: database, command: "sync")
        XCTAssertNotNil(first)
        first = nil
        XCTAssertEqual(try String(contentsOfFile: database + ".lock", encoding: .utf8), "")
        let second = try WriterLock(database: database, command: "sync")
        let mode = try FileManager.default.attributesOfItem(atPath: second.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
    }

    func testWaitingGivesUpAtTheDeadline() throws {
        let first = try WriterLock(database: database, command: "sync")
        let started = Date()
        var heard: WriterLockHolder?
        XCTAssertThrowsError(try WriterLock(database: database, command: "sync", wait: .until(Date().addingTimeInterval(0.4)),
                                            onWaiting: { heard = $0 })) { error in
            guard case WriterLockError.stillHeld(_, let holder, let waited) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(holder.pid, getpid())
            XCTAssertGreaterThanOrEqual(waited, 0.35)
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.35)
        XCTAssertEqual(heard?.command, "sync")
        first.release()
    }

    func testWaitingSucceedsOnceTheHolderLetsGo() throws {
        // Another holder of the lock file (as another process would hold it), letting go after 0.3s.
        let fd = open(database + ".lock", O_RDWR | O_CREAT, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        let released = expectation(description: "released")
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            close(fd)
            released.fulfill()
        }
        let started = Date()
        let second = try WriterLock(database: database, command: "sync", wait: .until(nil))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.25)
        XCTAssertEqual(WriterLock.holder(atPath: second.path).pid, getpid())
        wait(for: [released], timeout: 5)
    }

    func testAnUnusableFolderIsNotContention() {
        XCTAssertThrowsError(try WriterLock(database: "/dev/null/mirror.db", command: "sync")) { error in
            guard case WriterLockError.unavailable(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/dev/null/mirror.db.lock")
            XCTAssertFalse((error as? WriterLockError)?.isContention ?? true)
        }
    }

    func testASymlinkedDatabaseSharesTheLockOfItsRealFile() throws {
        _ = try MirrorStore(path: database)
        let link = directory.appendingPathComponent("link.db").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: database)
        let first = try WriterLock(database: link, command: "sync")
        XCTAssertEqual(first.path, database + ".lock")
        XCTAssertThrowsError(try WriterLock(database: database, command: "sync"))
    }
}
