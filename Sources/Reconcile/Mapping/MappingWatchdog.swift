import Foundation
import Store
import Synchronization

/// Where one `CompiledMapping` (one thread) is: the entity being mapped, since when, and the
/// field being evaluated, for `MappingWatchdog`. The entity is set under a lock once per entity;
/// the field is an atomic store per expression, cheap enough for the hot path. All of a resource's
/// expressions run in one jq program, which marks the start of each field through libjq's debug
/// callback (`MappingProgram.resource`), so the field is known while the program runs.
final class MappingProgress: @unchecked Sendable {
    /// `(path, expression)` of every field, per resource: index 0 is `selector.query`, then the
    /// fields in evaluation order. Immutable.
    private let descriptions: [[(path: String, expression: String)]]
    private let lock = NSLock()
    private var entity: EntityRef?  // guarded by lock
    private var sequence = 0  // guarded by lock
    /// The CPU clock of the thread mapping `entity`.
    private var clock = clockid_t()  // guarded by lock
    /// `resource << 20 | field slot`, or -1 between evaluations.
    private let position = Atomic<Int>(-1)

    init(descriptions: [[(path: String, expression: String)]]) {
        self.descriptions = descriptions
        MappingWatchdog.registry.add(self)
    }

    /// An entity starts mapping on the calling thread.
    func begin(_ ref: EntityRef) {
        lock.withLock {
            entity = ref
            sequence &+= 1
            if pthread_getcpuclockid(pthread_self(), &clock) != 0 { clock = CLOCK_MONOTONIC }
        }
    }

    func end() {
        lock.withLock { entity = nil }
        position.store(-1, ordering: .relaxed)
    }

    /// The expression at `slot` of resource `resource` is about to run (slot 0: the selector).
    @inline(__always)
    func at(resource: Int, slot: Int) {
        position.store(resource << 20 | slot, ordering: .relaxed)
    }

    /// What is running now, if anything.
    func snapshot() -> MappingWatchdog.Snapshot? {
        let (entity, clock, sequence) = lock.withLock { (self.entity, self.clock, self.sequence) }
        guard let entity else { return nil }
        let position = position.load(ordering: .relaxed)
        var path = "(between fields)"
        var expression = ""
        var resource = -1
        if position >= 0 {
            resource = position >> 20
            let slot = position & ((1 << 20) - 1)
            if descriptions.indices.contains(resource), descriptions[resource].indices.contains(slot) {
                (path, expression) = descriptions[resource][slot]
            }
        }
        return MappingWatchdog.Snapshot(entity: entity, sequence: sequence, clock: clock,
                                        resourceIndex: resource, field: path, expression: expression)
    }
}

/// Bounds the work of one entity's mapping. libjq 1.6 has no way to interrupt an evaluation, and a
/// `jq_state` can't be torn down safely in the middle of one, so a mapping expression that loops
/// (`def f: f; f`) or allocates without bound (`[range(1e9)]`, `[repeat(.)]`) can't be stopped from
/// outside. This watchdog thread notices it instead — the thread mapping one entity spending more
/// than `timeBudget` seconds of CPU on it, or the process growing by more than `memoryBudget` bytes
/// while one entity maps — and calls `onOverrun` with the entity, field and expression, which is
/// expected to end the process (the run's transaction is not committed, so the database stays as
/// it was). CPU time, not wall time: a busy machine that leaves the thread waiting must not trip it.
/// Both are measured from the first poll that sees the entity mapping (at most `pollInterval` late).
public final class MappingWatchdog: @unchecked Sendable {
    /// What a `MappingProgress` reports.
    public struct Snapshot: Sendable {
        public let entity: EntityRef
        let sequence: Int
        let clock: clockid_t
        /// Index in `resources`, or -1 when unknown.
        public let resourceIndex: Int
        /// `selector.query`, `identifier`, `properties.x`, …
        public let field: String
        /// The expression as written in the mapping.
        public let expression: String
    }

    /// One entity over budget.
    public struct Overrun: Sendable, CustomStringConvertible {
        public enum Limit: Sendable {
            case time(seconds: Double)
            case memory(bytes: Int)
        }

        public let snapshot: Snapshot
        public let limit: Limit

        /// One line naming the entity, the field and the expression.
        public var description: String {
            let s = snapshot
            let what: String
            switch limit {
            case .time(let seconds):
                what = "ran longer than \(SecondsText.describe(seconds)) of CPU"
            case .memory(let bytes):
                what = "allocated more than \(bytes >> 20) MiB"
            }
            let expression = TerminalText.shortened(s.expression, to: 200)
            return "mapping \(s.entity): resources[\(s.resourceIndex)] \(s.field): jq expression `\(expression)` \(what) for one entity"
        }
    }

    /// Every live `MappingProgress` (held weakly).
    final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [Weak] = []

        struct Weak {
            weak var progress: MappingProgress?
        }

        func add(_ progress: MappingProgress) {
            lock.withLock {
                entries.removeAll { $0.progress == nil }
                entries.append(Weak(progress: progress))
            }
        }

        var alive: [MappingProgress] { lock.withLock { entries.compactMap(\.progress) } }
    }

    static let registry = Registry()

    public let timeBudget: Double
    public let memoryBudget: Int
    private let pollInterval: Double
    private let onOverrun: @Sendable (Overrun) -> Void
    private let stopped = Atomic<Bool>(false)

    /// - Parameters:
    ///   - timeBudget: CPU seconds one entity may take through every resource of the mapping.
    ///   - memoryBudget: bytes the process may grow by while one entity maps (libjq aborts the
    ///     process when an allocation fails, so this must trip first).
    ///   - onOverrun: called once, on the watchdog's thread; it should end the process.
    public init(timeBudget: Double = 2, memoryBudget: Int = 512 << 20, pollInterval: Double = 0.05,
                onOverrun: @escaping @Sendable (Overrun) -> Void) {
        self.timeBudget = timeBudget
        self.memoryBudget = memoryBudget
        self.pollInterval = pollInterval
        self.onOverrun = onOverrun
    }

    /// Starts watching every compiled mapping of the process, on a thread of its own.
    public func start() {
        let thread = Thread { [self] in watch() }
        thread.name = "mapping-watchdog"
        thread.start()
    }

    /// Stops watching (within one poll interval).
    public func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func watch() {
        // Per progress: the entity first seen mapping, and the thread's CPU time and the resident size then.
        var seen: [ObjectIdentifier: (sequence: Int, cpu: Double, resident: Int)] = [:]
        while !stopped.load(ordering: .relaxed) {
            Thread.sleep(forTimeInterval: pollInterval)
            let resident = MappingWatchdog.residentBytes()
            var next: [ObjectIdentifier: (sequence: Int, cpu: Double, resident: Int)] = [:]
            for progress in MappingWatchdog.registry.alive {
                guard let snapshot = progress.snapshot(), let cpu = MappingWatchdog.seconds(of: snapshot.clock) else { continue }
                let id = ObjectIdentifier(progress)
                guard let earlier = seen[id], earlier.sequence == snapshot.sequence else {
                    next[id] = (snapshot.sequence, cpu, resident)
                    continue
                }
                if cpu - earlier.cpu > timeBudget {
                    return fire(Overrun(snapshot: snapshot, limit: .time(seconds: timeBudget)))
                }
                if resident - earlier.resident > memoryBudget {
                    return fire(Overrun(snapshot: snapshot, limit: .memory(bytes: memoryBudget)))
                }
                next[id] = earlier
            }
            seen = next
        }
    }

    private func fire(_ overrun: Overrun) {
        stopped.store(true, ordering: .relaxed)
        onOverrun(overrun)
    }

    /// The time of `clock` in seconds (a thread's CPU time), or nil when it can't be read (the
    /// thread is gone).
    static func seconds(of clock: clockid_t) -> Double? {
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return nil }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The process's resident set size, from `/proc/self/statm` (0 when unreadable).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
