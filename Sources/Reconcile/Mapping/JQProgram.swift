import CJQ
import Foundation
import Store

/// One compiled jq program: owns one `jq_state`, freed in `deinit`.
///
/// A `jq_state` holds the program and the run stack, so one program runs one input at a time:
/// use it from a single thread (it is deliberately not `Sendable`).
final class JQProgram {
    /// Collects messages from libjq's error callback (compile errors arrive there).
    private final class ErrorSink {
        var messages: [String] = []
    }

    private var state: OpaquePointer?
    private let sink = ErrorSink()

    /// Serializes `jq_init`/`jq_compile` across threads: compiles are rare (once per mapping per
    /// worker) and libjq 1.6 does not document them as thread-safe; running programs needs no lock.
    private static let compileLock = NSLock()

    /// The file of the libjq this process runs, symlinks resolved (`libjq.so.1.0.4`): what
    /// compiled under one libjq is not assumed to compile under another.
    static let libraryIdentity: String = {
        let entry: @convention(c) () -> OpaquePointer? = jq_init
        var info = mirrorctl_dl_info()
        guard dladdr(unsafeBitCast(entry, to: UnsafeRawPointer.self), &info) != 0, let file = info.dli_fname else {
            return "libjq (unknown file)"
        }
        return URL(fileURLWithPath: String(cString: file)).resolvingSymlinksInPath().lastPathComponent
    }()

    /// Compiles `source`.
    /// - Throws: `JQCompileFailure` with libjq's messages when the text does not compile.
    init(_ source: String) throws(JQCompileFailure) {
        JQProgram.compileLock.lock()
        defer { JQProgram.compileLock.unlock() }
        state = jq_init()
        guard let state else { throw JQCompileFailure(messages: ["libjq could not allocate a jq_state"]) }
        // > The callback gets an owned jv; jq_format_error consumes it and returns a new string.
        jq_set_error_cb(state, { context, message in
            let message = JQReference(adopting: message)
            guard let context else { return }
            let sink = Unmanaged<ErrorSink>.fromOpaque(context).takeUnretainedValue()
            if let text = JQReference(adopting: jq_format_error(message.release())).stringValue {
                sink.messages.append(JQErrorText.cut(text))
            }
        }, Unmanaged.passUnretained(sink).toOpaque())
        // libjq 1.6's jq_init leaves the input and debug callbacks uninitialised, so `input` or
        // `debug` in an expression would call a stray pointer (a crash). Set them to none: `input`
        // is then an error (libjq 1.6 says "break"), and `debug` passes its input on silently.
        jq_set_input_cb(state, nil, nil)
        jq_set_debug_cb(state, nil, nil)
        // `sink` lives as long as `self`, and `deinit` tears the state down before the sink goes.
        let compiled = source.withCString { jq_compile(state, $0) }
        guard compiled != 0 else {
            throw JQCompileFailure(messages: sink.messages)  // deinit still runs and frees the state
        }
        sink.messages.removeAll()
    }

    deinit {
        jq_teardown(&state)
    }

    /// Starts the program on `input`. The corresponding C function is `jq_start`.
    func start(consuming input: consuming JQReference) {
        jq_start(state, input.release(), 0)
    }

    /// The next output: a valid value, or an invalid one that is either the normal end (no
    /// message) or a runtime error (message). The corresponding C function is `jq_next`.
    func next() -> JQReference {
        JQReference(adopting: jq_next(state))
    }

    /// Whether the last run ended in `halt` or `halt_error`. The corresponding C function is `jq_halted`.
    var halted: Bool {
        jq_halted(state) != 0
    }

    /// Sends what `debug` outputs to `callback`, with `context`. The callback owns the value it
    /// gets: it adopts it (`JQReference(adopting:)`).
    func onDebug(context: UnsafeMutableRawPointer, _ callback: jq_msg_cb) {
        jq_set_debug_cb(state, callback, context)
    }
}

@available(*, unavailable)
extension JQProgram: Sendable {}

/// A jq text that libjq refused, with libjq's messages.
struct JQCompileFailure: Error {
    let messages: [String]

    /// libjq's messages without the `jq: error: ` prefixes and the closing "N compile errors" line.
    var message: String {
        var lines: [String] = []
        for raw in messages {
            var text = Substring(raw)
            while let last = text.last, last.isNewline { text = text.dropLast() }
            if text.hasPrefix("jq: error: ") { text = text.dropFirst("jq: error: ".count) }
            if text.hasPrefix("jq: "), text.hasSuffix(" compile error") || text.hasSuffix(" compile errors") {
                continue
            }
            lines.append(String(text))
        }
        return lines.isEmpty ? "jq compile error" : lines.joined(separator: "; ")
    }
}

/// Rendering of jq error values as text.
enum JQErrorText {
    /// The message of an invalid value (a jq runtime error) as text.
    static func message(ofInvalid invalid: consuming JQReference) -> String {
        describeErrorValue(invalid.invalidMessage())
    }

    /// An error value (what `error(x)` raised): strings as they are, anything else as compact
    /// JSON followed by `(not a string)`, as jq prints them.
    static func describeErrorValue(_ value: consuming JQReference) -> String {
        if let text = value.stringValue { return cut(text) }
        guard let dumped = value.compactText else { return "jq error" }
        return "\(cut(dumped)) (not a string)"
    }

    /// Text up to its first NUL, as jq prints a message (a C string).
    static func cut(_ text: String) -> String {
        guard let end = text.firstIndex(of: "\u{0}") else { return text }
        return String(text[..<end])
    }
}
