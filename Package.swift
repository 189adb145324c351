// swift-tools-version:6.0
//
// Dependencies run one way: Store <- Fetch <- Reconcile <- mirrorctl.
// Store owns the database and the JSON/hash rules, Fetch gets data in (HTTP, Backstage, files),
// Reconcile turns a walk into a plan (diff, jq mapping, Port push), and mirrorctl is the thin CLI.
// C libraries come from the system through the five C* system-library targets; no Swift packages.
import PackageDescription

let package = Package(
    name: "mirrorctl",
    products: [
        .executable(name: "mirrorctl", targets: ["mirrorctl"]),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CJQ", providers: [.apt(["libjq-dev"])]),  // jq 1.6 ships no .pc file
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        .target(
            name: "Store",
            dependencies: ["CSQLite", "CJQ", "CCrypto"],
            // Sources/Store/Migrations links to the top-level Migrations/ folder.
            resources: [
                .embedInCode("Migrations/0001_initial.sql"),
                .embedInCode("Migrations/0002_port.sql"),
                .embedInCode("Migrations/0003_walk_modes.sql"),
                .embedInCode("Migrations/0004_audit_views.sql"),
                .embedInCode("Migrations/0005_retention.sql"),
                .embedInCode("Migrations/0006_verify.sql"),
                .embedInCode("Migrations/0007_entity_view.sql"),
                .embedInCode("Migrations/0008_compiled_mappings.sql"),
                .embedInCode("Migrations/0009_run_reasons.sql"),
                .embedInCode("Migrations/0010_field_changes.sql"),
            ]
        ),
        .target(name: "Fetch", dependencies: ["Store", "CCurl", "CYAML", "CJQ"]),
        .target(
            name: "Reconcile",
            dependencies: ["Store", "Fetch", "CJQ"],
            // Sources/Reconcile/Defaults/mappings links to examples/mappings: one copy of each mapping.
            resources: [
                .embedInCode("Defaults/mappings/builtin.yaml"),
                .embedInCode("Defaults/mappings/ocean-default.yaml"),
            ]
        ),
        .executableTarget(name: "mirrorctl", dependencies: ["Store", "Fetch", "Reconcile"]),

        // Loopback fakes of Backstage and Port, shared by the tests and scripts/bench. They are
        // written from the protocol notes and depend on no product module, so a misreading of
        // Backstage or Port in mirrorctl is not mirrored by its fakes (CCrypto: SHA-1 etags).
        .target(name: "FakeServers", dependencies: ["CCrypto"]),
        // The benchmark's tools (the fakes as processes, the walk floor, Ocean's estimate, map speed).
        .executableTarget(name: "mirrorctl-fakes", dependencies: ["FakeServers", "Store", "Fetch", "Reconcile"]),

        // A raw loopback TCP client and HTTP response-head reader for tests that check the bytes
        // on the wire; only test targets use it, it imports no product module.
        .target(name: "LoopbackTestSupport", path: "Tests/LoopbackTestSupport"),

        .testTarget(name: "StoreTests", dependencies: ["Store", "CJQ"]),
        .testTarget(name: "FetchTests", dependencies: ["Fetch", "FakeServers", "CJQ"]),
        .testTarget(name: "ReconcileTests", dependencies: ["Reconcile", "FakeServers", "CJQ"]),
        .testTarget(name: "EndToEndTests", dependencies: ["FakeServers", "Store", "mirrorctl", "LoopbackTestSupport"]),
        .testTarget(name: "FakeServersTests", dependencies: ["FakeServers", "LoopbackTestSupport"]),
        .testTarget(name: "FakePortTests", dependencies: ["FakeServers"]),
        .testTarget(name: "BenchTests", dependencies: ["mirrorctl-fakes", "FakeServers"]),
    ],
    swiftLanguageModes: [.v6]
)
