import Foundation
import TestSupport
import XCTest

/// Issue #5's cross-check of `flotilla quantize --export-qdq`: each digits fixture is quantized
/// for every built-in hardware class, and each exported QDQ ONNX file is run on the 400 test
/// samples by ONNX Runtime (scripts/ort-run.py, default graph optimizations, so its int8 QDQ
/// kernels) and by Flotilla's runtime (`flotilla run --kernels reference`: the class's contract
/// arithmetic, bit-exact with every optimized path). At least 99.9% of the values of every
/// output must agree within one quantization step:
/// - a float output produced by a DequantizeLinear: that output's scale (one code);
/// - a float output computed in fp32 from quantized values (the MLP's Softmax probabilities):
///   the scale of the last QuantizeLinear before it. Softmax moves by at most half its input's
///   change, so one step of the logits bounds it; a loose bound for values ≤ 1, which is why
///   the message also reports the largest difference in steps;
/// - an integer output (the MLP's ArgMax label): exact equality.
/// Measured on this machine (ONNX Runtime 1.31.1): every logit identical, labels identical,
/// probabilities within 2.4e-7.
final class QDQExportONNXRuntimeTests: XCTestCase {
    static let minimumAgreement = 0.999
    /// Two dequantized values one code apart differ by the scale up to float rounding of each
    /// (|q| ≤ 255 codes, relative 2⁻²⁴): 1e-4 of a step covers it.
    static let stepSlack = 1e-4

    func testDigitsCNNExportAgreesWithONNXRuntimeForEveryClass() throws {
        try crossCheck(model: "digits_cnn.onnx", calibration: "digits/calibration_x.npy", evaluation: "digits/test_x.npy")
    }

    func testDigitsMLPExportAgreesWithONNXRuntimeForEveryClass() throws {
        try crossCheck(model: "digits_mlp.onnx", calibration: "digits/calibration_x_flat.npy", evaluation: "digits/test_x_flat.npy")
    }

    /// The built-in class names, from their profile files (a new built-in is covered by itself).
    func builtInClasses() throws -> [String] {
        let dir = CLI.packageRoot.appendingPathComponent("deploy/hardware-classes")
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
        let names = try files.filter { $0.pathExtension == "json" }.map { file in
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
            return try XCTUnwrap(object?["name"] as? String, "no name in \(file.path)")
        }
        XCTAssertGreaterThanOrEqual(names.count, 5, "the five built-in classes of docs/quantization.md")
        return names.sorted()
    }

    func crossCheck(model: String, calibration: String, evaluation: String, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let dir = try makeTemporaryDirectory("flotilla-cli-test")
        defer { try? FileManager.default.removeItem(at: dir) }
        let classes = try builtInClasses()
        let export = dir.appendingPathComponent("export.onnx")
        let q = try CLI.run([
            "quantize", model, "--calibration", calibration, "--eval", evaluation, "--labels", "digits/test_y.npy",
            "--class", "all", "--budget", "0.5", "--time-budget", "60", "-o", dir.appendingPathComponent("out").path,
            "--export-qdq", export.path,
        ])
        // 2 = a budget missed: the export still exists and must still run the same in ORT.
        XCTAssertTrue(q.status == 0 || q.status == 2, "quantize \(model) failed (\(q.status)): \(q.stderr)", file: file, line: line)
        let exports = classes.map { c in (c, dir.appendingPathComponent("export.\(c).onnx")) }
        for (c, url) in exports {
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), "no export for \(c): \(q.stderr)", file: file, line: line)
        }

        let input = CLI.fixtures.appendingPathComponent(evaluation)
        try ONNXRuntimeScript.run(
            inputs: ["input": input], models: exports.map { ($0.1, dir.appendingPathComponent("ort/\($0.0)")) })

        for (c, url) in exports {
            let ortDirectory = dir.appendingPathComponent("ort/\(c)")
            let steps = try ONNXRuntimeScript.steps(in: ortDirectory)
            let ours = dir.appendingPathComponent("ours-\(c)")
            try FileManager.default.createDirectory(at: ours, withIntermediateDirectories: true)
            let r = try CLI.run([
                "run", url.path, "--input", input.path, "--kernels", "reference", "--output", ours.appendingPathComponent("out.npy").path,
            ])
            XCTAssertEqual(r.status, 0, "flotilla run \(url.lastPathComponent): \(r.stderr)", file: file, line: line)
            XCTAssertFalse(steps.isEmpty, "no outputs from ONNX Runtime for \(c)", file: file, line: line)
            for (output, step) in steps.sorted(by: { $0.key < $1.key }) {
                let oursFile = ours.appendingPathComponent(steps.count == 1 ? "out.npy" : "out.\(output).npy")
                let theirs = try NPYTestFile(contentsOf: ortDirectory.appendingPathComponent("\(output).npy"))
                let mine = try NPYTestFile(contentsOf: oursFile)
                let label = "\(model) \(c) '\(output)'"
                XCTAssertEqual(mine.shape, theirs.shape, "\(label): shapes", file: file, line: line)
                let a = try agreement(mine, theirs, step: step, label: label)
                print("ort cross-check: \(a.summary)")
                XCTAssertGreaterThanOrEqual(
                    a.fraction, Self.minimumAgreement, "\(a.summary); need ≥ \(Self.minimumAgreement * 100)%", file: file, line: line)
            }
        }
    }

    struct Agreement {
        var label: String
        var total = 0
        var within = 0
        var maxDifference = 0.0
        var step: Double?

        var fraction: Double { total == 0 ? 0 : Double(within) / Double(total) }
        var summary: String {
            let share = String(format: "%.3f%%", fraction * 100)
            guard let step else { return "\(label): \(within)/\(total) values equal (\(share)), integer output compared exactly" }
            return "\(label): \(within)/\(total) values (\(share)) within one step \(step) of ONNX Runtime's; "
                + "max |Δ| \(maxDifference) = \(String(format: "%.2g", maxDifference / step)) steps"
        }
    }

    /// Counts values within one step (float outputs) or equal (int64 outputs).
    func agreement(_ ours: NPYTestFile, _ theirs: NPYTestFile, step: Double?, label: String) throws -> Agreement {
        var a = Agreement(label: label, step: step)
        switch (ours.descr, theirs.descr, step) {
        case ("<f4", "<f4", .some(let step)):
            XCTAssertTrue(step.isFinite && step > 0, "\(label): step \(step) is not a positive scale")
            for (x, y) in zip(ours.floats, theirs.floats) {
                let d = abs(Double(x) - Double(y))
                a.total += 1
                if d <= step * (1 + Self.stepSlack) { a.within += 1 }
                // NaN counts as disagreement and as an infinite difference.
                a.maxDifference = d.isNaN ? .infinity : max(a.maxDifference, d)
            }
            XCTAssertEqual(ours.floats.count, theirs.floats.count, "\(label): value counts")
        case ("<i8", "<i8", nil):
            let x = ours.int64s, y = theirs.int64s
            a.total = max(x.count, y.count)
            a.within = zip(x, y).filter { $0 == $1 }.count
        default:
            XCTFail("\(label): cannot compare ours \(ours.descr) with ONNX Runtime's \(theirs.descr) (step \(String(describing: step)))")
        }
        return a
    }
}
