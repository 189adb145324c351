import Foundation
import Reconcile

/// A one-line progress display on stderr for walks and pushes (counts, rate, and an ETA when
/// the total is known), redrawn at most ten times a second, and only when stderr is a terminal.
/// Warnings always go to the log, whatever the terminal.
final class Progress {
    private let console: Console
    private let clock: () -> Date
    private var active = false
    private var lastDraw = Date.distantPast
    private var phaseStart = Date()
    private var phase = ""
    private var pushTotal: Int?
    /// The run's id once known: log lines carry it.
    private var run: Int?

    init(console: Console, clock: @escaping () -> Date = Date.init) {
        self.console = console
        self.clock = clock
    }

    func handle(_ event: SyncEvent) {
        switch event {
        case .runStarted(let id):
            run = id
        case .pushStarted(let total):
            pushTotal = total
            start("push")
        case .kindStarted(let kind):
            start("walk \(kind)")
        case .page(let kind, let number, _, let total):
            if phase != "walk \(kind)" { start("walk \(kind)") }
            draw("\(kind): \(total) entities, page \(number)", done: total, total: nil)
        case .kindFinished(let outcome):
            console.logger.log(.debug, "walk.kind.finished", "\(outcome.kind): \(outcome.fetched) fetched\(outcome.complete ? "" : ", incomplete")",
                               fields: ["kind": .string(outcome.kind), "fetched": .number(Double(outcome.fetched)),
                                        "complete": .bool(outcome.complete)], run: run)
        case .pushProgress(let done):
            draw("port: \(done)\(pushTotal.map { "/\($0)" } ?? "") pushed", done: done, total: pushTotal)
        case .warning(let message):
            finish()
            console.logger.log(.warn, "warning", message, run: run)
        case .notice(let message):
            finish()
            console.logger.log(.info, "notice", message, run: run)
        case .error(let message):
            finish()
            console.logger.log(.error, "error", message, run: run)
        case .detail(let message):
            guard console.logger.enabled(.debug) else { return }
            finish()
            console.logger.log(.debug, "detail", message, run: run)
        }
    }

    /// Clears the line.
    func finish() {
        if active { console.err("\r\u{1B}[K") }
        active = false
    }

    private func start(_ name: String) {
        phase = name
        phaseStart = clock()
        lastDraw = .distantPast
    }

    private func draw(_ text: String, done: Int, total: Int?) {
        guard console.stderrIsTerminal, console.logger.settings.format == .human else { return }
        let now = clock()
        guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        console.err("\r\u{1B}[K" + ProgressLine.text(text, done: done, total: total, elapsed: now.timeIntervalSince(phaseStart)))
        active = true
    }
}

/// The text of one progress line: `what, 850/s, ETA 12s`.
enum ProgressLine {
    static func text(_ what: String, done: Int, total: Int?, elapsed: Double) -> String {
        guard elapsed > 0.2, done > 0 else { return what }
        let rate = Double(done) / elapsed
        var line = "\(what), \(rate >= 10 ? String(Int(rate)) : String(format: "%.1f", rate))/s"
        if let total, total > done {
            line += ", ETA \(DurationText.describe(Double(total - done) / rate))"
        }
        return line
    }
}
