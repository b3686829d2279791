import Agent
import FleetMQTT
import FleetProtocol
import Foundation
import ModelArtifact
import ModelIR
import TestSupport
import XCTest

extension SplitMix64 {
    /// Uniform in [-10, 10], in steps of 0.001.
    mutating func float() -> Float { Float(Int(next() % 20001) - 10000) / 1000 }
}

/// A tiny fp32 Gemm classifier (4 features → 3 classes) written as a signed artifact, with a
/// validation bundle whose labels are the model's own answers (`wrongLabels`: shifted by one,
/// so accuracy is 0) and whose reference outputs are the exact fp32 outputs.
enum AgentFixtures {
    static let hardwareClass = "x86_64-avx2"
    static let signingKey: ArtifactSigningKey = {
        var rng = SplitMix64(seed: 42)
        // A fixed seed: the same key every run.
        return (try? ArtifactSigningKey(rawRepresentation: (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
            ?? ArtifactSigningKey.generate()
    }()

    struct Release {
        var artifact: [UInt8]
        var compressed: [UInt8]
        var descriptor: ArtifactDescriptor
    }

    static func release(
        sequence: UInt64, wrongLabels: Bool = false, samples: Int = 16, hardwareClass: String = hardwareClass,
        key: ArtifactSigningKey = signingKey,
        seed: UInt64 = 1, features: Int = 4, classes: Int = 3, rotateClasses: Bool = false, chunkSize: Int = 1024
    ) throws -> Release {
        var rng = SplitMix64(seed: seed)
        var w = (0..<features * classes).map { _ in rng.float() }
        var b = (0..<classes).map { _ in rng.float() }
        if rotateClasses {
            // Class j answers what class j-1 did: same model, every top-1 moved by one.
            let (w0, b0) = (w, b)
            for j in 0..<classes {
                b[(j + 1) % classes] = b0[j]
                for k in 0..<features { w[k * classes + (j + 1) % classes] = w0[k * classes + j] }
            }
        }
        let graph = Graph(
            name: "classifier", nodes: [Node(name: "fc", opType: "Gemm", inputs: ["x", "w", "b"], outputs: ["y"])],
            inputs: [ValueInfo("x", TensorType(.float32, Shape([1, features])))],
            outputs: [ValueInfo("y", TensorType(.float32, Shape([1, classes])))],
            initializers: ["w": try Tensor(floats: w, shape: [features, classes]), "b": try Tensor(floats: b, shape: [classes])])
        let model = Model(graph: graph, opsetImports: ["": 17], producerName: "agent-tests", producerVersion: "1")
        var bundle: [ValidationSample] = []
        for _ in 0..<samples {
            let x = (0..<features).map { _ in rng.float() }
            var y = b
            for j in 0..<classes { for k in 0..<features { y[j] += x[k] * w[k * classes + j] } }
            let best = y.indices.max { y[$0] < y[$1] } ?? 0
            let label = wrongLabels ? (best + 1) % classes : best
            bundle.append(
                ValidationSample(
                    inputs: ["x": try Tensor(floats: x, shape: [1, features])], label: try Tensor(int64s: [Int64(label)], shape: [1]),
                    referenceOutputs: ["y": try Tensor(floats: y, shape: [1, classes])]))
        }
        let metrics = ExpectedMetrics([ExpectedMetrics.accuracyKey: 1, ExpectedMetrics.fp32AgreementKey: 1])
        let manifest = ArtifactManifest(
            modelName: "tiny-classifier", modelVersion: "1.\(sequence)", releaseSequence: sequence, hardwareClass: hardwareClass,
            createdBy: "agent-tests", expectedMetrics: metrics)
        let bytes = try ArtifactWriter(signingKey: key).write(
            model: model, manifest: manifest, validation: ValidationBundle(samples: bundle, expectedMetrics: metrics))
        let (compressed, digests) = try ArtifactTransport.compress(bytes)
        let descriptor = ArtifactDescriptor(
            modelName: manifest.modelName, modelVersion: manifest.modelVersion, releaseSequence: sequence, hardwareClass: hardwareClass,
            transport: TransportDigests(digests), chunkSize: chunkSize)
        return Release(artifact: bytes, compressed: compressed, descriptor: descriptor)
    }

    static func temporaryDirectory(_ name: String) throws -> URL { try makeTemporaryDirectory("agent-tests-\(name)") }

    static func config(
        dataDirectory: URL, port: Int, thresholds: ValidationThresholds = ValidationThresholds(latencyRuns: 5),
        maxDownloadAttempts: Int = 5,
        socketPath: String? = nil, watchdog: WatchdogThresholds = WatchdogThresholds(), shadow: ShadowThresholds = ShadowThresholds(),
        cancelBackoffMs: Int64 = 300_000, stallTimeoutMs: Int64 = 1000,
        downloadCheckpoint: DownloadCheckpointPolicy = DownloadCheckpointPolicy()
    ) throws -> AgentConfig {
        try AgentConfig(
            deviceID: "dev-1", broker: BrokerConfig(host: "127.0.0.1", port: port), dataDirectory: dataDirectory,
            hardwareClass: hardwareClass,
            pinnedKeys: [signingKey.publicKey], thresholds: thresholds, telemetryIntervalSeconds: 1,
            maxDownloadAttempts: maxDownloadAttempts,
            stallTimeoutMs: stallTimeoutMs, socketPath: socketPath, watchdog: watchdog, shadow: shadow, cancelBackoffMs: cancelBackoffMs,
            downloadCheckpoint: downloadCheckpoint)
    }

    /// `eventually` with the agent tests' deadline: an agent on loopback answers within 30 s.
    static func eventually(_ seconds: Double = 30, _ condition: () async throws -> Bool) async rethrows -> Bool {
        try await TestSupport.eventually(seconds, every: .milliseconds(50), condition)
    }
}
