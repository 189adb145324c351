import Foundation

/// `mirrorctl-fakes port …`: runs a fake Port for benchmark scripts until SIGTERM/SIGINT, or until
/// stdin reaches EOF when stdin is a pipe (so a dying parent takes the fake with it; a backgrounded
/// job's `/dev/null` stdin is ignored). Prints `READY http://127.0.0.1:PORT` once serving.
/// Returns the exit status: 0, 64 for usage errors, 1 when the server cannot start.
public func runFakePortCommand(arguments: [String]) -> Int32 {
    let options: FakePortCommandOptions
    do {
        options = try FakePortCommandOptions(arguments: arguments.first == "port" ? Array(arguments.dropFirst()) : arguments)
    } catch {
        FakePortCommandOptions.write("Error: \(error.message)\n\n\(FakePortCommandOptions.usage)", to: .standardError)
        return 64
    }
    if options.help {
        FakePortCommandOptions.write(FakePortCommandOptions.usage, to: .standardOutput)
        return 0
    }
    let fake: FakePort
    do {
        fake = try FakePort.start(
            clientId: options.clientId, clientSecret: options.clientSecret, port: options.port,
            configuration: options.configuration)
    } catch {
        FakePortCommandOptions.write("Error: cannot start the fake Port: \(error)\n", to: .standardError)
        return 1
    }
    if !options.configuration.autoBlueprints {
        fake.createPermissiveBlueprints(FakePortCommandOptions.backstageBlueprints)
    }
    FakePortCommandOptions.write("READY \(fake.baseURL)\n", to: .standardOutput)
    ProcessTermination.wait()
    fake.stop()
    return 0
}

/// The command line of `runFakePortCommand`.
struct FakePortCommandOptions {
    struct UsageError: Error {
        let message: String
    }

    /// The blueprints of Port's Backstage integration, created permissively unless `--auto-blueprints`.
    static let backstageBlueprints = ["user", "group", "domain", "system", "api", "resource", "component"]

    static let usage = """
        Usage: mirrorctl-fakes port --client-id ID --client-secret SECRET [options]

        Options:
          --port P                  listen on 127.0.0.1:P (default: a free port)
          --rate-limit N            allow N requests per window (default: 1,000,000)
          --rate-window S           window length in seconds (default: 300)
          --reset-format F          x-ratelimit-reset as 'epoch' (default) or 'seconds' until reset
          --retry-after             send Retry-After on 429s
          --token-lifetime S        access token lifetime in seconds (default: 10800)
          --auto-blueprints         create any blueprint, permissively, on its first entity write
                                    (default: the 7 Backstage blueprints, permissive, and no others)
          --help                    show this help

        Admin: GET /admin/stats, POST /admin/reset-stats

        """

    var clientId = ""
    var clientSecret = ""
    var port: UInt16 = 0
    var help = false
    var configuration = FakePortConfiguration()

    init(arguments: [String]) throws(UsageError) {
        configuration.adminEndpoints = true
        var rest = arguments[...]
        var limit = FakePortRateLimit.generous.limit
        var window = FakePortRateLimit.generous.period
        var resetFormat = FakePortRateLimit.ResetFormat.epochSeconds
        var retryAfter = false
        func value(_ name: String) throws(UsageError) -> String {
            guard let next = rest.popFirst() else { throw UsageError(message: "\(name) needs a value") }
            return next
        }
        func number(_ name: String) throws(UsageError) -> Int {
            let text = try value(name)
            guard let parsed = Int(text), parsed >= 0 else { throw UsageError(message: "\(name) needs a whole number, not '\(text)'") }
            return parsed
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--client-id": clientId = try value(argument)
            case "--client-secret": clientSecret = try value(argument)
            case "--port":
                guard let parsed = UInt16(exactly: try number(argument)) else { throw UsageError(message: "--port is out of range") }
                port = parsed
            case "--rate-limit": limit = try number(argument)
            case "--rate-window": window = max(1, try number(argument))
            case "--reset-format":
                switch try value(argument) {
                case "epoch": resetFormat = .epochSeconds
                case "seconds": resetFormat = .secondsUntilReset
                default: throw UsageError(message: "--reset-format is 'epoch' or 'seconds'")
                }
            case "--retry-after": retryAfter = true
            case "--token-lifetime": configuration.tokenLifetime = TimeInterval(max(1, try number(argument)))
            case "--auto-blueprints": configuration.autoBlueprints = true
            case "--help", "-h": help = true
            default: throw UsageError(message: "unknown argument '\(argument)'")
            }
        }
        configuration.rateLimit = FakePortRateLimit(
            limit: limit, period: window, resetFormat: resetFormat, sendsRetryAfter: retryAfter)
        if !help, clientId.isEmpty || clientSecret.isEmpty {
            throw UsageError(message: "--client-id and --client-secret are required")
        }
    }

    static func write(_ text: String, to handle: FileHandle) {
        handle.write(Data(text.utf8))
    }
}
