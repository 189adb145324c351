import FakeServers
import Foundation
import Reconcile
import Store

/// `mirrorctl-fakes mapbench --entities N`: the mapping engine's throughput on one thread, over the
/// generated catalog `mirrorctl-fakes backstage` serves. Each entity is stored as canonical JSON
/// (as the mirror stores it); "map" times `CompiledMapping.map` over entities parsed beforehand,
/// "parse+map" times what the engine does per changed entity: parse the stored body, then map.
/// Best of `--rounds` rounds. Prints JSON.
enum MapBench {
    static let usage = """
        Usage: mirrorctl-fakes mapbench --entities N [options]

        Options:
          --entities N        how many entities to generate (required)
          --seed S            generator seed (default: 1)
          --mapping M         builtin (default), ocean-default, or a mapping YAML file
          --rounds R          timed rounds; the best counts (default: 3)
          --help              show this help

        """

    static func run(arguments: [String]) -> Int32 {
        var count: Int?
        var seed: UInt64 = 1
        var mappingName = "builtin"
        var rounds = 3
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--help" || argument == "-h" {
                FileHandle.standardOutput.write(Data(usage.utf8))
                return 0
            }
            guard let value = rest.popFirst() else { return usageError("\(argument) needs a value") }
            switch argument {
            case "--entities": count = Int(value)
            case "--seed": seed = UInt64(value) ?? 0
            case "--mapping": mappingName = value
            case "--rounds": rounds = Int(value) ?? 0
            default: return usageError("unknown argument '\(argument)'")
            }
        }
        guard let count, count > 0, rounds > 0 else { return usageError("--entities and --rounds need positive integers") }
        do {
            let mapping = try CompiledMapping(try PortAppConfig.parse(yaml: try yaml(mappingName), file: mappingName))
            // The fakes have their own JSON type; the product reads their catalog as JSON text.
            let catalog = try FakeBackstage.generateCatalog(count: count, seed: seed).map { entity in
                try CanonicalJSON.parse(FakeJSON.bytes(entity))
            }
            let result = measure(mapping, catalog, rounds: rounds)
            var json = result
            json["mapping"] = .string(mappingName)
            FileHandle.standardOutput.write(Data(CanonicalJSON.bytes(.object(json)) + [0x0A]))
            return 0
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            return 1
        }
    }

    private static func yaml(_ name: String) throws -> String {
        switch name {
        case "builtin": return BuiltinMapping.yaml
        case "ocean-default": return OceanDefaultMapping.yaml
        default: return try String(contentsOfFile: name, encoding: .utf8)
        }
    }

    private static func measure(_ mapping: CompiledMapping, _ catalog: [JSONValue], rounds: Int) -> [String: JSONValue] {
        let stored: [(ref: EntityRef, body: [UInt8])] = catalog.compactMap { entity in
            EntityRef(entity: entity).map { ($0, CanonicalJSON.bytes(entity)) }
        }
        let parsed: [(ref: EntityRef, value: JQValue)] = stored.compactMap { item in
            (try? JQValue.parse(item.body)).map { (item.ref, $0) }
        }
        var bestMap = Double.infinity
        var bestParseMap = Double.infinity
        var produced = 0
        for _ in 0..<rounds {
            produced = 0
            bestMap = min(bestMap, seconds {
                for (ref, value) in parsed {
                    for result in mapping.map(value, ref: ref) where result.entity != nil { produced += 1 }
                }
            })
            bestParseMap = min(bestParseMap, seconds {
                for (ref, body) in stored {
                    guard let value = try? JQValue.parse(body) else { continue }
                    _ = mapping.map(value, ref: ref)
                }
            })
        }
        let entities = Double(parsed.count)
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var bestAllCores = Double.infinity
        for _ in 0..<rounds { bestAllCores = min(bestAllCores, allCores(mapping, stored, threads: threads)) }
        return [
            "entities": .number(entities), "portEntities": .number(Double(produced)), "threads": 1,
            "mapSeconds": .number(bestMap), "mapPerSecond": .number(entities / bestMap),
            "parseMapSeconds": .number(bestParseMap), "parseMapPerSecond": .number(entities / bestParseMap),
            "allCoresThreads": .number(Double(threads)), "allCoresMapPerSecond": .number(entities / bestAllCores),
        ]
    }

    /// Seconds to map every entity with one thread per core, as `sync` does (one compiled mapping
    /// per thread; each thread parses its share first, then all map at once).
    private static func allCores(_ mapping: CompiledMapping, _ stored: [(ref: EntityRef, body: [UInt8])], threads: Int) -> Double {
        final class Lane: @unchecked Sendable {
            let mapping: CompiledMapping
            let items: ArraySlice<(ref: EntityRef, body: [UInt8])>
            var seconds = 0.0
            init(mapping: CompiledMapping, items: ArraySlice<(ref: EntityRef, body: [UInt8])>) {
                self.mapping = mapping
                self.items = items
            }
        }
        let share = (stored.count + threads - 1) / threads
        let lanes = stride(from: 0, to: stored.count, by: share).map {
            Lane(mapping: mapping.copy(), items: stored[$0..<min($0 + share, stored.count)])
        }
        let ready = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for lane in lanes {
            ready.enter()
            done.enter()
            Thread.detachNewThread {
                let parsed = lane.items.compactMap { item in (try? JQValue.parse(item.body)).map { (item.ref, $0) } }
                // A worker compiles its jq program on its first entity, once per run: not throughput.
                if let first = parsed.first { _ = lane.mapping.map(first.1, ref: first.0) }
                ready.leave()
                start.wait()
                lane.seconds = seconds { for (ref, value) in parsed { _ = lane.mapping.map(value, ref: ref) } }
                done.leave()
            }
        }
        ready.wait()
        for _ in lanes { start.signal() }
        done.wait()
        return lanes.map(\.seconds).max() ?? 0
    }

    private static func seconds(_ work: () -> Void) -> Double {
        let start = DispatchTime.now()
        work()
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    private static func usageError(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("Error: \(message)\n\n\(usage)".utf8))
        return 64
    }
}
