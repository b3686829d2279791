import Coordinator
import FleetProtocol
import Foundation
import ModelArtifact
import ModelIR
import Runtime

/// A release of one Gemm classifier whose compressed artifact is about the requested size
/// (random fp32 weights barely compress), registered the way `model add` leaves it: variant
/// files under `artifacts/`, variant and ready release in the store, signed with the
/// coordinator's active key. No quantizer build: its time is not what this measures.
enum BenchRelease {
    static let model = "bench"
    static let features = 1024
    static let classes = 4

    struct Registered {
        var version: String
        var compressedSize: Int
        var uncompressedSize: Int
        var digest: String
    }

    static func register(
        store: any CoordinatorStore, dataDirectory: URL, hardwareClass: String, version: String, targetCompressedBytes: Int,
        chunkSize: Int
    ) throws -> Registered {
        let release = try store.createRelease(
            NewRelease(
                name: model, version: version, createdBy: "fleet-bench", createdAtMs: nowMs(),
                sourceSHA256: String(repeating: "0", count: 64)))
        let key = try SigningKeyring.open(dataDirectory: dataDirectory).activeKey
        let built = try artifact(
            version: version, sequence: release.releaseSequence, hardwareClass: hardwareClass, compressedBytes: targetCompressedBytes,
            key: key)

        let relative = "artifacts/\(model)/\(version)/\(hardwareClass).flotilla"
        let url = dataDirectory.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(built.bytes).write(to: url)
        try Data(built.compressed).write(to: URL(fileURLWithPath: url.path + ".zst"))
        let d = built.digests
        try store.putVariant(
            VariantRecord(
                modelName: model, modelVersion: version, hardwareClass: hardwareClass, artifactDigest: d.uncompressedSHA256,
                artifactPath: relative, uncompressedSize: d.uncompressedSize, uncompressedSHA256: d.uncompressedSHA256,
                compressedSize: d.compressedSize, compressedSHA256: d.compressedSHA256, chunkSize: chunkSize, reportJSON: "{}", metrics: [:]
            ))
        try store.updateReleaseStatus(name: model, version: version, status: .ready, error: nil)
        return Registered(
            version: version, compressedSize: built.compressed.count, uncompressedSize: built.bytes.count, digest: d.uncompressedSHA256)
    }

    /// An artifact whose compressed size is about `compressedBytes`: the weights sized from a
    /// first build's compression ratio, then built for real.
    static func artifact(version: String, sequence: UInt64, hardwareClass: String, compressedBytes: Int, key: ArtifactSigningKey)
        throws -> (bytes: [UInt8], compressed: [UInt8], digests: ArtifactTransportDigests)
    {
        var outputs = max(classes, compressedBytes / (4 * features))
        let first = try artifact(version: version, sequence: sequence, hardwareClass: hardwareClass, outputs: outputs, key: key)
        let ratio = Double(first.compressed.count) / Double(outputs)
        outputs = max(classes, Int((Double(compressedBytes) / ratio).rounded()))
        return try artifact(version: version, sequence: sequence, hardwareClass: hardwareClass, outputs: outputs, key: key)
    }

    /// Gemm `features` → `outputs`, of which the first `classes` are the answer's logits; the
    /// validation bundle's labels are the model's own answers, so a healthy device measures
    /// accuracy 1.
    static func artifact(version: String, sequence: UInt64, hardwareClass: String, outputs: Int, key: ArtifactSigningKey) throws -> (
        bytes: [UInt8], compressed: [UInt8], digests: ArtifactTransportDigests
    ) {
        var state: UInt64 = 0x5EED
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 33) % 20001 - 10000) / 10000
        }
        let w = (0..<features * outputs).map { _ in next() }
        let b = (0..<outputs).map { _ in next() }
        let graph = Graph(
            name: "bench-gemm", nodes: [Node(name: "fc", opType: "Gemm", inputs: ["x", "w", "b"], outputs: ["y"])],
            inputs: [ValueInfo("x", TensorType(.float32, Shape([1, features])))],
            outputs: [ValueInfo("y", TensorType(.float32, Shape([1, outputs])))],
            initializers: ["w": try Tensor(floats: w, shape: [features, outputs]), "b": try Tensor(floats: b, shape: [outputs])])
        var samples: [ValidationSample] = []
        for _ in 0..<4 {
            let x = (0..<features).map { _ in next() }
            var y = b
            for k in 0..<features {
                let xk = x[k]
                let row = k * outputs
                for j in 0..<outputs { y[j] += xk * w[row + j] }
            }
            let best = (0..<outputs).max { y[$0] < y[$1] } ?? 0
            samples.append(
                ValidationSample(
                    inputs: ["x": try Tensor(floats: x, shape: [1, features])], label: try Tensor(int64s: [Int64(best)], shape: [1]),
                    referenceOutputs: ["y": try Tensor(floats: y, shape: [1, outputs])]))
        }
        let metrics = ExpectedMetrics([ExpectedMetrics.accuracyKey: 1, ExpectedMetrics.fp32AgreementKey: 1])
        let manifest = ArtifactManifest(
            modelName: model, modelVersion: version, releaseSequence: sequence, hardwareClass: hardwareClass, createdBy: "fleet-bench",
            expectedMetrics: metrics)
        // As VariantPackager does for a class: the Gemm weight pre-packed for the fp32 path the
        // simulated devices (this host) plan with.
        let plain = Model(graph: graph, opsetImports: ["": 17], producerName: "fleet-bench", producerVersion: "1")
        let hostPath = try ExecutionPlan(graph: Graph(), options: .init(threads: 1)).kernelPathName
        let (model, packedWeights) = try F32GemmPrepack.pack(plain, path: hostPath)
        let bytes = try ArtifactWriter(signingKey: key).write(
            model: model, manifest: manifest, validation: ValidationBundle(samples: samples, expectedMetrics: metrics),
            packedWeights: packedWeights)
        let (compressed, digests) = try ArtifactTransport.compress(bytes)
        return (bytes, compressed, digests)
    }
}
