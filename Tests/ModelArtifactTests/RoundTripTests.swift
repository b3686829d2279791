import Foundation
import ModelIR
import TestSupport
import XCTest

@testable import ModelArtifact

/// Model → bytes → Model: structurally and byte-wise the same, deterministic, zero-copy.
final class RoundTripTests: XCTestCase {
    func testInMemoryRoundTripGivesTheSameModel() throws {
        let model = try TestArtifacts.model()
        let bytes = try TestArtifacts.write()
        let artifact = try ArtifactReader.read(bytes: bytes, trust: .skipSignatureCheck)

        XCTAssertEqual(artifact.model, model)
        XCTAssertEqual(artifact.packedWeights, try TestArtifacts.packedWeights())
        XCTAssertEqual(artifact.validation, try TestArtifacts.validation())
        XCTAssertNil(artifact.signingKeyID)
        XCTAssertEqual(artifact.formatVersion, .current)

        // Byte-wise, tensor by tensor, including subgraph and attribute tensors.
        for (name, t) in model.graph.initializers { XCTAssertEqual(artifact.model.graph.initializers[name]?.bytes, t.bytes, name) }
        let cond = try XCTUnwrap(artifact.model.graph.nodes.first { $0.name == "cond" })
        XCTAssertEqual(
            cond.attributes["else_branch"]?.graphValue?.initializers["e_gain"]?.bytes,
            model.graph.nodes[3].attributes["else_branch"]?.graphValue?.initializers["e_gain"]?.bytes)
        XCTAssertNotNil(cond.attributes["else_branch"]?.graphValue?.initializers["e_gain"])
        let qgemm = try XCTUnwrap(artifact.model.graph.nodes.first { $0.name == "qgemm" })
        XCTAssertEqual(qgemm.floats("coeffs")?.map(\.bitPattern), [Float(0.1), -2.5e-8, .infinity].map(\.bitPattern))
        XCTAssertEqual(qgemm.ints("perm"), [1, 0, Int(Int64.max)])
        XCTAssertEqual(artifact.model.graph.nodes[1].fusedActivation, .clip(min: 0, max: 6))
        XCTAssertEqual(artifact.model.graph.valueTypes["w"]?.quantization?.scales, [0.01, 0.02, 0.015])
        XCTAssertEqual(artifact.model.graph.inputs[0].type.shape, Shape(["N", 4]))
        XCTAssertEqual(artifact.packedWeights["w_packed"]?.byteCount, 64)
        XCTAssertEqual(artifact.packedWeights["w_packed"]?.layout, "qs8_gemm_avx512vnni_v1")
    }

    func testManifestDerivedFieldsDescribeTheGraph() throws {
        let artifact = try ArtifactReader.read(bytes: try TestArtifacts.write(), trust: .skipSignatureCheck)
        let m = artifact.manifest
        XCTAssertEqual(m.modelName, "digits-cnn")
        XCTAssertEqual(m.releaseSequence, UInt64.max - 1)
        XCTAssertEqual(m.expectedMetrics.accuracy, 0.91)
        XCTAssertEqual(m.expectedMetrics.latencyBudgetP95Milliseconds, 12.5)
        XCTAssertEqual(m.expectedMetrics.values["custom_f1"], 0.8125)
        XCTAssertEqual(m.inputs.map(\.name), ["x", "flag"])
        XCTAssertEqual(m.inputs[0].type.quantization, try QuantParameters(scale: 0.05, zeroPoint: -3))
        XCTAssertEqual(m.opsUsed, ["Add", "DequantizeLinear", "If", "MatMulInteger", "Mul", "com.microsoft:QGemm"])
        // w 12 + bias 12 + h_scale 4 + lut 5 + pair 16 + 4 + subgraph biases 12 (twice) + gain 12 + packed 64
        XCTAssertEqual(m.totalWeightBytes, 12 + 12 + 4 + 5 + 16 + 4 + 12 + 12 + 12 + 64)
        XCTAssertNil(m.createdAt)
    }

    func testOutputIsByteIdenticalAcrossRunsAndInsertionOrders() throws {
        let key = try ArtifactSigningKey(rawRepresentation: Array(repeating: 42, count: 32))
        let a = try TestArtifacts.write(signingKey: key)
        // Same model built with dictionaries filled in the opposite order.
        var model = try TestArtifacts.model()
        var reversed: [String: Tensor] = [:]
        for name in model.graph.initializers.keys.sorted().reversed() { reversed[name] = model.graph.initializers[name] }
        model.graph.initializers = reversed
        let b = try ArtifactWriter(signingKey: key).write(
            model: model, manifest: TestArtifacts.manifest(), validation: TestArtifacts.validation(),
            packedWeights: TestArtifacts.packedWeights())
        XCTAssertEqual(a, b)
        XCTAssertEqual(try TestArtifacts.write(), try TestArtifacts.write())
        var withTime = TestArtifacts.manifest()
        withTime.createdAt = "2026-01-02T03:04:05Z"
        let c = try ArtifactWriter().write(model: TestArtifacts.model(), manifest: withTime, packedWeights: TestArtifacts.packedWeights())
        XCTAssertEqual(try ArtifactReader.read(bytes: c, trust: .skipSignatureCheck).manifest.createdAt, "2026-01-02T03:04:05Z")
    }

    func testMappedFileHandsOutTensorsThatBorrowTheMapping() throws {
        let dir = try makeTemporaryDirectory("artifact-tests")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.flta")
        try ArtifactWriter().write(
            model: TestArtifacts.model(), manifest: TestArtifacts.manifest(), validation: TestArtifacts.validation(),
            packedWeights: TestArtifacts.packedWeights(), to: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.flta"], "no temporary file left behind")

        var artifact: Artifact? = try ArtifactReader.open(url, trust: .skipSignatureCheck)
        let memory = try XCTUnwrap(artifact?.memory)
        XCTAssertTrue(memory.isMemoryMapped)
        var tensors = Array(try XCTUnwrap(artifact?.model.graph.initializers.values)).filter { $0.elementType != .string }
        tensors += try XCTUnwrap(artifact?.validation?.samples.flatMap { Array($0.inputs.values) })
        XCTAssertGreaterThan(tensors.count, 5)
        for t in tensors {
            XCTAssertTrue(t.storage.isBorrowed)
            t.withUnsafeBytes { raw in
                XCTAssertTrue(memory.contains(raw), "tensor bytes lie inside the mapping")
                if let p = raw.baseAddress { XCTAssertEqual(Int(bitPattern: p) % 64, 0, "64-byte aligned") }
            }
        }
        let packed = try XCTUnwrap(artifact?.packedWeights["w_packed"])
        packed.withUnsafeBytes { XCTAssertTrue(memory.contains($0)) }

        // The mapping outlives the Artifact value while a tensor still holds it.
        let w = try XCTUnwrap(artifact?.model.graph.initializers["w"])
        let expected = try TestArtifacts.model().graph.initializers["w"]?.bytes
        artifact = nil
        XCTAssertEqual(w.bytes, expected)
    }

    func testWriterRefusesWhatItCannotRepresent() throws {
        var model = try TestArtifacts.model()
        var packed = try TestArtifacts.packedWeights()
        packed["w"] = try PackedTensor(layout: "x", elementType: .int8, shape: [3, 4], bytes: [1])
        guard
            case .unsupportedModel(let path, _) = artifactError({
                try ArtifactWriter().write(model: model, manifest: TestArtifacts.manifest(), packedWeights: packed)
            })
        else {
            return XCTFail("a name both plain and packed is refused")
        }
        XCTAssertEqual(path, "graph.initializers.w")
        XCTAssertThrowsError(try PackedTensor(layout: "bad layout!", elementType: .int8, shape: [1], bytes: [1]))
        model.graph.nodes[0].inputs.append("nowhere")
        guard
            case .unsupportedModel = artifactError({
                try ArtifactWriter().write(model: model, manifest: TestArtifacts.manifest(), packedWeights: TestArtifacts.packedWeights())
            })
        else {
            return XCTFail("an invalid graph is refused")
        }
    }
}
