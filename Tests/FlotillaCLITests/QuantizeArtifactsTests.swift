import Foundation
import ModelArtifact
import ModelIR
import Runtime
import TestSupport
import XCTest

/// `flotilla quantize --artifacts` on the committed digits fixtures: the artifacts verify, load,
/// and their validation bundles reach the expected metrics on the runtime.
final class QuantizeArtifactsTests: XCTestCase {
    func quantize(_ out: URL, _ hardwareClass: String, _ extra: [String]) throws -> CLI.Result {
        try CLI.run(
            [
                "quantize", "digits_cnn.onnx", "--calibration", "digits/calibration_x.npy", "--eval", "digits/test_x.npy",
                "--labels", "digits/test_y.npy", "--class", hardwareClass, "--budget", "0.5", "--time-budget", "60",
                "-o", out.path, "--artifacts", "--name", "digits", "--model-version", "2.0.0", "--release-sequence", "3",
            ] + extra)
    }

    func testWritesSignedArtifactsWhoseBundlesPassOnTheRuntime() throws {
        let dir = try makeTemporaryDirectory("flotilla-cli-test")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = ArtifactSigningKey.generate()
        let keyFile = dir.appendingPathComponent("key.pem")
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: keyFile.path, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]))
        let out = dir.appendingPathComponent("out")
        let r = try quantize(out, "x86_64-avx2", ["--key", keyFile.path])
        XCTAssertEqual(r.status, 0, r.stderr)

        let artifactURL = out.appendingPathComponent("x86_64-avx2.flotilla")
        let artifact = try ArtifactReader.open(artifactURL, trust: .pinnedKeys([key.publicKey]))
        XCTAssertEqual(artifact.manifest.hardwareClass, "x86_64-avx2")
        XCTAssertEqual(artifact.manifest.modelName, "digits")
        XCTAssertEqual(artifact.manifest.releaseSequence, 3)
        let digest = try ArtifactTransport.sha256(fileAt: artifactURL).sha256
        XCTAssertTrue(r.stdout.contains("\(artifactURL.path) sha256:\(digest)"), r.stdout)
        let zst = out.appendingPathComponent("x86_64-avx2.flotilla.zst")
        XCTAssertTrue(r.stdout.contains("\(zst.path) sha256:\(try ArtifactTransport.sha256(fileAt: zst).sha256)"), r.stdout)
        try assertBundlePasses(artifact)

        // The report files still come with the artifacts.
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.json").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("x86_64-avx2.qdq.onnx").path))
    }

    func testWithoutAKeyAFreshOneIsWrittenBesideTheOutputWithAWarning() throws {
        let dir = try makeTemporaryDirectory("flotilla-cli-test")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let r = try quantize(out, "arm64-dotprod", [])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: no --key"), r.stderr)
        let keyFile = out.appendingPathComponent("signing-key.pem")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int, 0o600)
        let pub = try ArtifactPublicKey(
            pemRepresentation: String(contentsOf: out.appendingPathComponent("signing-key.pub.pem"), encoding: .utf8))
        let artifact = try ArtifactReader.open(out.appendingPathComponent("arm64-dotprod.flotilla"), trust: .pinnedKeys([pub]))
        XCTAssertEqual(artifact.signingKeyID, pub.keyID)
        try assertBundlePasses(artifact)
    }

    /// Runs the bundle with the runtime's automatic kernels (what a device of this host's class
    /// would pick) and checks accuracy and fp32 agreement against the expected metrics.
    func assertBundlePasses(_ artifact: Artifact, file: StaticString = #filePath, line: UInt = #line) throws {
        let bundle = try XCTUnwrap(artifact.validation)
        XCTAssertGreaterThanOrEqual(bundle.samples.count, 32)
        var bindings: [String: Int] = [:]
        for input in artifact.model.graph.inputs {
            for (i, d) in (input.type.shape?.dims ?? []).enumerated() {
                if case .symbolic(let name) = d, let shape = bundle.samples.first?.inputs[input.name]?.shape { bindings[name] = shape[i] }
            }
        }
        // The artifact's int8 GEMM weights are pre-packed for its class (arm64-dotprod here):
        // handed to the plan as a device does, repacked when this host's path differs.
        let packed = artifact.packedWeights
        XCTAssertFalse(packed.isEmpty, "the artifact carries pre-packed weights", file: file, line: line)
        let plan = try ExecutionPlan(model: artifact.model, bindings: bindings, options: .init(packedWeights: packed))
        let session = plan.makeSession()
        let output = try XCTUnwrap(artifact.model.graph.outputs.first?.name)
        var correct = 0, agree = 0
        for sample in bundle.samples {
            let scores = try XCTUnwrap(try session.run(inputs: sample.inputs)[output]?.floats)
            let reference = try XCTUnwrap(sample.referenceOutputs[output]?.floats)
            let label = try XCTUnwrap(sample.label?.asInt64s?.first)
            let top = scores.indices.max { scores[$0] < scores[$1] } ?? -1
            let refTop = reference.indices.max { reference[$0] < reference[$1] } ?? -1
            if Int64(top) == label { correct += 1 }
            if top == refTop { agree += 1 }
        }
        let accuracy = Double(correct) / Double(bundle.samples.count)
        let agreement = Double(agree) / Double(bundle.samples.count)
        let expected = try XCTUnwrap(bundle.expectedMetrics.accuracy)
        XCTAssertGreaterThanOrEqual(accuracy, expected, file: file, line: line)
        XCTAssertGreaterThanOrEqual(agreement, try XCTUnwrap(bundle.expectedMetrics.fp32Agreement), file: file, line: line)
        XCTAssertGreaterThan(accuracy, 0.9, "digits CNN int8 accuracy", file: file, line: line)
    }
}
