// swift-tools-version:6.2
// Flotilla: int8 models quantized per hardware class, delivered to device fleets over MQTT.
//
// Targets read top-down: C leaves, libraries by layer (see docs/architecture.md), executables,
// test support, tests, benchmarks. Dependencies point down only.
import PackageDescription

// Shared settings for every Swift target of ours: Swift 6 language mode, no warnings tolerated.
let strictSwift: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Hot loops are compiled optimized even in debug builds: the reference kernels are the
// quantizer's evaluation engine and tests run them over whole models.
let strictC: [CSetting] = [
    .unsafeFlags(["-Wall", "-Wextra", "-Werror", "-O2"])
]

let package = Package(
    name: "flotilla",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flotilla", targets: ["flotilla"]),
        .executable(name: "flotilla-coordinator", targets: ["flotilla-coordinator"]),
        .executable(name: "flotilla-agent", targets: ["flotilla-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.1"),
        // X.509 for the fleet CA and device certificates (FleetPKI); pure Swift over swift-crypto.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        // MARK: C leaves — system libraries through pkg-config, and the int8/fp32 kernels.
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(name: "CKernels", cSettings: strictC),

        // MARK: Layer 1 — one wrapper per C library, and the model IR.
        .target(name: "Zstd", dependencies: ["CZstd"], swiftSettings: strictSwift),
        .target(
            name: "MQTT",
            dependencies: ["CMosquitto", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
        .target(name: "ModelIR", swiftSettings: strictSwift),
        // Signal handling for the long-running executables (ordered SIGTERM/SIGINT shutdown).
        .target(name: "ProcessSupport", swiftSettings: strictSwift),

        // MARK: Layer 2 — ONNX in, runtime, device artifact.
        .target(
            name: "ONNXProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"]
        ),
        .target(name: "ONNXImport", dependencies: ["ModelIR", "ONNXProto"], swiftSettings: strictSwift),
        .target(name: "Runtime", dependencies: ["ModelIR", "CKernels"], swiftSettings: strictSwift),
        .target(
            name: "ModelArtifact",
            dependencies: ["ModelIR", "Zstd", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSwift
        ),

        // MARK: Layer 3 — quantizer, fleet protocol.
        .target(name: "Quantizer", dependencies: ["ModelIR", "Runtime"], swiftSettings: strictSwift),
        .target(
            name: "FleetProtocol",
            dependencies: ["ModelArtifact", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSwift
        ),

        // MARK: Layer 4 — the fleet protocol over the real MQTT client.
        .target(name: "FleetMQTT", dependencies: ["FleetProtocol", "MQTT"], swiftSettings: strictSwift),

        // The fleet's PKI: CA, broker/coordinator/device certificates, device provisioning
        // bundles and the broker ACL entries they need (docs/security.md).
        .target(
            name: "FleetPKI",
            dependencies: [
                "FleetProtocol", "ModelArtifact",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift
        ),

        // MARK: Layer 5 — the device agent and the coordinator.
        .target(
            name: "Agent",
            dependencies: [
                "FleetProtocol", "FleetMQTT", "Runtime", "MQTT", "ModelArtifact", "ModelIR",
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "Coordinator",
            dependencies: [
                "FleetProtocol", "FleetMQTT", "Quantizer", "ONNXImport", "Runtime", "ModelArtifact", "ModelIR", "MQTT", "Zstd",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),

        // MARK: Layer 6 — a fleet of real agents in one process.
        .target(
            name: "FleetSimulator",
            dependencies: ["Agent", "FleetMQTT", "FleetProtocol", "MQTT", "ModelArtifact"],
            swiftSettings: strictSwift
        ),

        // MARK: Executables — thin mains.
        .executableTarget(
            name: "flotilla",
            dependencies: [
                "Coordinator", "Agent", "FleetMQTT", "FleetSimulator", "ONNXImport", "Runtime", "Quantizer", "ModelArtifact", "Zstd",
                "FleetPKI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "flotilla-coordinator",
            dependencies: [
                "Coordinator", "FleetMQTT", "ProcessSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "flotilla-agent",
            dependencies: [
                "Agent", "FleetMQTT", "Runtime", "ProcessSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),

        // MARK: Test support — a real Mosquitto broker on loopback, for tests and benchmarks.
        .target(name: "MQTTTestSupport", swiftSettings: strictSwift),
        // What every test target shares and no module knows of: the seeded generator, temporary
        // directories, polling for a condition. No dependencies, so any test target may use it.
        .target(name: "TestSupport", swiftSettings: strictSwift),
        // A coordinator release of a tiny classifier and working agents, for tests that run a
        // coordinator with agents.
        .target(
            name: "FleetTestSupport", dependencies: ["Agent", "Coordinator", "FleetMQTT", "ModelArtifact", "ModelIR"],
            swiftSettings: strictSwift),

        // MARK: Tests — one target per module.
        .testTarget(name: "ZstdTests", dependencies: ["Zstd", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "MQTTTests",
            dependencies: ["MQTT", "MQTTTestSupport", "TestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MQTTTestSupportTests",
            dependencies: ["MQTTTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "ModelIRTests", dependencies: ["ModelIR", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "ONNXImportTests",
            dependencies: ["ONNXImport", "ModelIR", "TestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ONNXProtoTests",
            dependencies: ["ONNXProto", "TestSupport"],
            resources: [.copy("Resources")],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "ModelArtifactTests", dependencies: ["ModelArtifact", "ModelIR", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "FleetProtocolTests",
            dependencies: ["FleetProtocol", "ModelArtifact", .product(name: "Crypto", package: "swift-crypto"), "TestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "AgentTests",
            // flotilla-agent: built first, so AgentProcessTests can run (and SIGKILL) the binary.
            // ProcessSupport: the sd_notify framing is tested beside the agent process that uses it.
            dependencies: [
                "Agent", "FleetProtocol", "FleetMQTT", "ModelArtifact", "ModelIR", "MQTT", "MQTTTestSupport", "ProcessSupport",
                "flotilla-agent", "TestSupport",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "CoordinatorTests",
            dependencies: [
                // The CLI tests run the built `flotilla` against a live coordinator.
                "flotilla", "Coordinator", "Agent", "FleetProtocol", "FleetMQTT", "ModelArtifact", "ModelIR", "MQTT", "MQTTTestSupport",
                "FleetTestSupport",
                // Build tests name the quantizer's budget and report types.
                "Quantizer", "TestSupport",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "FleetSimulatorTests",
            dependencies: [
                "FleetSimulator", "Agent", "FleetMQTT", "FleetProtocol", "MQTT", "MQTTTestSupport", "ModelArtifact", "ModelIR", "Quantizer",
                "Runtime", "TestSupport",
            ],
            swiftSettings: strictSwift
        ),
        // The shipped deploy/mosquitto config over real TLS, with certificates from FleetPKI;
        // flotilla: the provisioning tests run the built CLI.
        .testTarget(
            name: "FleetPKITests",
            dependencies: [
                "FleetPKI", "Agent", "Coordinator", "FleetMQTT", "FleetProtocol", "MQTT", "MQTTTestSupport", "ModelArtifact", "ModelIR",
                "flotilla", "FleetTestSupport", "TestSupport",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "ONNXImport", "ModelIR", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "QuantizerTests", dependencies: ["Quantizer", "ModelIR", "Runtime", "ONNXImport", "TestSupport"],
            swiftSettings: strictSwift),
        // Runs the built `flotilla` binary as a subprocess (an executable's code cannot be
        // imported); the dependency makes SwiftPM build the binary before the tests.
        // ModelArtifact and Runtime: the quantize test opens the artifacts it wrote and runs their
        // validation bundles.
        .testTarget(
            name: "FlotillaCLITests", dependencies: ["flotilla", "ModelArtifact", "ModelIR", "Runtime", "TestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "ConformanceTests",
            dependencies: ["ONNXImport", "Runtime", "ModelIR", "ONNXProto", "TestSupport"],
            exclude: ["known-failures.txt"],
            swiftSettings: strictSwift
        ),
        // The systemd units (systemd-analyze verify) and deploy/install-*.sh run into a staged
        // root; they exercise files, not modules.
        .testTarget(name: "DeployTests", dependencies: ["TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "ArchitectureTests",
            dependencies: [],
            swiftSettings: strictSwift
        ),

        // MARK: Benchmarks — each prints our figure beside a peer's from the same run.
        .executableTarget(
            name: "mqtt-fanout",
            dependencies: ["MQTT"],
            path: "benchmarks/mqtt-fanout/swift",
            swiftSettings: strictSwift
        ),
        // Rollout to 1000 simulated devices, telemetry ingest, memory (docs/benchmarks.md, "Fleet").
        .executableTarget(
            name: "fleet-bench",
            dependencies: ["Coordinator", "FleetSimulator", "Agent", "FleetMQTT", "FleetProtocol", "MQTT", "ModelArtifact", "ModelIR"],
            path: "benchmarks/fleet/swift",
            swiftSettings: strictSwift
        ),
    ]
)
