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

    func testBenchRejectsBadArguments() throws {
        let r = try CLI.run(["bench", "digits_cnn.onnx", "--runs", "0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--runs"), r.stderr)
        let bind = try CLI.run(["bench", "digits_cnn.onnx", "--bind", "N"])
        XCTAssertNotEqual(bind.status, 0)
        XCTAssertTrue(bind.stderr.contains("SYMBOL=SIZE"), bind.stderr)
    }
}
