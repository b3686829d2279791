import Foundation
import TestSupport
import XCTest

final class RunCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws { scratch = try makeTemporaryDirectory("flotilla-cli-test") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// |ours − reference| ≤ atol + rtol·|reference| elementwise (docs/fixtures.md).
    private func assertClose(
        _ ours: [Float], _ reference: [Float], tolerance: [String: Any], file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let atol = try XCTUnwrap(tolerance["atol"] as? Double), rtol = try XCTUnwrap(tolerance["rtol"] as? Double)
        XCTAssertEqual(ours.count, reference.count, file: file, line: line)
        var worst = 0.0
        for (a, b) in zip(ours, reference) {
            let excess = abs(Double(a) - Double(b)) - (atol + rtol * abs(Double(b)))
            worst = max(worst, excess)
        }
        XCTAssertLessThanOrEqual(worst, 0, "outside the manifest tolerance by \(worst)", file: file, line: line)
    }

    func testDigitsCNNMatchesONNXRuntime() throws {
        let entry = try CLI.manifestEntry("digits_cnn")
        let input = try XCTUnwrap((entry["inputs"] as? [String: String])?["input"])
        let reference = try XCTUnwrap((entry["outputs"] as? [String: String])?["logits"])
        let out = scratch.appendingPathComponent("logits.npy")
        let r = try CLI.run(["run", "digits_cnn.onnx", "--input", input, "--output", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("N=400"), "the batch is bound from the input: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("logits: float32[400, 10]"), r.stdout)
        XCTAssertTrue(r.stdout.contains("argmax per row: 6 7 1 3"), r.stdout)

        let ours = try NPYTestFile(contentsOf: out)
        let theirs = try NPYTestFile(contentsOf: CLI.fixtures.appendingPathComponent(reference))
        XCTAssertEqual(ours.descr, "<f4")
        XCTAssertEqual(ours.shape, [400, 10])
        try assertClose(ours.floats, theirs.floats, tolerance: try XCTUnwrap(entry["tolerance"] as? [String: Any]))
    }

    func testDigitsMLPWritesEveryOutput() throws {
        let entry = try CLI.manifestEntry("digits_mlp")
        let out = scratch.appendingPathComponent("mlp.npy")
        let r = try CLI.run(["run", "digits_mlp.onnx", "--input", "input=digits/test_x_flat.npy", "--output", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let labels = try NPYTestFile(contentsOf: scratch.appendingPathComponent("mlp.label.npy"))
        let expectedLabels = try NPYTestFile(contentsOf: CLI.fixtures.appendingPathComponent("digits_mlp.ort_output.label.npy"))
        XCTAssertEqual(labels.descr, "<i8")
        XCTAssertEqual(labels.int64s, expectedLabels.int64s)
        let probabilities = try NPYTestFile(contentsOf: scratch.appendingPathComponent("mlp.probabilities.npy"))
        let expected = try NPYTestFile(contentsOf: CLI.fixtures.appendingPathComponent("digits_mlp.ort_output.probabilities.npy"))
        try assertClose(probabilities.floats, expected.floats, tolerance: try XCTUnwrap(entry["tolerance"] as? [String: Any]))
    }

    func testWrongShapeNamesTheInputAndTheExpectedShape() throws {
        let bad = scratch.appendingPathComponent("flat.npy")
        try NPYTestFile.float32(Array(repeating: 0.5, count: 2 * 64), shape: [2, 64]).write(to: bad)
        let r = try CLI.run(["run", "digits_cnn.onnx", "--input", bad.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("input 'input'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("[N, 1, 8, 8]"), r.stderr)
        XCTAssertTrue(r.stderr.contains("[2, 64]"), r.stderr)

        let wrongChannels = scratch.appendingPathComponent("c3.npy")
        try NPYTestFile.float32(Array(repeating: 0, count: 3 * 64), shape: [1, 3, 8, 8]).write(to: wrongChannels)
        let r2 = try CLI.run(["run", "digits_cnn.onnx", "--input", wrongChannels.path])
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("dimension 1 is 3, not 1"), r2.stderr)
    }

    func testWrongDtypeSaysWhatTheModelExpects() throws {
        let bad = scratch.appendingPathComponent("f64.npy")
        try NPYTestFile.float64(Array(repeating: 0, count: 64), shape: [1, 1, 8, 8]).write(to: bad)
        let r = try CLI.run(["run", "digits_cnn.onnx", "--input", bad.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("float64"), r.stderr)
        XCTAssertTrue(r.stderr.contains("float32[N, 1, 8, 8]"), r.stderr)
    }

    func testUnknownInputNameAndUnreadableFiles() throws {
        let r = try CLI.run(["run", "digits_cnn.onnx", "--input", "pixels=digits/test_x.npy"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no input 'pixels'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("'input'"), r.stderr)

        let notNPY = try CLI.run(["run", "digits_cnn.onnx", "--input", "manifest.json"])
        XCTAssertNotEqual(notNPY.status, 0)
        XCTAssertTrue(notNPY.stderr.contains("manifest.json"), notNPY.stderr)
        XCTAssertTrue(notNPY.stderr.contains("not a .npy file"), notNPY.stderr)

        let notONNX = try CLI.run(["run", "digits/test_x.npy", "--input", "digits/test_x.npy"])
        XCTAssertNotEqual(notONNX.status, 0)
        XCTAssertTrue(notONNX.stderr.contains("not an ONNX model"), notONNX.stderr)

        let conflicting = try CLI.run(["run", "digits_cnn.onnx", "--input", "digits/test_x.npy", "--bind", "N=1"])
        XCTAssertNotEqual(conflicting.status, 0)
        XCTAssertTrue(conflicting.stderr.contains("--bind N=1"), conflicting.stderr)
    }
}
