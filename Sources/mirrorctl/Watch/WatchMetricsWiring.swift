extension WatchCommand {
    /// With `--metrics-addr`, starts serving the watcher's `/metrics` and `/healthz` (answered by
    /// `monitor`) and logs where; nil without the option. The caller stops the server.
    static func serveMetrics(_ arguments: ParsedArguments, monitor: WatchMonitor, logger: Logger) throws -> MetricsServer? {
        guard let text = arguments.value(metricsAddressOption.name) else { return nil }
        let server = try MetricsServer(address: ListenAddress(parsing: text)) { path in monitor.reply(path: path) }
        server.start()
        logger.info("metrics.listening", "serving /metrics and /healthz on http://\(server.address)",
                    fields: ["address": .string(server.address.description), "port": .number(Double(server.address.port))])
        return server
    }
}
