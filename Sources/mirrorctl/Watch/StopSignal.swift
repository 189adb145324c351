import Glibc
import Synchronization

/// SIGTERM and SIGINT, noted by a handler and read by the loop. The handler only stores an
/// atomic, so it is async-signal-safe; caught signals revert to the default in the child.
enum StopSignal {
    static let received = Atomic<Int32>(0)

    static func install() {
        for number in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in StopSignal.received.store(signal, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(number, &action, nil)
        }
    }

    static var name: String? {
        switch received.load(ordering: .relaxed) {
        case 0: return nil
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case let other: return "signal \(other)"
        }
    }
}
