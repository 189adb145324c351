import Foundation

/// Runs jobs on a fixed number of threads, each with its own worker state (an HTTP connection,
/// a jq state): bounded concurrency for pushes and mapping without sharing non-thread-safe handles.
/// Workers are made once and kept across `run` calls (connections stay alive, jq programs stay
/// compiled); within a call each worker belongs to one thread.
final class WorkerPool<Worker, Job, Output> {
    private let count: Int
    private let makeWorker: () throws -> Worker
    private var slots: [Slot]

    init(count: Int, makeWorker: @escaping () throws -> Worker) {
        self.count = max(1, count)
        self.makeWorker = makeWorker
        slots = (0..<max(1, count)).map { _ in Slot() }
    }

    /// One thread's worker, made lazily on that thread.
    fileprivate final class Slot: @unchecked Sendable {
        var worker: Worker?
        var creationError: Error?
    }

    /// Runs `body` over `jobs` (order of outputs = order of jobs). A worker that can't be made
    /// turns its jobs into `failure`.
    func run(_ jobs: [Job], body: @escaping (Worker, Job) -> Output, failure: @escaping (Job, Error) -> Output) -> [Output] {
        start(jobs, body: body, failure: failure).wait()
    }

    /// Starts `run` on the pool's threads and returns at once, so the caller can do its own part
    /// (read the next jobs, store the last outputs) meanwhile. Wait for the batch before starting
    /// another: a worker belongs to one thread at a time.
    func start(_ jobs: [Job], body: @escaping (Worker, Job) -> Output, failure: @escaping (Job, Error) -> Output) -> Batch {
        let shared = Shared(jobs: jobs, makeWorker: makeWorker, body: body, failure: failure)
        let group = DispatchGroup()
        for slot in slots.prefix(min(count, jobs.count)) {
            group.enter()
            let thread = Thread {
                shared.work(in: slot)
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        return Batch(group: group, shared: shared)
    }

    /// Jobs running on the pool's threads.
    struct Batch {
        fileprivate let group: DispatchGroup
        fileprivate let shared: Shared

        /// Blocks until every job is done; their outputs, in job order.
        func wait() -> [Output] {
            group.wait()
            return shared.outputs.compactMap { $0 }
        }
    }

    /// The state the threads share; every mutable access is under `lock`. Jobs and outputs are
    /// each touched by one thread at a time, which is why this is @unchecked Sendable.
    fileprivate final class Shared: @unchecked Sendable {
        let jobs: [Job]
        let makeWorker: () throws -> Worker
        let body: (Worker, Job) -> Output
        let failure: (Job, Error) -> Output
        let lock = NSLock()
        var next = 0
        var outputs: [Output?]

        init(jobs: [Job], makeWorker: @escaping () throws -> Worker, body: @escaping (Worker, Job) -> Output,
             failure: @escaping (Job, Error) -> Output) {
            self.jobs = jobs
            self.makeWorker = makeWorker
            self.body = body
            self.failure = failure
            outputs = Array(repeating: nil, count: jobs.count)
        }

        func work(in slot: Slot) {
            if slot.worker == nil && slot.creationError == nil {
                do { slot.worker = try makeWorker() } catch { slot.creationError = error }
            }
            while true {
                lock.lock()
                let index = next
                next += 1
                lock.unlock()
                guard index < jobs.count else { return }
                let output = slot.worker.map { body($0, jobs[index]) }
                    ?? failure(jobs[index], slot.creationError ?? CancellationError())
                lock.lock()
                outputs[index] = output
                lock.unlock()
            }
        }
    }
}
