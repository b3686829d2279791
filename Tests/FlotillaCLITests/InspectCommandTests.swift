import Foundation
import TestSupport
import XCTest

final class InspectCommandTests: XCTestCase {
    private func opCounts(_ json: [String: Any]) throws -> [String: Int] {
        let ops = try XCTUnwrap(json["ops"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: ops.compactMap { o in (o["op"] as? String).map { ($0, o["count"] as? Int ?? -1) } })
    }

    func testDigitsCNNOpsParametersAndMACs() throws {
        let json = try CLI.json(["inspect", "digits_cnn.onnx", "--json"])
        XCTAssertEqual(try opCounts(json), ["Conv": 2, "BatchNormalization": 1, "Relu": 2, "MaxPool": 1, "Flatten": 1, "Gemm": 1])
        XCTAssertEqual(json["node_count"] as? Int, 8)
        XCTAssertEqual(json["ir_version"] as? Int, 7)
        XCTAssertEqual(json["opset_imports"] as? [String: Int], ["ai.onnx": 13])

        // By hand from docs/fixtures.md, batch 1: conv1 3×3, 1→16 channels at 8×8 (pad 1);
        // max-pool to 4×4; conv2 3×3, 16→32 at 4×4; Gemm 512→10.
        let conv1 = 16 * 8 * 8 * (1 * 3 * 3)
        let conv2 = 32 * 4 * 4 * (16 * 3 * 3)
        let fc = 10 * 512
        XCTAssertEqual(json["macs"] as? Int, conv1 + conv2 + fc)
        XCTAssertEqual(json["macs_bindings"] as? [String: Int], ["N": 1])
        let byOp = try XCTUnwrap(json["macs_by_op"] as? [[String: Any]])
        XCTAssertEqual(byOp.first { $0["op"] as? String == "Conv" }?["macs"] as? Int, conv1 + conv2)

        // conv1 w+b, bn scale/bias/mean/var, conv2 w+b, fc w+b.
        let parameters = (16 * 1 * 9 + 16) + 4 * 16 + (32 * 16 * 9 + 32) + (10 * 512 + 10)
        XCTAssertEqual(json["parameters"] as? Int, parameters)
        XCTAssertEqual(json["weight_bytes"] as? Int, parameters * 4)

        let inputs = try XCTUnwrap(json["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.count, 1)
        XCTAssertEqual(inputs.first?["name"] as? String, "input")
        XCTAssertEqual(inputs.first?["shape"] as? [String], ["N", "1", "8", "8"])
        XCTAssertEqual((json["unsupported_by_importer"] as? [Any])?.count, 0)
        XCTAssertEqual((json["unsupported_by_runtime"] as? [Any])?.count, 0)
        XCTAssertNotNil(json["runtime_plan"] as? [String: Any])
        XCTAssertEqual(json["file_bytes"] as? Int, try CLI.manifestEntry("digits_cnn")["bytes"] as? Int)
    }

    func testDigitsCNNTextTables() throws {
        let r = try CLI.run(["inspect", "digits_cnn.onnx"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("input  float32  [N, 1, 8, 8]"), r.stdout)
        XCTAssertTrue(r.stdout.contains("MACs: 88 064"), r.stdout)
        XCTAssertTrue(r.stdout.contains("bound to 1 (N=1)"), r.stdout)
        // The histogram is sorted by count: Conv and Relu (2 each) come before the others.
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let conv = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  Conv ") })
        let gemm = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  Gemm ") && $0.contains("12.5%") })
        XCTAssertLessThan(conv, gemm)
        XCTAssertTrue(r.stderr.isEmpty, "no progress noise when not on a terminal: \(r.stderr)")
    }

    func testDigitsMLPOpsAndNoImporterGap() throws {
        let json = try CLI.json(["inspect", "digits_mlp.onnx", "--json"])
        XCTAssertEqual(
            try opCounts(json),
            [
                "Cast": 2, "MatMul": 3, "Add": 3, "Relu": 2, "Softmax": 1, "Identity": 1, "ArgMax": 1,
                "ai.onnx.ml:ArrayFeatureExtractor": 1, "Reshape": 1,
            ])
        XCTAssertEqual(json["macs"] as? Int, 64 * 64 + 64 * 32 + 32 * 10)
        XCTAssertEqual(json["opset_imports"] as? [String: Int], ["ai.onnx": 14, "ai.onnx.ml": 1])
        let outputs = try XCTUnwrap(json["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.map { $0["name"] as? String }, ["label", "probabilities"])
        XCTAssertEqual(outputs.first?["element_type"] as? String, "int64")
        // The importer reads ai.onnx.ml ArrayFeatureExtractor and the runtime runs it.
        let gaps = try XCTUnwrap(json["unsupported_by_importer"] as? [[String: Any]])
        XCTAssertEqual(gaps.count, 0)
    }

    func testMobileNetMatchesManifest() throws {
        let entry = try CLI.manifestEntry("mobilenetv2_shaped")
        let json = try CLI.json(["inspect", "mobilenetv2_shaped.onnx", "--json"])
        XCTAssertEqual(try opCounts(json), try XCTUnwrap(entry["op_counts"] as? [String: Int]))
        XCTAssertEqual(json["parameters"] as? Int, entry["parameters"] as? Int)
        XCTAssertEqual(json["node_count"] as? Int, 152)
        // The stem alone: 16 output channels at 48×48, 3·3·3 MACs each.
        XCTAssertGreaterThan(json["macs"] as? Int ?? 0, 16 * 48 * 48 * 27)
    }

    func testUnknownOpIsReportedNotFatal() throws {
        let dir = try makeTemporaryDirectory("flotilla-cli-test")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("fancy.onnx")
        try Data(ONNXTestModel.withUnknownOp()).write(to: model)

        let json = try CLI.json(["inspect", model.path, "--json"])
        let importer = try XCTUnwrap(json["unsupported_by_importer"] as? [[String: Any]])
        XCTAssertEqual(importer.count, 1)
        XCTAssertEqual(importer.first?["node"] as? String, "fancy")
        XCTAssertEqual(importer.first?["op"] as? String, "FancyOp")
        XCTAssertEqual(importer.first?["domain"] as? String, "com.example")
        XCTAssertEqual(importer.first?["opset"] as? Int, 1)
        let runtime = try XCTUnwrap(json["unsupported_by_runtime"] as? [[String: Any]])
        XCTAssertEqual(runtime.map { $0["node"] as? String }, ["fancy"])
        XCTAssertNil(json["runtime_plan"] as? [String: Any])

        let text = try CLI.run(["inspect", model.path])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("fancy"), text.stdout)
        XCTAssertTrue(text.stdout.contains("com.example"), text.stdout)

        let x = dir.appendingPathComponent("x.npy")
        try NPYTestFile.float32([1, -2, 3, -4, 5, -6, 7, -8], shape: [2, 4]).write(to: x)
        let run = try CLI.run(["run", model.path, "--input", x.path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("FancyOp"), run.stderr)
    }

    func testNonONNXFilesGiveAClearError() throws {
        for (file, expected) in [("digits_cnn.ort_output.npy", "NumPy"), ("manifest.json", "JSON")] {
            let r = try CLI.run(["inspect", file])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("not an ONNX model"), r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), r.stderr)
            XCTAssertTrue(r.stderr.contains(file), "the message names the file: \(r.stderr)")
        }
        let missing = try CLI.run(["inspect", "no-such-model.onnx"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("does not exist"), missing.stderr)
    }
}
