import Foundation
import ModelIR
import TestSupport
import XCTest

@testable import ModelArtifact

/// Deterministic test data: the same seed gives the same data on every run.
extension SplitMix64 {
    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(next() % 20001) - 10000) / 1000 } }
}

/// The hand-built model every test writes: int8 and f32 tensors, per-tensor and per-axis
/// quantization, symbolic dims, a fused activation, an If with two subgraphs, every attribute
/// kind, a string tensor, and a packed weight.
enum TestArtifacts {
    static func model(seed: UInt64 = 7) throws -> Model {
        var rng = SplitMix64(seed: seed)
        let xq = try QuantParameters(scale: 0.05, zeroPoint: -3)
        let wq = try QuantParameters(scales: [0.01, 0.02, 0.015], zeroPoints: [0, 0, 0], axis: 0)
        let w = try Tensor(int8s: rng.bytes(12).map { Int8(bitPattern: $0) }, shape: [3, 4])
        let bias = try Tensor(int32s: [100, -200, 7], shape: [3])
        let gain = try Tensor(floats: rng.floats(3), shape: [3])

        let thenBranch = Graph(
            name: "then", nodes: [Node(name: "t_add", opType: "Add", inputs: ["hf", "t_bias"], outputs: ["t_out"])],
            outputs: [ValueInfo("t_out", TensorType(.float32, Shape(["N", 3])))],
            initializers: ["t_bias": try Tensor(floats: rng.floats(3), shape: [3])])
        let elseBranch = Graph(
            name: "else",
            nodes: [
                Node(
                    name: "e_mul", opType: "Mul", inputs: ["hf", "e_gain"], outputs: ["e_out"],
                    attributes: ["note": .string("ünïcode \"quoted\"\n")])
            ],
            outputs: [ValueInfo("e_out", TensorType(.float32, Shape(["N", 3])))],
            initializers: ["e_gain": gain])

        let nodes = [
            Node(
                name: "qgemm", opType: "QGemm", domain: "com.microsoft", inputs: ["x", "w", "bias"], outputs: ["h"],
                attributes: [
                    "transB": .int(1), "alpha": .float(1.5), "mode": .string("fast"), "perm": .ints([1, 0, Int(Int64.max)]),
                    "coeffs": .floats([0.1, -2.5e-8, .infinity]), "tags": .strings(["a", "b"]),
                    "lut": .tensor(try Tensor(uint8s: rng.bytes(5), shape: [5])),
                    "pair": .tensors([try Tensor(int64s: [1, -2], shape: [2]), Tensor.scalar(Float(3.25))]),
                ]),
            Node(
                name: "packed_mm", opType: "MatMulInteger", inputs: ["x", "w_packed"], outputs: ["h2"],
                fusedActivation: .clip(min: 0, max: 6)),
            Node(name: "deq", opType: "DequantizeLinear", inputs: ["h", "h_scale"], outputs: ["hf"], fusedActivation: .relu),
            Node(
                name: "cond", opType: "If", inputs: ["flag"], outputs: ["y"],
                attributes: ["then_branch": .graph(thenBranch), "else_branch": .graph(elseBranch), "extra": .graphs([thenBranch])]),
        ]
        let graph = Graph(
            name: "main", nodes: nodes,
            inputs: [
                ValueInfo("x", TensorType(.int8, Shape(["N", 4]), quantization: xq)),
                ValueInfo("flag", TensorType(.bool, Shape.scalar)),
            ],
            outputs: [ValueInfo("y", TensorType(.float32, Shape(["N", 3]))), ValueInfo("h2", TensorType(.int32, Shape(["N", 3])))],
            initializers: [
                "w": w, "bias": bias, "h_scale": Tensor.scalar(Float(0.125)),
                "vocab": try Tensor(strings: ["cat", "dog"], shape: [2]),
            ],
            valueTypes: [
                "h": TensorType(.int32, Shape(["N", 3])),
                "w": TensorType(.int8, Shape([3, 4]), quantization: wq),
                "hf": TensorType(.float32, Shape(["N", .fixed(3)])),
            ])
        return Model(
            graph: graph, opsetImports: ["": 28, "com.microsoft": 1], producerName: "test", producerVersion: "1", metadata: ["k": "v"])
    }

    static func packedWeights(seed: UInt64 = 9) throws -> [String: PackedTensor] {
        var rng = SplitMix64(seed: seed)
        // 3×4 int8 padded to a 16×4 panel: a packed blob is longer than shape × element size.
        return ["w_packed": try PackedTensor(layout: "qs8_gemm_avx512vnni_v1", elementType: .int8, shape: [4, 3], bytes: rng.bytes(64))]
    }

    static func validation(seed: UInt64 = 11) throws -> ValidationBundle {
        var rng = SplitMix64(seed: seed)
        var samples: [ValidationSample] = []
        for i in 0..<3 {
            samples.append(
                ValidationSample(
                    inputs: [
                        "x": try Tensor(int8s: rng.bytes(8).map { Int8(bitPattern: $0) }, shape: [2, 4]),
                        "flag": try Tensor(bools: [i % 2 == 0], shape: []),
                    ],
                    label: i == 2 ? nil : Tensor.scalar(Int64(i)),
                    referenceOutputs: ["y": try Tensor(floats: rng.floats(6), shape: [2, 3])]))
        }
        return ValidationBundle(samples: samples, expectedMetrics: ExpectedMetrics(["accuracy": 0.5, "fp32_agreement": 1]))
    }

    static func manifest() -> ArtifactManifest {
        var metrics = ExpectedMetrics(["custom_f1": 0.8125])
        metrics.accuracy = 0.91
        metrics.latencyBudgetP95Milliseconds = 12.5
        return ArtifactManifest(
            modelName: "digits-cnn", modelVersion: "2.1.0", releaseSequence: UInt64.max - 1, hardwareClass: "x86-avx512-vnni",
            createdBy: "flotilla-tests 0", expectedMetrics: metrics, labels: ["source": "fixtures"])
    }

    static func write(signingKey: ArtifactSigningKey? = nil) throws -> [UInt8] {
        try ArtifactWriter(signingKey: signingKey).write(
            model: model(), manifest: manifest(), validation: validation(), packedWeights: packedWeights())
    }

    /// Sections of a written artifact, by kind, in file order (signature dropped).
    static func sections(of file: [UInt8]) throws -> [(SectionKind, [UInt8])] {
        let layout = try file.withUnsafeBytes { try ArtifactLayout.parse($0) }
        return layout.entries.compactMap { e in
            guard let kind = e.kind, kind != .signature else { return nil }
            return (kind, Array(file[e.offset..<e.end]))
        }
    }
}

/// Runs `body` and returns the ArtifactError it throws, failing on success or any other error.
func artifactError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> ArtifactError? {
    do {
        _ = try body()
        XCTFail("expected an ArtifactError, got success", file: file, line: line)
    } catch let error as ArtifactError {
        XCTAssertGreaterThan(error.description.count, 40, "messages say what to do", file: file, line: line)
        return error
    } catch {
        XCTFail("expected an ArtifactError, got \(error)", file: file, line: line)
    }
    return nil
}
