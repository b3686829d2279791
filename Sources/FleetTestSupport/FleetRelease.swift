public import Coordinator
public import Foundation
public import ModelArtifact
import ModelIR

/// A release of a tiny classifier per class in the coordinator's store and data directory, as
/// `model add` leaves it (no quantizer build), for the tests that run a coordinator with real
/// agents (CoordinatorTests' ServiceHarness, FleetPKITests).
public enum FleetRelease {
    /// Registers a ready release of a tiny classifier for every class (what `model add` leaves
    /// in the store and the data directory), signed with the coordinator's key.
    public static func add(
        version: String, classes: [String], coordinatorData: URL, seed: UInt64 = 1
    ) throws -> ReleaseRecord {
        let store = try SQLiteStore(dataDirectory: coordinatorData)
        let release = try store.createRelease(
            NewRelease(
                name: "digits", version: version, createdBy: "tests", createdAtMs: 0, sourceSHA256: String(repeating: "0", count: 64)))
        let key = try SigningKeyring.open(dataDirectory: coordinatorData).activeKey
        for hardwareClass in classes {
            let relative = "artifacts/digits/\(version)/\(hardwareClass).flotilla"
            let url = coordinatorData.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let bytes = try Self.artifact(
                version: version, sequence: release.releaseSequence, hardwareClass: hardwareClass, key: key, seed: seed)
            let (compressed, digests) = try ArtifactTransport.compress(bytes)
            try Data(bytes).write(to: url)
            try Data(compressed).write(to: URL(fileURLWithPath: url.path + ".zst"))
            try store.putVariant(
                VariantRecord(
                    modelName: "digits", modelVersion: version, hardwareClass: hardwareClass, artifactDigest: digests.uncompressedSHA256,
                    artifactPath: relative, uncompressedSize: digests.uncompressedSize, uncompressedSHA256: digests.uncompressedSHA256,
                    compressedSize: digests.compressedSize, compressedSHA256: digests.compressedSHA256, chunkSize: 4096, reportJSON: "{}",
                    metrics: [:]))
        }
        try store.updateReleaseStatus(name: "digits", version: version, status: .ready, error: nil)
        guard let record = try store.release(name: "digits", version: version) else {
            throw FleetReleaseError(detail: "release digits \(version) is not in the store just after it was created")
        }
        return record
    }

    /// A Gemm classifier (8 features → 4 classes) whose validation bundle labels are its own
    /// answers, so a healthy device measures accuracy 1.
    public static func artifact(version: String, sequence: UInt64, hardwareClass: String, key: ArtifactSigningKey, seed: UInt64) throws
        -> [UInt8]
    {
        var state = seed
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 33) % 2001 - 1000) / 250
        }
        let (features, classes) = (8, 4)
        let w = (0..<features * classes).map { _ in next() }
        let b = (0..<classes).map { _ in next() }
        let graph = Graph(
            name: "classifier", nodes: [Node(name: "fc", opType: "Gemm", inputs: ["x", "w", "b"], outputs: ["y"])],
            inputs: [ValueInfo("x", TensorType(.float32, Shape([1, features])))],
            outputs: [ValueInfo("y", TensorType(.float32, Shape([1, classes])))],
            initializers: ["w": try Tensor(floats: w, shape: [features, classes]), "b": try Tensor(floats: b, shape: [classes])])
        var samples: [ValidationSample] = []
        for _ in 0..<32 {
            let x = (0..<features).map { _ in next() }
            var y = b
            for j in 0..<classes { for k in 0..<features { y[j] += x[k] * w[k * classes + j] } }
            let best = y.indices.max { y[$0] < y[$1] } ?? 0
            samples.append(
                ValidationSample(
                    inputs: ["x": try Tensor(floats: x, shape: [1, features])], label: try Tensor(int64s: [Int64(best)], shape: [1]),
                    referenceOutputs: ["y": try Tensor(floats: y, shape: [1, classes])]))
        }
        let metrics = ExpectedMetrics([ExpectedMetrics.accuracyKey: 1, ExpectedMetrics.fp32AgreementKey: 1])
        let manifest = ArtifactManifest(
            modelName: "digits", modelVersion: version, releaseSequence: sequence, hardwareClass: hardwareClass, createdBy: "tests",
            expectedMetrics: metrics)
        return try ArtifactWriter(signingKey: key).write(
            model: Model(graph: graph, opsetImports: ["": 17], producerName: "coordinator-tests", producerVersion: "1"), manifest: manifest,
            validation: ValidationBundle(samples: samples, expectedMetrics: metrics))
    }
}

/// The store did not return what was just written into it.
public struct FleetReleaseError: Error, CustomStringConvertible {
    public var detail: String
    public var description: String { detail }
}
