import Foundation
import XCTest

final class BenchCommandTests: XCTestCase {
    func testBenchJSONOnTheCNN() throws {
        let r = try CLI.run(["bench", "digits_cnn.onnx", "--runs", "5", "--warmup", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.isEmpty, "no progress output when not on a terminal: \(r.stderr)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let latency = try XCTUnwrap(json["latency_us"] as? [String: Double])
        XCTAssertEqual(latency["runs"], 5)
        let (minimum, p50, p99, maximum) = (latency["min"] ?? -1, latency["p50"] ?? -1, latency["p99"] ?? -1, latency["max"] ?? -1)
        XCTAssertGreaterThan(minimum, 0)
        XCTAssertLessThanOrEqual(minimum, p50)
        XCTAssertLessThanOrEqual(p50, p99)
        XCTAssertLessThanOrEqual(p99, maximum)
        XCTAssertEqual(json["bindings"] as? [String: Int], ["N": 1])
        XCTAssertEqual(json["threads"] as? Int, 1)
        XCTAssertGreaterThan(json["peak_arena_bytes"] as? Int ?? 0, 0)
        let bins = try XCTUnwrap((json["histogram"] as? [String: Any])?["bins"] as? [[String: Any]])
        XCTAssertEqual(bins.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }, 5, "every run lands in one bin")
        let inputs = try XCTUnwrap(json["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.first?["shape"] as? [Int], [1, 1, 8, 8])
    }

    func testBenchBindsTheBatchFromAnInputFileAndProfiles() throws {
        let json = try CLI.json([
            "bench", "digits_cnn.onnx", "--input", "digits/calibration_x.npy", "--runs", "3", "--warmup", "0",
            "--profile", "--json",
        ])
        XCTAssertEqual(json["bindings"] as? [String: Int], ["N": 200])
        let profile = try XCTUnwrap(json["profile"] as? [String: Any])
        let nodes = try XCTUnwrap(profile["nodes"] as? [[String: Any]])
        // One profiled node per step of the full plan: conv1(+BN,+ReLU), MaxPool, conv2(+ReLU), Gemm
        // (Flatten is a view of its input, with no step, in both).
        XCTAssertEqual(nodes.count, json["steps"] as? Int)
        let kinds = try XCTUnwrap(profile["by_kind"] as? [[String: Any]])
        XCTAssertEqual(kinds.first { $0["kind"] as? String == "Conv 3x3" }?["nodes"] as? Int, 2)
        XCTAssertTrue(nodes.allSatisfy { ($0["median_us"] as? Double ?? 0) > 0 })
        let shares = kinds.reduce(0.0) { $0 + ($1["share"] as? Double ?? 0) }
        XCTAssertEqual(shares, 1, accuracy: 1e-9)
    }

    /// On a QDQ model the profile times the plan as it executes after QDQFusion: QLinearConv and
    /// QGemm steps carrying the DequantizeLinear/QuantizeLinear nodes they replaced, not the
    /// graph's fp32 Conv/Gemm and DQ/Q nodes.
    func testProfileOfAQDQModelTimesTheFusedSteps() throws {
        let json = try CLI.json([
            "bench", "quantized/digits_cnn.qdq.u8s8.perchannel.onnx", "--runs", "3", "--warmup", "0", "--profile", "--json",
        ])
        let profile = try XCTUnwrap(json["profile"] as? [String: Any])
        let nodes = try XCTUnwrap(profile["nodes"] as? [[String: Any]])
        let ops = nodes.compactMap { $0["op"] as? String }
        XCTAssertEqual(ops.count, nodes.count)
        // The input's QuantizeLinear and the logits' DequantizeLinear stay (graph boundaries);
        // both convolutions, the pool and the Gemm run fused on int8.
        XCTAssertEqual(Set(ops), ["QuantizeLinear", "QLinearConv", "MaxPool", "com.microsoft:QGemm", "DequantizeLinear"])
        XCTAssertEqual(ops.filter { $0 == "QLinearConv" }.count, 2)
        XCTAssertEqual(ops.filter { $0 == "DequantizeLinear" || $0 == "QuantizeLinear" }.count, 2)
        // Every executed step appears exactly once.
        let names = nodes.compactMap { $0["node"] as? String }
        XCTAssertEqual(names.count, json["steps"] as? Int)
        XCTAssertEqual(Set(names).count, names.count)
        let kinds = try XCTUnwrap(profile["by_kind"] as? [[String: Any]])
        XCTAssertEqual(kinds.first { $0["kind"] as? String == "QLinearConv 3x3" }?["nodes"] as? Int, 2)
        XCTAssertEqual(kinds.reduce(0) { $0 + ($1["nodes"] as? Int ?? 0) }, nodes.count)
        // Per-step medians add up to the reported sum, and the shares to one.
        let medians = nodes.map { $0["median_us"] as? Double ?? -1 }
        XCTAssertTrue(medians.allSatisfy { $0 > 0 })
        XCTAssertEqual(medians.reduce(0, +), profile["sum_of_nodes_us"] as? Double ?? -1, accuracy: 1e-6)
        XCTAssertEqual(kinds.reduce(0.0) { $0 + ($1["share"] as? Double ?? 0) }, 1, accuracy: 1e-9)
        // Fused steps name the QDQ nodes they replaced; each model node is accounted for once
        // (a step's source, or folded/view).
        let conv2 = try XCTUnwrap(nodes.first { $0["node"] as? String == "conv2" })
        let sources = try XCTUnwrap(conv2["sources"] as? [String])
        XCTAssertTrue(sources.contains("conv2"))
        XCTAssertTrue(sources.contains { $0.hasSuffix("DequantizeLinear") }, "\(sources)")
        XCTAssertTrue(sources.contains { $0.hasSuffix("QuantizeLinear") && !$0.hasSuffix("DequantizeLinear") }, "\(sources)")
        let allSources = nodes.flatMap { $0["sources"] as? [String] ?? [] }
        let folded = profile["folded_nodes"] as? [String] ?? []
        XCTAssertEqual(Set(allSources).count, allSources.count, "no node is the source of two steps here")
        XCTAssertTrue(Set(allSources).isDisjoint(with: folded), "folded: \(folded)")
        // Only the int8 Flatten (a view of its input, no step) and the DQ/Q it absorbed have no
        // time of their own.
        XCTAssertEqual(Set(folded), ["relu2_DequantizeLinear", "flatten", "flat_QuantizeLinear"])
    }

    func testBenchRejectsBadArguments() throws {
        let r = try CLI.run(["bench", "digits_cnn.onnx", "--runs", "0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--runs"), r.stderr)
        let bind = try CLI.run(["bench", "digits_cnn.onnx", "--bind", "N"])
        XCTAssertNotEqual(bind.status, 0)
        XCTAssertTrue(bind.stderr.contains("SYMBOL=SIZE"), bind.stderr)
    }
}
