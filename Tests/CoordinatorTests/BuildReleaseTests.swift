import Coordinator
import FleetProtocol
import Foundation
import ModelArtifact
import Quantizer
import XCTest

@testable import Agent

/// Release builds of the committed digits CNN (Tests/Fixtures, docs/fixtures.md).
final class BuildReleaseTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("build-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func request(
        classes: [String], budget: AccuracyBudget = AccuracyBudget(maxDropPoints: 0.5), key: ArtifactSigningKey? = nil,
        requireBudget: Bool = true, model: URL? = nil, timeBudget: Duration = .seconds(120)
    ) -> ReleaseBuildRequest {
        let digits = Self.fixtures.appendingPathComponent("digits")
        return ReleaseBuildRequest(
            model: model ?? Self.fixtures.appendingPathComponent("digits_cnn.onnx"),
            calibration: digits.appendingPathComponent("calibration_x.npy"), evaluation: digits.appendingPathComponent("test_x.npy"),
            labels: digits.appendingPathComponent("test_y.npy"), budget: budget, timeBudgetPerClass: timeBudget,
            hardwareClasses: classes,
            artifacts: key.map {
                ArtifactOptions(
                    modelName: "digits", modelVersion: "1.2.0", releaseSequence: 7, signingKey: $0,
                    outputDirectory: scratch.appendingPathComponent("out"), createdBy: "build-tests", requireBudget: requireBudget)
            })
    }

    func builder(_ r: ReleaseBuildRequest) throws -> ReleaseBuilder {
        ReleaseBuilder(request: r, registry: try ReleaseBuilder.registry(profileDirectories: []))
    }

    final class ProgressLog: @unchecked Sendable {
        // Sendable proof: every access holds `lock`.
        private let lock = NSLock()
        private var items: [BuildProgress] = []
        func append(_ p: BuildProgress) { lock.withLock { items.append(p) } }
        var all: [BuildProgress] { lock.withLock { items } }
    }

    func testTwoClassesGiveSignedVerifiedArtifactsThatPassTheirValidationBundles() async throws {
        var keyring = try SigningKeyring.open(dataDirectory: scratch.appendingPathComponent("data"))
        let classes = ["x86_64-avx2", "arm64-dotprod"]
        let log = ProgressLog()
        let result = try builder(request(classes: classes, key: keyring.activeKey)).build(progress: { log.append($0) })

        XCTAssertTrue(result.failures.isEmpty, "\(result.failures)")
        XCTAssertEqual(result.built.map(\.hardwareClass), classes)
        XCTAssertNotEqual(result.built[0].artifactDigest, result.built[1].artifactDigest, "each class has its own arithmetic")
        XCTAssertEqual(result.report.classes.map(\.hardwareClass), classes)
        for variant in result.built {
            XCTAssertTrue(variant.budgetMet)
            XCTAssertEqual(variant.signingKeyID, keyring.activeKeyID)
            // The report is stored as JSON: it must decode and say the budget was met.
            let report = try JSONDecoder().decode(QuantizationReport.self, from: variant.reportJSON)
            XCTAssertEqual(report.classes.first?.budgetMet, true)
            XCTAssertLessThanOrEqual(try XCTUnwrap(report.classes.first).evaluation.dropPoints, 0.5)
            XCTAssertTrue(variant.reportText.contains(variant.hardwareClass))

            // Verifies against the keyring's pinned keys and says what it is.
            let artifact = try ArtifactReader.open(variant.artifactPath, trust: .pinnedKeys(keyring.publicKeys))
            XCTAssertEqual(artifact.signingKeyID, keyring.activeKeyID)
            XCTAssertEqual(artifact.manifest.modelName, "digits")
            XCTAssertEqual(artifact.manifest.modelVersion, "1.2.0")
            XCTAssertEqual(artifact.manifest.releaseSequence, 7)
            XCTAssertEqual(artifact.manifest.hardwareClass, variant.hardwareClass)
            XCTAssertEqual(artifact.manifest.createdBy, "build-tests")
            let bundle = try XCTUnwrap(artifact.validation)
            XCTAssertEqual(bundle.samples.count, 64)
            XCTAssertTrue(bundle.samples.allSatisfy { $0.label != nil && !$0.referenceOutputs.isEmpty })
            let expected = bundle.expectedMetrics
            XCTAssertEqual(expected.accuracy, variant.metrics[ExpectedMetrics.accuracyKey])
            XCTAssertGreaterThan(try XCTUnwrap(expected.accuracy), 0.9)
            XCTAssertEqual(expected.maxAccuracyDrop, 0.005)
            // int8 GEMM weights are pre-packed for the class's int8 path, built on this host
            // whatever its CPU (the arm64 class too), and replace their initializers.
            let int8Path = variant.hardwareClass == "x86_64-avx2" ? "avx2" : "neondot"
            let q8 = artifact.packedWeights.filter { $0.value.layout.hasPrefix("flotilla.q8.") }
            XCTAssertGreaterThanOrEqual(q8.count, 2, "\(variant.hardwareClass): \(artifact.packedWeights.mapValues(\.layout))")
            for (name, w) in q8 {
                XCTAssertTrue(w.layout.hasPrefix("flotilla.q8.gemm.\(int8Path)."), "\(name): \(w.layout)")
                XCTAssertNil(artifact.model.graph.initializers[name], name)
            }

            // The transport form decompresses to exactly the artifact.
            let unpacked = scratch.appendingPathComponent("\(variant.hardwareClass).unpacked")
            try ArtifactTransport.decompress(
                fileAt: variant.transportPath, to: unpacked, expected: variant.transport.artifactTransportDigests, maxBytes: 1 << 26)
            XCTAssertEqual(try ArtifactTransport.sha256(fileAt: unpacked).sha256, variant.artifactDigest)

            // A device loads it and its validation bundle passes on the runtime, exactly.
            let loaded = try LoadedModel.load(path: variant.artifactPath.path, pinnedKeys: keyring.publicKeys)
            let check = try await ModelValidator.run(
                loaded, thresholds: ValidationThresholds(accuracyTolerance: 0, agreementTolerance: 0, latencyRuns: 3))
            XCTAssertNil(check.failure.map { "\($0.metric) \($0.measured) < \($0.threshold)" })
            XCTAssertEqual(check.accuracy, expected.accuracy)
            XCTAssertEqual(check.agreement, expected.fp32Agreement)
        }

        // After rotation the old release still verifies for devices that pin both keys, and not
        // for a device that pins only the new key.
        try keyring.rotate()
        XCTAssertNoThrow(try ArtifactReader.open(result.built[0].artifactPath, trust: .pinnedKeys(keyring.publicKeys)))
        XCTAssertThrowsError(try ArtifactReader.open(result.built[0].artifactPath, trust: .pinnedKeys([keyring.activeKey.publicKey])))

        let seen = log.all
        XCTAssertEqual(Set(seen.map(\.hardwareClass)), Set(classes))
        XCTAssertTrue(seen.contains { $0.phase == .verifying && $0.classIndex == 1 && $0.classCount == 2 })
        XCTAssertEqual(seen.last?.phase, .finished)
        XCTAssertEqual(seen.last?.fraction, 1)
        XCTAssertEqual(seen.map(\.fraction), seen.map(\.fraction).sorted(), "progress never goes back")
    }

    func testAClassThatMissesTheBudgetIsRefusedOrFlaggedPerOption() throws {
        let key = ArtifactSigningKey.generate()
        // A drop below zero can never be met: the tuner runs until its (short) time budget ends.
        let impossible = AccuracyBudget(maxDropPoints: -1)
        let refused = try builder(request(classes: ["x86_64-avx2"], budget: impossible, key: key, timeBudget: .seconds(3))).build()
        let failure = try XCTUnwrap(refused.variants.first?.failure)
        XCTAssertTrue(failure.contains("budget missed") && failure.contains("no artifact written"), failure)
        XCTAssertNil(refused.variants.first?.artifact)
        XCTAssertEqual(refused.report.classes.first?.budgetMet, false, "the report still shows the class")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("out/x86_64-avx2.flotilla").path))

        let flagged = try builder(
            request(classes: ["x86_64-avx2"], budget: impossible, key: key, requireBudget: false, timeBudget: .seconds(3))
        ).build()
        let built = try XCTUnwrap(flagged.built.first, "\(flagged.variants.map { $0.failure ?? "" })")
        XCTAssertFalse(built.budgetMet)
        let artifact = try ArtifactReader.open(built.artifactPath, trust: .pinnedKeys([key.publicKey]))
        XCTAssertEqual(artifact.manifest.labels["budget"], "missed")
        // Gemm/MatMul weights left in fp32 are pre-packed for the class's fp32 path (avx2),
        // none is left plain, and the bundle check above planned the artifact with them.
        for node in artifact.model.graph.nodes where node.opType == "Gemm" || node.opType == "MatMul" {
            guard node.inputs.count > 1 else { continue }
            XCTAssertNotEqual(artifact.model.graph.initializers[node.inputs[1]]?.elementType, .float32, "\(node.name) left plain")
        }
        for (name, w) in artifact.packedWeights where w.layout.hasPrefix("flotilla.f32.") {
            XCTAssertEqual(w.layout, "flotilla.f32.gemm.avx2.16", name)
        }
    }

    func testCorruptModelFileIsNamedInTheError() throws {
        let broken = scratch.appendingPathComponent("broken.onnx")
        try Data("this is not a protobuf \u{1}\u{2}\u{3}".utf8).write(to: broken)
        XCTAssertThrowsError(try builder(request(classes: ["x86_64-avx2"], model: broken)).build()) { error in
            guard case BuildError.model(let path, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, broken.path)
            XCTAssertTrue("\(error)".contains("broken.onnx") && detail.contains("ONNX"), "\(error)")
        }
        let missing = scratch.appendingPathComponent("missing.onnx")
        XCTAssertThrowsError(try builder(request(classes: ["x86_64-avx2"], model: missing)).build()) { error in
            XCTAssertTrue("\(error)".contains("missing.onnx") && "\(error)".contains("does not exist"), "\(error)")
        }
    }

    func testUnknownClassListsTheKnownOnes() throws {
        XCTAssertThrowsError(try builder(request(classes: ["x86_64-avx2", "riscv-vector"])).build()) { error in
            guard case BuildError.unknownClass(let name, let known) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "riscv-vector")
            XCTAssertTrue(known.contains("x86_64-avx2") && known.contains("arm64-dotprod"))
            XCTAssertTrue("\(error)".contains("arm64-neon"), "\(error)")
        }
    }
}
