import Fetch
import Foundation
import Store

/// Takes a database's writer lock for a command that writes it (`sync`, `prune`): at once, or
/// with `--wait` until it is free (up to the run's `--timeout`, when given). Another holder is
/// exit status 5.
enum WriterLocking {
    static let waitOption = OptionSpec(name: "wait", value: nil, help: "When another sync or prune holds the database, wait for it (up to --timeout) instead of exiting 5.")
    /// `--timeout` for commands whose only wait is for the lock (`prune`, `verify`).
    static let waitTimeoutOption = OptionSpec(name: "timeout", value: "DURATION", help: "With --wait: give up waiting for the lock after this long (exit 5), e.g. 90s, 5m.")

    /// The lock for `database`, or nil for a database that is not a file.
    static func acquire(database: String, command: String, arguments: ParsedArguments, deadline: RunDeadline?,
                        console: Console) throws(WriterLockError) -> WriterLock? {
        guard database != ":memory:" && !database.isEmpty else { return nil }
        let wait: WriterLock.Wait = arguments.flag("wait") ? .until(deadline?.end) : .no
        return try WriterLock(database: database, command: command, wait: wait) { holder in
            console.logger.info("lock.waiting", "waiting for \(holder.name) \(holder) to finish with \(database)")
        }
    }
}

/// The database `diff` works on: a private copy of the last commit (see `MirrorStore.privateCopy`),
/// so it takes no lock, never waits for a sync and can't slow one down; an empty in-memory one
/// when there is no database yet.
func openDiffStore(_ path: String) throws -> MirrorStore {
    guard FileManager.default.fileExists(atPath: path) else { return try MirrorStore(path: ":memory:") }
    return try MirrorStore.privateCopy(of: path)
}
