import Foundation

/// A moment of the mirror's history as the user names it: a run id, or a time (the state after
/// the last run started at or before it).
public enum SnapshotPoint: Sendable, Equatable {
    case run(Int)
    case time(Date)
}

/// A run id or time that names no state of the mirror: a run that doesn't exist, a time before
/// the first run or in the future, or a run whose history was pruned. Never answered by a
/// fallback to some other run.
public struct SnapshotPointError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The run exists (or did) but `prune` dropped its history: a different failure from a typo.
    public let isPruned: Bool

    public var description: String { message }
}

/// An entity as it differs between two states of the mirror.
public struct SnapshotChange: Sendable {
    public let ref: String
    public let kind: String
    public let change: ChangeKind
    /// Canonical JSON on each side, nil where the entity did not exist.
    public let oldBody: String?
    public let newBody: String?
}

/// One version of an entity with the bodies before and after it (for `history`).
public struct HistoryVersion: Sendable {
    public let entry: HistoryEntry
    public let oldBody: String?
    public let newBody: String?
    /// The previous version's body was dropped by `prune`: what this version changed is unknown.
    public var previousPruned: Bool { entry.oldHash != nil && oldBody == nil }
}

/// Time travel over the change events: which run a point names, the whole snapshot after a run,
/// and what differs between two runs. Read-only queries; nothing is computed at sync time.
extension MirrorStore {
    /// The committed runs' first and last id with their start times, nil before the first sync.
    /// The first is the retention floor when `prune` dropped older history.
    public func runRange() throws(DatabaseError) -> (first: (run: Int, at: String), last: (run: Int, at: String))? {
        let floor = try Retention(store: self).historyFloor() ?? 0
        guard let row = try db.row("""
            SELECT f.id AS first_run, f.started_at AS first_at, l.id AS last_run, l.started_at AS last_at
            FROM (SELECT id, started_at FROM runs WHERE status <> 'running' AND id >= ? ORDER BY id LIMIT 1) f,
                 (SELECT id, started_at FROM runs WHERE status <> 'running' ORDER BY id DESC LIMIT 1) l
            """, [.int(floor)]), let first = row.int("first_run"), let last = row.int("last_run")
        else { return nil }
        return ((first, row.string("first_at") ?? ""), (last, row.string("last_at") ?? ""))
    }

    /// The run whose state `point` names. Throws, naming the valid range, for a run that doesn't
    /// exist, a time before the first run or after now, and a run before the retention floor.
    public func resolve(_ point: SnapshotPoint, now: Date = Date()) throws -> Int {
        guard let range = try runRange() else {
            throw SnapshotPointError(message: "the mirror has no runs yet (run 'mirrorctl sync' first)", isPruned: false)
        }
        let valid = "runs go from \(range.first.run) (\(range.first.at)) to \(range.last.run) (\(range.last.at))"
        let floor = try Retention(store: self).historyFloor()
        switch point {
        case .run(let run):
            if let floor, run >= 1, run < floor {
                throw SnapshotPointError(message: "run \(run) was pruned: history is kept from run \(floor) on (mirrorctl prune)",
                                         isPruned: true)
            }
            guard try db.row("SELECT 1 FROM runs WHERE id = ? AND status <> 'running'", [.int(run)]) != nil else {
                throw SnapshotPointError(message: "there is no run \(run): \(valid)", isPruned: false)
            }
            return run
        case .time(let date):
            // Stored times have milliseconds, which a Date holds only approximately: half a
            // millisecond more keeps `…00.120Z` from printing (and comparing) as `…00.119Z`.
            let text = Timestamp.string(date.addingTimeInterval(0.0005))
            if date > now {
                throw SnapshotPointError(message: "\(text) is in the future: \(valid)", isPruned: false)
            }
            guard let run = try db.row("SELECT max(id) FROM runs WHERE status <> 'running' AND started_at <= ?",
                                       [.text(text)])?.int(0) else {
                throw SnapshotPointError(message: "\(text) is before the first run: \(valid)", isPruned: false)
            }
            if let floor, run < floor {
                throw SnapshotPointError(message: "\(text) is before the kept history (run \(run) was pruned): \(valid)",
                                         isPruned: true)
            }
            return run
        }
    }

    /// Calls `body` with every entity of the mirror after run `run` (now when nil), optionally of
    /// one kind, in ref order: its ref and canonical body.
    public func eachEntity(atRun run: Int?, kind: String?, _ body: (EntityRef, CanonicalBody) throws -> Void) throws {
        let kindFilter: SQLValue = kind.map { .text($0.lowercased()) } ?? .null
        let statement: Statement
        if let run {
            statement = try db.statement("""
                SELECT c.ref AS ref, c.new_hash AS hash, b.body AS body FROM changes c JOIN blobs b ON b.hash = c.new_hash
                WHERE c.change <> 'deleted' AND (?2 IS NULL OR c.kind = ?2)
                  AND c.run_id = (SELECT max(p.run_id) FROM changes p WHERE p.ref = c.ref AND p.run_id <= ?1)
                ORDER BY c.ref
                """)
            try statement.bind([.int(run), kindFilter])
        } else {
            statement = try db.statement("""
                SELECT e.ref AS ref, e.hash AS hash, b.body AS body FROM entities e JOIN blobs b ON b.hash = e.hash
                WHERE ?1 IS NULL OR e.kind = ?1 ORDER BY e.ref
                """)
            try statement.bind([kindFilter])
        }
        let refColumn = statement.column("ref")
        while try statement.step() {
            guard let ref = statement.ref(refColumn), let stored = MappingSources.body(statement) else { continue }
            try body(ref, stored)
        }
    }

    /// The entities that differ between the state after run `from` and after run `to`, in ref
    /// order: only refs with a change event between the two runs are looked at.
    public func compare(fromRun from: Int, toRun to: Int) throws(DatabaseError) -> [SnapshotChange] {
        // One query: each touched ref with its latest change at or before either run (the same
        // reading of a change as `storedBody`: a delete stores no new body).
        let rows = try db.rows("""
            WITH touched AS (SELECT ref, min(kind) AS kind FROM changes WHERE run_id > ?1 AND run_id <= ?2 GROUP BY ref)
            SELECT t.ref AS ref, t.kind AS kind,
                   bc.change AS before_change, bc.new_hash AS before_hash, bb.body AS before_body,
                   ac.change AS after_change, ac.new_hash AS after_hash, ab.body AS after_body
            FROM touched t
            LEFT JOIN changes bc ON bc.ref = t.ref
                AND bc.run_id = (SELECT max(run_id) FROM changes WHERE ref = t.ref AND run_id <= ?3)
            LEFT JOIN blobs bb ON bb.hash = bc.new_hash
            LEFT JOIN changes ac ON ac.ref = t.ref
                AND ac.run_id = (SELECT max(run_id) FROM changes WHERE ref = t.ref AND run_id <= ?4)
            LEFT JOIN blobs ab ON ab.hash = ac.new_hash
            ORDER BY t.ref
            """, [.int(min(from, to)), .int(max(from, to)), .int(from), .int(to)])
        var changes: [SnapshotChange] = []
        for row in rows {
            guard let ref = row.string("ref"), let kind = row.string("kind") else { continue }
            let before = MirrorStore.storedState(row, prefix: "before_")
            let after = MirrorStore.storedState(row, prefix: "after_")
            let change: ChangeKind
            switch (before, after) {
            case (nil, nil): continue
            case (nil, _): change = .created
            case (_, nil): change = .deleted
            case (let old?, let new?):
                guard old.hash != new.hash else { continue }
                change = .updated
            }
            changes.append(SnapshotChange(ref: ref, kind: kind, change: change, oldBody: before?.body, newBody: after?.body))
        }
        return changes
    }

    /// What changed in each of `changes` (stored bodies on both sides), by ref.
    public func fieldChanges(of changes: [EntityChange]) throws(DatabaseError) -> [EntityRef: [FieldChange]] {
        var fields: [EntityRef: [FieldChange]] = [:]
        for change in changes {
            fields[change.ref] = FieldChanges.between(try change.oldHash.flatMap(parsedBody), try change.newHash.flatMap(parsedBody))
        }
        return fields
    }

    private func parsedBody(_ hash: ContentHash) throws(DatabaseError) -> JSONValue? {
        try body(hash: hash).map { (try? CanonicalJSON.parse($0)) ?? .null }
    }

    /// Every version of one entity with the bodies on both sides, oldest first.
    public func versions(of ref: EntityRef) throws(DatabaseError) -> [HistoryVersion] {
        var bodies: [ContentHash: String] = [:]
        func body(_ hash: ContentHash?) throws(DatabaseError) -> String? {
            guard let hash else { return nil }
            if let known = bodies[hash] { return known }
            let found = try self.body(hash: hash)
            bodies[hash] = found
            return found
        }
        var versions: [HistoryVersion] = []
        for entry in try history(ref: ref) {
            versions.append(HistoryVersion(entry: entry, oldBody: try body(entry.oldHash), newBody: try body(entry.newHash)))
        }
        return versions
    }
}
