import Foundation

/// `mirrorctl watch`: sync on an interval until stopped. Each run is a `mirrorctl sync` child
/// process, so it takes the same writer lock, and a run cut short is abandoned exactly as a killed
/// `sync` is (its walk transaction never commits; an interrupted push is re-sent next run).
enum WatchCommand {
    static let spec = CommandSpec(
        name: "watch", abstract: "Sync on an interval until SIGTERM/SIGINT; one log line per run.",
        usage: "watch [--interval DURATION] [--once] [--max-backoff DURATION] [--grace DURATION] [--metrics-addr HOST:PORT] [--prune-keep-days D] [sync options] [--json]",
        options: walkOptions.filter { $0.name != "json" } + scheduleOptions + WatchPruner.options + [
            OptionSpec(name: "once", value: nil, help: "Run one sync and exit with its status (the same as 'mirrorctl sync')."),
            OptionSpec(name: "json", value: nil, help: "Print each run's 'sync --json' object on stdout, one per line."),
            metricsAddressOption,
        ],
        discussion: """
            A tick that comes while a run is still going is skipped, never queued. After a failed run,
            or one partial because a server was down or refused the credentials, the next one waits
            twice as long as the last wait (up to --max-backoff); a run partial for mapping errors or
            rejected entities keeps the interval.
            On SIGTERM or SIGINT no new run starts; a run in progress finishes within --grace or is
            abandoned (nothing half-written), then watch exits 0. A run finds the database locked by
            another writer: that tick is skipped. Exit status: 0 stopped by a signal, 2 configuration
            error (checked before the first run, the metrics address included), 4 database unusable.
            With --metrics-addr, GET /metrics is Prometheus text (the last run's metrics, request
            counters since start) and GET /healthz is 200 while the watcher is alive and not stuck,
            503 otherwise: a liveness check. Alert on mirrorctl_last_run_success or 'mirrorctl status'.
            """)

    static let metricsAddressOption = OptionSpec(
        name: "metrics-addr", value: "HOST:PORT",
        help: "Serve /metrics and /healthz over HTTP here (a bare PORT binds 127.0.0.1; port 0 picks a free one).")

    /// The schedule's settings (also accepted by `config show`).
    static let scheduleOptions = [
        OptionSpec(name: "interval", value: "DURATION", help: "Time between run starts, e.g. 60s, 5m (env MIRROR_WATCH_INTERVAL, default 60s)."),
        OptionSpec(name: "max-backoff", value: "DURATION", help: "Longest wait after consecutive failures (default 15m)."),
        OptionSpec(name: "grace", value: "DURATION", help: "How long a run in progress may go on after SIGTERM/SIGINT before it is abandoned (default 20s)."),
    ]

    static func run(_ arguments: ParsedArguments, context: CommandContext) throws -> ExitStatus {
        if arguments.flag("once") { return try WatchPruner.syncOnce(arguments, context: context) }
        // From the start: a stop asked while the configuration loads ends the watch before its
        // first run, with status 0, instead of killing it.
        StopSignal.install()
        // Check the configuration once, up front: a mistake is reported now, not every interval.
        let configuration = try Configuration.load(arguments, environment: context.environment)
        _ = try configuration.requireBackstageURL()
        _ = try loadMapping(configuration.mappingPath, configuration: configuration, database: configuration.databasePath)
        let schedule = WatchSchedule(interval: configuration.watchInterval,
                                     maxBackoff: max(configuration.watchMaxBackoff, configuration.watchInterval))
        let runner = try SyncChild(arguments: arguments, context: context)
        _ = try RunLimits.load(arguments)
        let timeout = arguments.value(RunLimits.timeoutOption.name).flatMap(DurationText.seconds)
        let monitor = WatchMonitor(runBound: WatchMonitor.runBound(timeout: timeout, grace: configuration.watchGrace))
        let server = try serveMetrics(arguments, monitor: monitor, logger: context.console.logger)
        defer { server?.stop() }
        var loop = WatchLoop(schedule: schedule, grace: configuration.watchGrace, runner: runner, context: context,
                             json: arguments.flag("json"), monitor: monitor)
        loop.pruner = WatchPruner(configuration, database: arguments.value("db"), environment: runner.environment)
        return loop.run()
    }
}
