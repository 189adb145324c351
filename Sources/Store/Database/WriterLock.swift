import Foundation

/// Makes one process at a time the writer of a mirror database: an advisory `flock` on
/// `<db>.lock` next to it, held from before the database is opened until the object goes away
/// (`deinit`) or the process ends (the kernel drops the lock even on SIGKILL, so a stale file never
/// blocks anyone). The file records the holder's pid, command and start time for the message
/// other processes show; it holds nothing secret. Readers don't take it: SQLite's WAL lets them
/// read the last committed state while a writer works.
public final class WriterLock {
    /// What to do when another process holds the lock.
    public enum Wait: Sendable {
        /// Fail at once with `WriterLockError.held`.
        case no
        /// Wait until it is free, or until `deadline` (nil: without limit).
        case until(Date?)
    }

    /// The lock file: the database's real path (symlinks resolved) plus `.lock`.
    public let path: String
    private var fd: Int32

    /// Takes the writer lock of the database at `database` for `command` (e.g. "sync").
    /// `onWaiting` hears once about the holder when `wait` makes us wait.
    public init(database: String, command: String, wait: Wait = .no,
                onWaiting: (WriterLockHolder) -> Void = { _ in }) throws(WriterLockError) {
        path = WriterLock.lockPath(forDatabase: database)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw .unavailable(path: path, reason: String(cString: strerror(errno)))
        }
        let started = Date()
        var announced = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                Glibc.close(fd)
                throw .unavailable(path: path, reason: String(cString: strerror(code)))
            }
            if code == EINTR { continue }
            let holder = WriterLock.holder(atPath: path)
            switch wait {
            case .no:
                Glibc.close(fd)
                throw .held(database: database, holder: holder)
            case .until(let deadline):
                if let deadline, Date() >= deadline {
                    Glibc.close(fd)
                    throw .stillHeld(database: database, holder: holder, waited: Date().timeIntervalSince(started))
                }
                if !announced {
                    onWaiting(holder)
                    announced = true
                }
                let pause = min(0.1, max(0.001, deadline?.timeIntervalSinceNow ?? 0.1))
                Thread.sleep(forTimeInterval: pause)
            }
        }
        let record = WriterLockHolder(pid: getpid(), command: command, since: Timestamp.now())
        let bytes = Array(record.line.utf8)
        _ = ftruncate(fd, 0)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        release()
    }

    /// Gives the lock up now (also done by `deinit`). Clears the holder record first, so the file
    /// never names a process that no longer holds it.
    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        _ = flock(fd, LOCK_UN)
        Glibc.close(fd)
        fd = -1
    }

    /// `<db>.lock`, next to the database's real file.
    public static func lockPath(forDatabase database: String) -> String {
        URL(fileURLWithPath: database).resolvingSymlinksInPath().path + ".lock"
    }

    /// Who holds the lock file at `path`, as far as its record tells (unknown fields stay nil).
    public static func holder(atPath path: String) -> WriterLockHolder {
        guard let data = FileManager.default.contents(atPath: path) else { return WriterLockHolder() }
        return WriterLockHolder(line: String(decoding: data, as: UTF8.self))
    }
}

@available(*, unavailable)
extension WriterLock: Sendable {}

/// The record in a lock file: `pid=123 command=sync since=2025-01-01T00:00:00.000Z`.
public struct WriterLockHolder: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32?
    public var command: String?
    public var since: String?

    public init(pid: Int32? = nil, command: String? = nil, since: String? = nil) {
        self.pid = pid
        self.command = command
        self.since = since
    }

    /// Parses a record; anything unreadable is left out.
    init(line: String) {
        for field in line.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "pid": pid = Int32(parts[1])
            case "command": command = parts[1]
            case "since": since = parts[1]
            default: break
            }
        }
    }

    var line: String {
        "pid=\(pid.map(String.init) ?? "?") command=\(command ?? "?") since=\(since ?? "?")\n"
    }

    /// "mirrorctl sync" or "mirrorctl" when the command is unknown.
    public var name: String { "mirrorctl" + (command.map { " \($0)" } ?? "") }

    /// "(pid 123, since 2025-01-01T00:00:00.000Z)", or what of it is known.
    public var description: String {
        var details: [String] = []
        if let pid { details.append("pid \(pid)") }
        if let since { details.append("since \(since)") }
        return details.isEmpty ? "(holder unknown)" : "(\(details.joined(separator: ", ")))"
    }
}

/// Why the writer lock could not be taken.
public enum WriterLockError: Error, CustomStringConvertible, Sendable {
    /// Another process holds it and we were not asked to wait.
    case held(database: String, holder: WriterLockHolder)
    /// We waited until the deadline and it is still held.
    case stillHeld(database: String, holder: WriterLockHolder, waited: Double)
    /// The lock file can't be created or locked (unwritable folder, …): the database is unusable.
    case unavailable(path: String, reason: String)

    /// True when another process holds the lock (rather than the lock file being unusable).
    public var isContention: Bool {
        if case .unavailable = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .held(let database, let holder):
            return "another \(holder.name) holds \(database) \(holder); use --wait to wait for it"
        case .stillHeld(let database, let holder, let waited):
            return "another \(holder.name) still holds \(database) \(holder) after waiting \(Int(waited.rounded()))s"
        case .unavailable(let path, let reason):
            return "cannot lock \(path): \(reason)"
        }
    }
}
