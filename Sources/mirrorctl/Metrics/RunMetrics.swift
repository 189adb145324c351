import Foundation

/// What mirrorctl exposes to Prometheus: the last finished run, and the requests counted so far
/// (one run's for `sync --metrics-file`, the whole process's for `watch`, where they are counters).
struct RunMetrics {
    private(set) var lastRun: RunSummary?
    private(set) var requests: [String: [String: Int]] = [:]

    /// Takes a finished run: it becomes the last run, and its requests add to the totals.
    mutating func record(_ run: RunSummary) {
        lastRun = run
        for (target, codes) in run.requests {
            for (code, count) in codes { requests[target, default: [:]][code, default: 0] += count }
        }
    }

    /// Every family, in a fixed order. Before the first run only the request counter is there
    /// (without samples): a missing last-run metric means "no run yet", never a made-up zero.
    var families: [MetricFamily] {
        var families: [MetricFamily] = []
        if let run = lastRun {
            families += [
                MetricFamily("mirrorctl_last_run_timestamp_seconds", .gauge,
                             help: "When the last sync run finished, in seconds since the Unix epoch.",
                             value: run.finishedAt.timeIntervalSince1970.rounded(toPlaces: 3)),
                MetricFamily("mirrorctl_last_run_success", .gauge,
                             help: "1 when the last sync run succeeded, 0 when it was partial or failed.",
                             value: run.succeeded ? 1 : 0),
                MetricFamily("mirrorctl_last_run_reasons", .gauge,
                             help: "1 for each reason the last sync run gave for not succeeding.",
                             label: "reason", values: Dictionary(run.reasons.map { ($0, 1.0) }, uniquingKeysWith: { first, _ in first })),
                MetricFamily("mirrorctl_run_duration_seconds", .gauge,
                             help: "Seconds the last sync run spent in each stage.",
                             label: "stage", values: run.stageSeconds.mapValues { $0.rounded(toPlaces: 3) }),
                MetricFamily("mirrorctl_entities", .gauge,
                             help: "Catalog entities the last sync run found, by change in the mirror.",
                             label: "change", values: run.entities),
                MetricFamily("mirrorctl_port_entities", .gauge,
                             help: "Port entities after the last sync run, by push result (pending: not yet acknowledged by Port).",
                             label: "result", values: run.portEntities),
                MetricFamily("mirrorctl_mapping_errors", .gauge,
                             help: "Mapping and selector evaluations that failed in the last sync run.",
                             value: Double(run.mappingErrors)),
            ]
            if let id = run.run {
                families.append(MetricFamily("mirrorctl_last_run_id", .gauge, help: "The id of the last sync run (see 'mirrorctl runs').",
                                             value: Double(id)))
            }
        }
        var requestsFamily = MetricFamily("mirrorctl_requests_total", .counter,
                                          help: "HTTP requests sent, retries included, by target and status code (code none: no HTTP answer).")
        for (target, codes) in requests.sorted(by: { $0.key < $1.key }) {
            for (code, count) in codes.sorted(by: { $0.key < $1.key }) {
                requestsFamily.samples.append(.init(labels: [("target", target), ("code", code)], value: Double(count)))
            }
        }
        families.append(requestsFamily)
        return families
    }

    var text: String { MetricsText.render(families) }
}

/// `sync --metrics-file PATH`: the run's metrics for node_exporter's textfile collector, written
/// whole to a temporary file in the same directory and renamed over PATH, so the collector never
/// reads half a file. The temporary name starts with a dot and does not end in `.prom`, so the
/// collector ignores it.
enum MetricsFile {
    static let option = OptionSpec(name: "metrics-file", value: "PATH",
                                   help: "Write the run's Prometheus metrics to PATH, atomically (node_exporter textfile collector format).")

    struct WriteError: Error, CustomStringConvertible {
        let path: String
        let message: String
        var description: String { "--metrics-file \(path): \(message)" }
    }

    /// Checks, before the run, that PATH's directory exists: a typo is a configuration error,
    /// not a sync whose metrics silently go nowhere.
    static func path(_ arguments: ParsedArguments) throws(UsageError) -> String? {
        guard let path = arguments.value(option.name) else { return nil }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard !path.hasSuffix("/"), FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("--metrics-file \(path): no such directory '\(directory)'")
        }
        return path
    }

    static func write(_ text: String, to path: String) throws(WriteError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, message: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var failure: String?
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count, failure == nil {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written == 0 || errno != EINTR {
                failure = "cannot write \(temporary): \(String(cString: strerror(errno)))"
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = "cannot sync \(temporary): \(String(cString: strerror(errno)))" }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = "cannot rename it into place: \(String(cString: strerror(errno)))" }
        if let failure {
            unlink(temporary)
            throw WriteError(path: path, message: failure)
        }
    }
}
