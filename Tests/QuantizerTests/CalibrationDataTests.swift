import Foundation
import ModelIR
import Quantizer
import Runtime
import TestSupport
import XCTest

final class CalibrationDataTests: XCTestCase {
    func batches(_ data: CalibrationData) throws -> [[String: Tensor]] {
        try data.map { try $0.get() }
    }

    func testNPYIsReadInBatchesOfRows() throws {
        let dir = try makeTemporaryDirectory("quantizer-tests")
        defer { try? FileManager.default.removeItem(at: dir) }
        let values = (0..<(7 * 2 * 3)).map { Float($0) }
        let url = dir.appendingPathComponent("x.npy")
        try NPYFile.write(try Tensor(floats: values, shape: [7, 2, 3]), to: url)
        let data = try CalibrationData(url: url, inputNames: ["x"], batchSize: 3)
        let got = try batches(data)
        XCTAssertEqual(got.map { $0["x"]?.shape ?? [] }, [[3, 2, 3], [3, 2, 3], [1, 2, 3]])
        XCTAssertEqual(got.flatMap { $0["x"]?.floats ?? [] }, values)
        // Iterating again re-reads from disk and gives the same batches.
        XCTAssertEqual(try batches(data).flatMap { $0["x"]?.floats ?? [] }, values)
        XCTAssertThrowsError(try CalibrationData(url: url, inputNames: ["x"], batchSize: 0))
        let twoInputs = try CalibrationData(url: url, inputNames: ["a", "b"], batchSize: 2)
        XCTAssertThrowsError(try batches(twoInputs)) { XCTAssertTrue("\($0)".contains(".npz")) }
    }

    func testNPZMembersAndDirectoriesStream() throws {
        let dir = try makeTemporaryDirectory("quantizer-tests")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Tensor(floats: (0..<10).map { Float($0) }, shape: [5, 2])
        let b = try Tensor(int64s: (0..<5).map { Int64($0 * 10) }, shape: [5])
        try NPZFile.write(["a": a, "b": b], to: dir.appendingPathComponent("1.npz"))
        try NPZFile.write(
            ["a": try Tensor(floats: [100, 101], shape: [1, 2]), "b": try Tensor(int64s: [7], shape: [1])],
            to: dir.appendingPathComponent("2.npz"))
        try Data("not data".utf8).write(to: dir.appendingPathComponent("README.txt"))
        let data = try CalibrationData(url: dir, inputNames: ["a", "b"], batchSize: 2)
        let got = try batches(data)
        XCTAssertEqual(got.count, 4)  // 2 + 2 + 1 from the first file, 1 from the second
        XCTAssertEqual(got.map { $0["b"]?.asInt64s ?? [] }, [[0, 10], [20, 30], [40], [7]])
        XCTAssertEqual(got[3]["a"]?.floats, [100, 101])
        let missing = try CalibrationData(url: dir, inputNames: ["a", "c"], batchSize: 2)
        XCTAssertThrowsError(try batches(missing)) { XCTAssertTrue("\($0)".contains("no member 'c'"), "\($0)") }
    }

    func testCalibrateRunsTheModelAndCapturesIntermediates() throws {
        // y = Relu(x · 2 − 1): the range of the Mul output and of the Relu output.
        var g = Graph(
            inputs: [ValueInfo("x", TensorType(.float32, Shape([.symbolic("N"), .fixed(4)])))],
            outputs: [ValueInfo("y", TensorType(.float32, Shape([.symbolic("N"), .fixed(4)])))])
        g.initializers["two"] = .scalar(Float(2))
        g.initializers["one"] = .scalar(Float(1))
        g.nodes = [
            Node(name: "m", opType: "Mul", inputs: ["x", "two"], outputs: ["m"]),
            Node(name: "s", opType: "Sub", inputs: ["m", "one"], outputs: ["s"]),
            Node(name: "r", opType: "Relu", inputs: ["s"], outputs: ["y"]),
        ]
        let samples = try [Tensor(floats: [0, 1, 2, 3], shape: [1, 4]), Tensor(floats: [-1, 0.5, 4, 0, 0, 0, 0, 0], shape: [2, 4])]
        let ranges = try ActivationCapture.calibrate(graph: g, values: ["s", "y"], data: samples.map { .success(["x": $0]) }) {
            MinMaxCalibrator()
        }
        XCTAssertEqual(ranges["s"], TensorRange(min: -3, max: 7))
        XCTAssertEqual(ranges["y"], TensorRange(min: 0, max: 7))
        XCTAssertThrowsError(try ActivationCapture(graph: g, values: ["nope"]))
    }
}
