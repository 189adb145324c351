import FakeServers
import Foundation

// mirrorctl-fakes: loopback fakes for benchmark scripts.
//   mirrorctl-fakes backstage --entities N [--seed S] [--token T] [--port P]
//   mirrorctl-fakes port --client-id ID --client-secret SECRET [...]
// Each prints `READY http://127.0.0.1:PORT` on stdout once serving.

let usage = """
    Usage: mirrorctl-fakes <backstage|port> [options]   (--help after a subcommand for its options)

    """

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "backstage":
    exit(runFakeBackstageCommand(arguments: Array(arguments.dropFirst())))
case "port":
    exit(runFakePortCommand(arguments: Array(arguments.dropFirst())))
case "--help", "-h":
    FileHandle.standardOutput.write(Data(usage.utf8))
    exit(0)
default:
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}
