import Agent
import FleetProtocol
import Foundation
import ModelArtifact
import ModelIR
import Quantizer
import Runtime
import TestSupport
import XCTest

/// The simulator tests' weights and inputs, from a seeded generator: the same on every run.
extension SplitMix64 {
    /// Uniform in [-1, 1].
    mutating func unit() -> Float { Float(Int(next() % 20001) - 10000) / 10000 }
}

/// Signed int8 artifacts as a coordinator would send them: a small fp32 MLP classifier
/// (16 features → 32 → ReLU → 4 classes), quantized per hardware class by the real dynamic
/// quantizer (int8 weights, MatMulInteger on the int8 runtime), with a validation bundle whose
/// labels are the fp32 model's answers and whose expected metrics are what the int8 model
/// measures on the runtime — so a healthy device passes and a broken one cannot.
enum SimulatorFixtures {
    static let signingKey: ArtifactSigningKey = {
        var rng = SplitMix64(seed: 7)
        return (try? ArtifactSigningKey(rawRepresentation: (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
            ?? ArtifactSigningKey.generate()
    }()

    struct Release {
        var artifact: [UInt8]
        var compressed: [UInt8]
        var descriptor: ArtifactDescriptor
        var int8Accuracy: Double
    }

    /// The classifier's sizes and the validation bundle's sample count.
    struct MLPShape {
        var features: Int, hidden: Int, classes: Int, samples: Int
        /// The default test model: small, quick to quantize and validate.
        static let small = MLPShape(features: 16, hidden: 32, classes: 4, samples: 32)
        /// Digits-sized: the sklearn digits input (8×8) and classes, ~9.5 K int8 weights (the
        /// digits CNN has ~9.9 K), 64 validation samples; ~30 KB compressed.
        static let digits = MLPShape(features: 64, hidden: 128, classes: 10, samples: 64)
    }

    static var profilesDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/hardware-classes")
    }

    static func fp32Model(seed: UInt64, shape: MLPShape = .small) throws -> Model {
        let (features, hidden, classes) = (shape.features, shape.hidden, shape.classes)
        var rng = SplitMix64(seed: seed)
        let w1 = (0..<features * hidden).map { _ in rng.unit() }, b1 = (0..<hidden).map { _ in rng.unit() * 0.1 }
        let w2 = (0..<hidden * classes).map { _ in rng.unit() }, b2 = (0..<classes).map { _ in rng.unit() * 0.1 }
        let graph = Graph(
            name: "mlp",
            nodes: [
                Node(name: "fc1", opType: "Gemm", inputs: ["x", "w1", "b1"], outputs: ["h"]),
                Node(name: "relu", opType: "Relu", inputs: ["h"], outputs: ["r"]),
                Node(name: "fc2", opType: "Gemm", inputs: ["r", "w2", "b2"], outputs: ["y"]),
            ],
            inputs: [ValueInfo("x", TensorType(.float32, Shape([1, features])))],
            outputs: [ValueInfo("y", TensorType(.float32, Shape([1, classes])))],
            initializers: [
                "w1": try Tensor(floats: w1, shape: [features, hidden]), "b1": try Tensor(floats: b1, shape: [hidden]),
                "w2": try Tensor(floats: w2, shape: [hidden, classes]), "b2": try Tensor(floats: b2, shape: [classes]),
            ])
        return Model(graph: graph, opsetImports: ["": 17], producerName: "simulator-tests", producerVersion: "1")
    }

    static func argmax(_ t: Tensor?) -> Int {
        guard let v = t?.asDoubles, !v.isEmpty else { return -1 }
        return v.indices.max { v[$0] < v[$1] } ?? -1
    }

    static func release(
        sequence: UInt64, hardwareClass: String, seed: UInt64 = 11, shape: MLPShape = .small, chunkSize: Int = 16 << 10
    ) throws -> Release {
        var registry = HardwareClassRegistry()
        try registry.loadDirectory(profilesDirectory)
        let profile = try XCTUnwrap(registry.named(hardwareClass), "no profile \(hardwareClass) in \(profilesDirectory.path)")
        let fp32 = try fp32Model(seed: seed, shape: shape)
        let int8 = try DynamicQuantizer(profile: profile).quantize(fp32).model
        let fp32Session = try ExecutionPlan(model: fp32).makeSession()
        let int8Session = try ExecutionPlan(model: int8).makeSession()
        var rng = SplitMix64(seed: seed &+ 1)
        var bundle: [ValidationSample] = []
        var correct = 0
        for _ in 0..<shape.samples {
            let x = try Tensor(floats: (0..<shape.features).map { _ in rng.unit() * 2 }, shape: [1, shape.features])
            let reference = try fp32Session.run(inputs: ["x": x])
            let label = argmax(reference["y"])
            if argmax(try int8Session.run(inputs: ["x": x])["y"]) == label { correct += 1 }
            bundle.append(
                ValidationSample(
                    inputs: ["x": x], label: try Tensor(int64s: [Int64(label)], shape: [1]),
                    referenceOutputs: ["y": try XCTUnwrap(reference["y"])]))
        }
        let accuracy = Double(correct) / Double(shape.samples)
        // Labels are the fp32 answers, so agreement with fp32 equals accuracy here.
        let metrics = ExpectedMetrics([ExpectedMetrics.accuracyKey: accuracy, ExpectedMetrics.fp32AgreementKey: accuracy])
        let manifest = ArtifactManifest(
            modelName: "mlp", modelVersion: "\(sequence)", releaseSequence: sequence, hardwareClass: hardwareClass,
            createdBy: "simulator-tests", expectedMetrics: metrics)
        let bytes = try ArtifactWriter(signingKey: signingKey).write(
            model: int8, manifest: manifest, validation: ValidationBundle(samples: bundle, expectedMetrics: metrics))
        let (compressed, digests) = try ArtifactTransport.compress(bytes)
        let descriptor = ArtifactDescriptor(
            modelName: manifest.modelName, modelVersion: manifest.modelVersion, releaseSequence: sequence, hardwareClass: hardwareClass,
            transport: TransportDigests(digests), chunkSize: chunkSize)
        return Release(artifact: bytes, compressed: compressed, descriptor: descriptor, int8Accuracy: accuracy)
    }

    static func temporaryDirectory(_ name: String) throws -> URL { try makeTemporaryDirectory("simulator-tests-\(name)") }
}
