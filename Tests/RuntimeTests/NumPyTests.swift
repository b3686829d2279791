import Foundation
import ModelIR
import Runtime
import XCTest

/// .npy/.npz reading and writing, and the runtime-backed constant evaluator.
final class NumPyTests: XCTestCase {
    func temp(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-runtime-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    func testRoundTripsEveryStoredType() throws {
        let tensors: [Tensor] = [t([1.5, -2, 3.25], [3]), ti([1, -2, .max, .min], [2, 2]), try Tensor(bools: [true, false], shape: [2, 1]),
                                 try Tensor(int32s: [7], shape: []), try Tensor(uint8s: [1, 2, 255], shape: [3]),
                                 try Tensor(doubles: [0.1, 1e300], shape: [2])]
        for (i, tensor) in tensors.enumerated() {
            let url = temp("rt\(i).npy")
            defer { try? FileManager.default.removeItem(at: url) }
            try NPYFile.write(tensor, to: url)
            XCTAssertEqual(try NPYFile.read(url), tensor)
            // The header is a multiple of 64 bytes as numpy writes it.
            let bytes = try Data(contentsOf: url)
            XCTAssertEqual((Int(bytes[8]) | Int(bytes[9]) << 8 + 10) % 64, 0)
        }
    }

    func testReadsNumpyWrittenFixtureAndBigEndian() throws {
        let x = try NPYFile.read(Fixtures.url("digits/test_x.npy"))
        XCTAssertEqual(x.elementType, .float32)
        XCTAssertEqual(x.shape, [400, 1, 8, 8])
        let y = try NPYFile.read(Fixtures.url("digits/test_y.npy"))
        XCTAssertEqual(y.elementType, .int64)
        // Big-endian int32 [1, 256], as np.array([1, 256], '>i4') saves it.
        var header = "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }"
        header += String(repeating: " ", count: 128 - 10 - header.count - 1) + "\n"
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8) + [0, 0, 0, 1, 0, 0, 1, 0]
        XCTAssertEqual(try NPYFile.decode(bytes).int32s, [1, 256])
    }

    func testRejectsBadFilesWithReasons() {
        XCTAssertThrowsError(try NPYFile.decode(Array("not numpy".utf8), path: "x.npy")) { e in
            XCTAssertTrue("\(e)".contains("x.npy") && "\(e)".contains("magic"), "\(e)")
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"
        header += String(repeating: " ", count: 128 - 10 - header.count - 1) + "\n"
        let truncated: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8) + [0, 0]
        XCTAssertThrowsError(try NPYFile.decode(truncated)) { e in XCTAssertTrue("\(e)".contains("needs 16 bytes"), "\(e)") }
        // dtype '<O4' (an object array) instead of '<f4'.
        let at = (0..<(truncated.count - 1)).first { truncated[$0] == UInt8(ascii: "f") && truncated[$0 + 1] == UInt8(ascii: "4") } ?? 0
        var object = truncated
        object[at] = UInt8(ascii: "O")
        XCTAssertThrowsError(try NPYFile.decode(object)) { e in XCTAssertTrue("\(e)".contains("not supported"), "\(e)") }
    }

    func testNPZRoundTripAndDeflateIsRejected() throws {
        let tensors = ["a": t([1, 2], [2]), "b": ti([3], [1])]
        let url = temp("t.npz")
        defer { try? FileManager.default.removeItem(at: url) }
        try NPZFile.write(tensors, to: url)
        XCTAssertEqual(try NPZFile.read(url), tensors)
        // Mark the first member as deflated (method 8) in both headers.
        var bytes = try NPZFile.encode(tensors)
        bytes[8] = 8
        if let cd = (0..<(bytes.count - 4)).first(where: { bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 1 && bytes[$0 + 3] == 2 }) {
            bytes[cd + 10] = 8
        }
        XCTAssertThrowsError(try NPZFile.decode(bytes)) { e in XCTAssertTrue("\(e)".contains("np.savez_compressed"), "\(e)") }
    }

    func testConstantFoldingThroughTheRuntime() throws {
        // Sqrt and Transpose are not in ModelIR's built-in evaluator; the runtime folds them.
        let g = Graph(nodes: [
            Node(name: "s", opType: "Sqrt", inputs: ["w"], outputs: ["ws"]),
            Node(name: "t", opType: "Transpose", inputs: ["ws"], outputs: ["wt"]),
            Node(name: "m", opType: "MatMul", inputs: ["x", "wt"], outputs: ["y"]),
        ], inputs: [ValueInfo("x", TensorType(.float32, [1, 2]))], outputs: [ValueInfo("y", TensorType(.float32, nil))],
        initializers: ["w": t([1, 4, 9, 16], [2, 2])])
        var model = Model(graph: g)
        let reports = try PassPipeline([ConstantFolding(evaluator: RuntimeConstantEvaluator())]).run(on: &model)
        XCTAssertEqual(reports.first?.removedNodes, ["s", "t"])
        XCTAssertEqual(model.graph.initializers["wt"]?.floats, [1, 3, 2, 4])
        // And an op the runtime does not know is declined, not an error.
        XCTAssertNil(try RuntimeConstantEvaluator().evaluate(Node(name: "q", opType: "Unknown", inputs: ["w"], outputs: ["o"]),
                                                             inputs: [t([1], [1])]))
    }
}
