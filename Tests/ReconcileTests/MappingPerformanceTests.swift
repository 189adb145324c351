import FakeServers
import Foundation
@testable import Reconcile
import Store
import XCTest

/// Throughput (printed, never asserted) and memory stability of the mapping engine.
final class MappingPerformanceTests: XCTestCase {
    private typealias Support = MappingTestSupport

    /// Entities per second for the built-in and seed mappings on the generated catalog the fake
    /// Backstage serves (`FakeBackstage.generateCatalog`: every kind, ~1.5–2 KB per entity), on one
    /// thread and on one thread per core, each with its own `CompiledMapping` as `MappingStage`
    /// does; and the CPU one compile of the mapping's jq program costs (what each worker pays on its
    /// first entity). Run in release for real numbers:
    /// `swift test -c release --filter MappingPerformanceTests/testThroughputIsPrinted`.
    func testThroughputIsPrinted() throws {
        let count = ProcessInfo.processInfo.environment["MAPPING_BENCH_COUNT"].flatMap(Int.init) ?? MappingPerformanceTests.scale(20_000)
        let texts = FakeBackstage.generateCatalog(count: count, seed: 1).map(FakeJSON.string)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for (name, yaml) in [("built-in", BuiltinMapping.yaml), ("ocean-default", OceanDefaultMapping.yaml)] {
            let config = try Support.config(yaml)
            _ = try CompiledMapping(config)
            let compileStart = MappingPerformanceTests.threadCPUSeconds()
            _ = try JQProgram(MappingPlan(config).source)
            let compile = MappingPerformanceTests.threadCPUSeconds() - compileStart
            for threads in Set([1, max(2, cores)]).sorted() {
                let rate = try MappingPerformanceTests.rate(config, texts, threads: threads)
                print(String(format: "mapping %@ on %d thread(s), %d entities: %.0f entities/s (%.0f per CPU-second); "
                                 + "compiling the mapping %.1f ms of CPU",
                             name, threads, texts.count, rate.wall, rate.cpu, compile * 1000))
            }
        }
    }

    /// Maps `texts` on `threads` threads, each with its own mapping and its own parsed share of the
    /// entities (jv values stay with one thread at a time). Compiling and parsing are not timed.
    static func rate(_ config: PortAppConfig, _ texts: [String], threads: Int) throws -> (wall: Double, cpu: Double) {
        final class Share: @unchecked Sendable {
            var mapping: CompiledMapping?
            var entities: [(JQValue, EntityRef)] = []
            var cpu = 0.0
            var mapped = 0
        }
        let shares = (0..<threads).map { _ in Share() }
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            let share = shares[index]
            let mapping = try? CompiledMapping(config)
            share.mapping = mapping
            share.entities = stride(from: index, to: texts.count, by: threads).compactMap { position in
                guard let value = try? JQValue.parse(texts[position]), let ref = EntityRef(entity: value.toJSONValue())
                else { return nil }
                return (value, ref)
            }
            if let (value, ref) = share.entities.first { _ = mapping?.map(value, ref: ref) }  // compiles
        }
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            let share = shares[index]
            guard let mapping = share.mapping else { return }
            let cpuStart = threadCPUSeconds()
            for (value, ref) in share.entities {
                for result in mapping.map(value, ref: ref) where result.entity != nil { share.mapped += 1 }
            }
            share.cpu = threadCPUSeconds() - cpuStart
        }
        let wall = Date().timeIntervalSince(start)
        let total = shares.map(\.entities.count).reduce(0, +)
        XCTAssertGreaterThan(shares.map(\.mapped).reduce(0, +), total / 2)
        return (Double(total) / wall, Double(total) / shares.map(\.cpu).reduce(0, +))
    }

    /// Maps many entities, warnings, errors and filtered entities included, and checks that the
    /// resident set does not grow: every jv and jq_state is freed.
    func testRepeatedMappingKeepsMemoryFlat() throws {
        let iterations = ProcessInfo.processInfo.environment["MAPPING_LEAK_ITERATIONS"].flatMap(Int.init)
            ?? MappingPerformanceTests.scale(100_000)
        let yaml = OceanDefaultMapping.yaml + """
            - kind: component
              selector:
                query: .metadata.name | test("^svc")
              port:
                entity:
                  mappings:
                    identifier: .metadata.name | ascii_upcase
                    blueprint: '"odd"'
                    properties:
                      count: .relations | length
                      object: '{name: .metadata.name, tags: [.metadata.tags[]?]}'
                      failing: .spec.missing[]
                      none: .relations[] | select(.type == "nope")
                      fallback: .metadata.name.x // "fallback"
            """
        let mapping = try CompiledMapping(try Support.config(yaml))
        let texts = (0..<200).map(BenchmarkCatalog.entity)
        let parsed = try texts.map { text -> (JQValue, EntityRef) in
            let value = try JQValue.parse(text)
            return (value, try XCTUnwrap(EntityRef(entity: value.toJSONValue())))
        }
        func run(_ count: Int) -> Int {
            var produced = 0
            for index in 0..<count {
                let (value, ref) = parsed[index % parsed.count]
                for result in mapping.map(value, ref: ref) {
                    produced += result.warnings.count
                    if let entity = result.entity { produced += entity.relationTargets.count }
                }
            }
            return produced
        }
        XCTAssertGreaterThan(run(MappingPerformanceTests.scale(5_000)), 0)  // warm-up: caches, malloc arenas
        let before = residentBytes()
        XCTAssertGreaterThan(run(iterations), 0)
        let after = residentBytes()
        let growth = after - before
        print("RSS before \(before / 1024) KiB, after \(iterations) mappings \(after / 1024) KiB")
        XCTAssertLessThan(growth, 16 << 20, "resident memory grew by \(growth / 1024) KiB")
    }

    /// CPU time of the calling thread (wall time is unreliable on a shared machine).
    static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Full counts in release builds; a tenth in debug builds, which run ~6 times slower.
    static func scale(_ count: Int) -> Int {
        #if DEBUG
        return count / 10
        #else
        return count
        #endif
    }

    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Generated Backstage entities shaped like real catalog output.
enum BenchmarkCatalog {
    /// The ref text of a generated entity (the generator writes it in `uid`'s place for speed).
    static func ref(_ text: String) -> String {
        guard let start = text.range(of: "\"x-ref\":\""), let end = text[start.upperBound...].firstIndex(of: "\"") else {
            return ""
        }
        return String(text[start.upperBound..<end])
    }

    /// A mix of kinds: 70 % components, 10 % APIs, 10 % resources, 5 % groups, 5 % users.
    static func entity(_ index: Int) -> String {
        switch index % 20 {
        case 0, 1: return api(index)
        case 2, 3: return resource(index)
        case 4: return group(index)
        case 5: return user(index)
        default: return component(index)
        }
    }

    private static func relations(_ pairs: [(String, String)]) -> String {
        pairs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map { #"{"type":"\#($0.0)","targetRef":"\#($0.1)"}"# }
            .joined(separator: ",")
    }

    private static func metadata(_ name: String, _ index: Int, kind: String) -> String {
        """
        "metadata":{"name":"\(name)","namespace":"default","title":"\(name.capitalized)","description":"The \(name) \(kind) of the storefront; owned by team \(index % 50).","uid":"6f1c\(index)-2b4d-4e8f-9a0b-1c2d3e4f5a6b","x-ref":"\(kind):default/\(name)","labels":{"tier":"\(index % 3)","team":"team-\(index % 50)"},"annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/\(name)/blob/main/catalog-info.yaml","backstage.io/managed-by-origin-location":"url:https://git.acme.dev/\(name)/blob/main/catalog-info.yaml","github.com/project-slug":"acme/\(name)"},"links":[{"url":"https://\(name).acme.dev","title":"Dashboard","icon":"dashboard"}],"tags":["go","backend"]}
        """
    }

    static func component(_ index: Int) -> String {
        let name = "svc-\(index)"
        let pairs: [(String, String)] = [
            ("ownedBy", "group:default/team-\(index % 50)"),
            ("partOf", "system:default/sys-\(index % 20)"),
            ("providesApi", "api:default/\(name)-api"),
            ("providesApi", "api:default/\(name)-events"),
            ("consumesApi", "api:default/svc-\(index + 1)-api"),
            ("consumesApi", "api:default/svc-\(index + 2)-api"),
            ("consumesApi", "api:default/svc-\(index + 3)-api"),
            ("dependsOn", "component:default/svc-\(index + 4)"),
            ("dependsOn", "component:default/svc-\(index + 5)"),
            ("dependsOn", "resource:default/db-\(index)"),
            ("dependsOn", "resource:default/queue-\(index)"),
            ("dependencyOf", "component:default/svc-\(index + 6)"),
            ("dependencyOf", "component:default/svc-\(index + 7)"),
            ("hasPart", "component:default/\(name)-worker"),
            ("hasPart", "component:default/\(name)-cron"),
        ]
        return """
            {"apiVersion":"backstage.io/v1alpha1","kind":"Component",\(metadata(name, index, kind: "component")),"spec":{"type":"service","lifecycle":"production","owner":"team-\(index % 50)","system":"sys-\(index % 20)"},"relations":[\(relations(pairs))]}
            """
    }

    static func api(_ index: Int) -> String {
        let name = "svc-\(index)-api"
        let pairs: [(String, String)] = [
            ("ownedBy", "group:default/team-\(index % 50)"), ("partOf", "system:default/sys-\(index % 20)"),
            ("apiProvidedBy", "component:default/svc-\(index)"), ("apiConsumedBy", "component:default/svc-\(index + 1)"),
        ]
        return """
            {"apiVersion":"backstage.io/v1alpha1","kind":"API",\(metadata(name, index, kind: "api")),"spec":{"type":"openapi","lifecycle":"production","owner":"team-\(index % 50)","system":"sys-\(index % 20)","definition":"openapi: 3.0.0\\ninfo:\\n  title: \(name)\\n  version: 1.0.0\\npaths: {}\\n"},"relations":[\(relations(pairs))]}
            """
    }

    static func resource(_ index: Int) -> String {
        let name = "db-\(index)"
        let pairs: [(String, String)] = [
            ("ownedBy", "group:default/team-\(index % 50)"), ("partOf", "system:default/sys-\(index % 20)"),
            ("dependencyOf", "component:default/svc-\(index)"), ("dependsOn", "resource:default/bucket-\(index)"),
        ]
        return """
            {"apiVersion":"backstage.io/v1alpha1","kind":"Resource",\(metadata(name, index, kind: "resource")),"spec":{"type":"database","owner":"team-\(index % 50)","system":"sys-\(index % 20)"},"relations":[\(relations(pairs))]}
            """
    }

    static func group(_ index: Int) -> String {
        let name = "team-\(index)"
        let pairs: [(String, String)] = [("childOf", "group:default/engineering")]
            + (0..<8).map { ("hasMember", "user:default/user-\(index + $0)") }
            + (0..<6).map { ("ownerOf", "component:default/svc-\(index + $0)") }
        return """
            {"apiVersion":"backstage.io/v1alpha1","kind":"Group",\(metadata(name, index, kind: "group")),"spec":{"type":"team","profile":{"displayName":"Team \(index)","email":"\(name)@acme.dev"},"parent":"engineering","children":[]},"relations":[\(relations(pairs))]}
            """
    }

    static func user(_ index: Int) -> String {
        let name = "user-\(index)"
        let pairs: [(String, String)] = [("memberOf", "group:default/team-\(index % 50)"),
                                         ("ownerOf", "component:default/svc-\(index)")]
        return """
            {"apiVersion":"backstage.io/v1alpha1","kind":"User",\(metadata(name, index, kind: "user")),"spec":{"profile":{"displayName":"User \(index)","email":"\(name)@acme.dev"},"memberOf":["team-\(index % 50)"]},"relations":[\(relations(pairs))]}
            """
    }
}
