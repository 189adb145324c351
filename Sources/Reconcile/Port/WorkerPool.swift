import Foundation

/// Runs jobs on a fixed number of threads, each with its own worker state (an HTTP connection,
/// a jq state): bounded concurrency for pushes and mapping without sharing non-thread-safe handles.
final class WorkerPool<Worker, Job, Result> {
    private let count: Int
    private let makeWorker: () throws -> Worker

    init(count: Int, makeWorker: @escaping () throws -> Worker) {
        self.count = max(1, count)
        self.makeWorker = makeWorker
    }

    /// Runs `body` over `jobs` (order of results = order of jobs). A worker that can't be made
    /// turns its jobs into `failure`.
    func run(_ jobs: [Job], body: @escaping (Worker, Job) -> Result, failure: @escaping (Job, Error) -> Result) -> [Result] {
        guard !jobs.isEmpty else { return [] }
        let shared = Shared(jobs: jobs, makeWorker: makeWorker, body: body, failure: failure)
        let group = DispatchGroup()
        for _ in 0..<min(count, jobs.count) {
            group.enter()
            let thread = Thread {
                shared.work()
                group.leave()
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        group.wait()
        return shared.results.compactMap { $0 }
    }

    /// The state the threads share; every mutable access is under `lock`. Workers, jobs and
    /// results are each touched by one thread at a time, which is why this is @unchecked Sendable.
    private final class Shared: @unchecked Sendable {
        let jobs: [Job]
        let makeWorker: () throws -> Worker
        let body: (Worker, Job) -> Result
        let failure: (Job, Error) -> Result
        let lock = NSLock()
        var next = 0
        var results: [Result?]

        init(jobs: [Job], makeWorker: @escaping () throws -> Worker, body: @escaping (Worker, Job) -> Result,
             failure: @escaping (Job, Error) -> Result) {
            self.jobs = jobs
            self.makeWorker = makeWorker
            self.body = body
            self.failure = failure
            results = Array(repeating: nil, count: jobs.count)
        }

        func work() {
            var worker: Worker?
            var creationError: Error?
            do { worker = try makeWorker() } catch { creationError = error }
            while true {
                lock.lock()
                let index = next
                next += 1
                lock.unlock()
                guard index < jobs.count else { return }
                let result = worker.map { body($0, jobs[index]) } ?? failure(jobs[index], creationError ?? CancellationError())
                lock.lock()
                results[index] = result
                lock.unlock()
            }
        }
    }
}
