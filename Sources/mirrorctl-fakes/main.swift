import FakeServers
import Foundation

// mirrorctl-fakes: loopback fakes and measuring tools for benchmark scripts (scripts/bench).
//   mirrorctl-fakes backstage --entities N [--seed S] [--token T] [--port P]
//   mirrorctl-fakes port --client-id ID --client-secret SECRET [...]
// Each prints `READY http://127.0.0.1:PORT` on stdout once serving.
//   mirrorctl-fakes floor --url URL --kind K... [--page-size N] [--fields F,...]   the walk's floor
//   mirrorctl-fakes ocean-estimate --url URL --kind K...   requests Ocean's pattern needs
//   mirrorctl-fakes mapbench --entities N [--mapping M]    mapping throughput on one thread

let usage = """
    Usage: mirrorctl-fakes <backstage|port|floor|ocean-estimate|mapbench> [options]   (--help after a subcommand for its options)

    """

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "backstage":
    exit(runFakeBackstageCommand(arguments: Array(arguments.dropFirst())))
case "port":
    exit(runFakePortCommand(arguments: Array(arguments.dropFirst())))
case "floor":
    exit(runFloorCommand(arguments: Array(arguments.dropFirst())))
case "ocean-estimate":
    exit(OceanEstimate.run(arguments: Array(arguments.dropFirst())))
case "mapbench":
    exit(MapBench.run(arguments: Array(arguments.dropFirst())))
case "--help", "-h":
    FileHandle.standardOutput.write(Data(usage.utf8))
    exit(0)
default:
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}
