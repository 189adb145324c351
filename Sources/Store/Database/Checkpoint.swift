import CSQLite
import Foundation

extension Database {
    /// SQLite's default `wal_autocheckpoint`, in pages.
    static let autocheckpointPages = 1000

    /// Copies what the write-ahead log holds into the database file, as far as readers allow
    /// (`SQLITE_CHECKPOINT_PASSIVE`: it waits for no one and never blocks a writer).
    func checkpoint() throws(DatabaseError) {
        let code = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        guard code == SQLITE_OK || code == SQLITE_BUSY else {
            throw DatabaseError(code: code, message: lastErrorMessage, sql: "PRAGMA wal_checkpoint(PASSIVE)")
        }
    }

    /// Commits `transaction` without the checkpoint SQLite would run in the same call once the
    /// log passes `autocheckpointPages`: the caller has that done elsewhere (`BackgroundCheckpoint`).
    func commitWithoutCheckpoint(_ transaction: Transaction) throws(DatabaseError) {
        try execute("PRAGMA wal_autocheckpoint = 0")
        defer { try? execute("PRAGMA wal_autocheckpoint = \(Database.autocheckpointPages)") }
        try transaction.commit()
    }
}

/// A checkpoint of the mirror's write-ahead log on a connection and thread of its own.
///
/// A run's one big commit (every page a walk changed) would otherwise checkpoint inside the
/// commit: SQLite copies the whole log into the database file and syncs it before the run can go
/// on, ~0.5 s after a 1% change of 100k entities and seconds after a first sync. Run beside the
/// push instead, which mostly waits on Port, it costs the run no time. A checkpoint may run
/// while another connection writes (WAL mode), and one cut short by a kill leaves the log intact.
public final class BackgroundCheckpoint: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var failure: DatabaseError?  // written by the thread before `done` is signalled

    /// Starts checkpointing the database at `path`.
    init(path: String) {
        let thread = Thread { [self] in
            do throws(DatabaseError) {
                try Database(path: path, create: false).checkpoint()
            } catch {
                failure = error
            }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the checkpoint. A failed one loses nothing (the log still holds every commit,
    /// and the next checkpoint copies it), so the error is only reported.
    /// - Returns: the error of a checkpoint that failed, if it did.
    @discardableResult
    public func wait() -> DatabaseError? {
        done.wait()
        done.signal()  // a second `wait` returns at once
        return failure
    }
}

extension MirrorStore {
    /// Checkpoints the write-ahead log on another connection and thread (`BackgroundCheckpoint`).
    public func checkpointInBackground() -> BackgroundCheckpoint {
        BackgroundCheckpoint(path: db.path)
    }
}
