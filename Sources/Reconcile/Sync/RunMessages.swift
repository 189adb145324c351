/// What a run says while it goes on: every event reaches the caller's `onEvent`, and warnings
/// and errors are also kept (up to a bound) for the run's report.
final class RunMessages {
    private let onEvent: (SyncEvent) -> Void
    /// The warning and error lines said so far (the report's `warnings`).
    private(set) var said: [String] = []

    init(onEvent: @escaping (SyncEvent) -> Void) {
        self.onEvent = onEvent
    }

    func send(_ event: SyncEvent) {
        onEvent(event)
    }

    func warn(_ message: String) {
        keep(message)
        onEvent(.warning(message))
    }

    func fail(_ message: String) {
        keep(message)
        onEvent(.error(message))
    }

    func detail(_ message: String) {
        onEvent(.detail(message))
    }

    private func keep(_ message: String) {
        if said.count < 1_000 { said.append(message) }
    }
}
