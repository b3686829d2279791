import Foundation
import ModelIR
import ONNXImport
import ONNXProto
import XCTest

/// Every class of bad input gives a clear error, never a crash.
final class BadInputTests: XCTestCase {
    typealias P = Proto

    func validModel(opset: Int = 13) -> Onnx_ModelProto {
        P.model(
            P.graph(
                [P.node("Conv", ["x", "w"], ["c"], name: "conv"), P.node("Relu", ["c"], ["y"], name: "relu")],
                inputs: [P.value("x", 1, ["N", 2, 5, 5])], outputs: [P.value("y", 1, nil)],
                initializers: [P.floats("w", (0..<36).map { Float($0) / 36 }, [2, 2, 3, 3])]),
            opset: opset)
    }

    func testValidModelImports() throws {
        let m = try importRaw(validModel(), passes: true)
        XCTAssertEqual(m.graph.nodes.count, 1)
        XCTAssertEqual(m.graph.nodes[0].fusedActivation, Activation.relu)
        XCTAssertEqual(m.graph.valueTypes["y"]?.shape, ["N", 2, 3, 3])
    }

    func testNotAnONNXFile() throws {
        for (bytes, what) in [
            ([0x50, 0x4B, 0x03, 0x04, 0, 0] as [UInt8], "zip"), (Array("\u{93}NUMPY".utf8.dropFirst(2)), ""),
            ([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0], "NumPy"), ([], "empty"),
        ] where !what.isEmpty {
            XCTAssertThrowsError(try ONNXImporter.importModel(from: bytes)) { e in
                XCTAssertTrue("\(e)".contains("not an ONNX model") && "\(e)".contains(what), "\(e)")
            }
        }
        // A valid protobuf that is not a model (a TensorProto) is rejected too.
        let tensor: [UInt8] = try P.floats("t", [1], [1]).serializedBytes()
        XCTAssertThrowsError(try ONNXImporter.importModel(from: tensor)) { e in XCTAssertTrue("\(e)".contains("ONNX"), "\(e)") }
    }

    func testTruncatedAndGarbledProtobuf() throws {
        let bytes = try P.bytes(validModel())
        XCTAssertThrowsError(try ONNXImporter.importModel(from: bytes.prefix(bytes.count - 7))) { e in
            XCTAssertTrue("\(e)".contains("protobuf") || "\(e)".contains("ONNX"), "\(e)")
        }
        var garbled = bytes
        for i in stride(from: 3, to: garbled.count, by: 5) { garbled[i] = 0xFF }
        XCTAssertThrowsError(try ONNXImporter.importModel(from: garbled))
    }

    func testOpsetOutOfRange() {
        assertImportError(validModel(opset: 6), contains: ["opset 6", "7...28"])
        assertImportError(validModel(opset: 29), contains: ["opset 29", "7...28"])
        var noOpset = validModel()
        noOpset.opsetImport = []
        // No ai.onnx import while using ai.onnx ops: the node is named, not "opset 0".
        assertImportError(noOpset, contains: ["'conv'", "no ai.onnx opset import"])
    }

    func testUndefinedInputAndMissingInitializer() {
        var m = validModel()
        m.graph.initializer = []
        assertImportError(m, contains: ["'conv'", "'w'", "no node, graph input or initializer"])
    }

    func testDuplicateDefinitions() {
        var m = validModel()
        m.graph.node.append(P.node("Neg", ["x"], ["c"], name: "neg"))
        assertImportError(m, contains: ["'c'", "defined more than once", "'conv'", "'neg'"])
        var dupInit = validModel()
        dupInit.graph.initializer.append(P.floats("w", [1], [1]))
        assertImportError(dupInit, contains: ["'w'", "more than once"])
    }

    func testCycleNamesNodes() {
        var m = validModel()
        m.graph.node = [
            P.node("Add", ["x", "b"], ["a"], name: "first"), P.node("Relu", ["a"], ["b"], name: "second"),
            P.node("Identity", ["a"], ["y"], name: "out"),
        ]
        assertImportError(m, contains: ["cycle", "'first'", "'second'"])
    }

    func testHugeDimsAndRawDataMismatch() {
        var huge = validModel()
        huge.graph.initializer = [P.floats("w", [1, 2, 3, 4], [1 << 20, 1 << 20])]
        assertImportError(huge, contains: ["'w'", "limit"])
        var overflow = validModel()
        var t = P.floats("w", [1], [1])
        t.dims = [Int64(Int32.max), Int64(Int32.max), Int64(Int32.max)]
        overflow.graph.initializer = [t]
        assertImportError(overflow, contains: ["'w'", "overflow"])
        var mismatch = validModel()
        mismatch.graph.initializer = [P.floats("w", [1, 2, 3], [2, 2, 3, 3])]
        assertImportError(mismatch, contains: ["'w'", "raw_data has 12 bytes", "need 144"])
        var negative = validModel()
        var n = P.floats("w", [1], [1])
        n.dims = [-1]
        negative.graph.initializer = [n]
        assertImportError(negative, contains: ["'w'", "negative"])
        var bf = validModel()
        bf.graph.initializer[0].dataType = 17
        assertImportError(bf, contains: ["'w'", "float8e4m3fn"])
    }

    func testShapeMismatchNamesNode() {
        var m = validModel()
        m.graph.input = [P.value("x", 1, ["N", 3, 5, 5])]
        assertImportError(m, contains: ["'conv'", "[N, 3, 5, 5]", "[2, 2, 3, 3]"])
    }

    func testEveryUnsupportedOpIsListed() throws {
        var m = validModel()
        m.graph.node.insert(P.node("TfIdfVectorizer", ["x"], ["tfidf"], name: "tfidf"), at: 1)
        m.graph.node.insert(P.node("FancyOp", ["x"], ["fancy"], name: "fancy", domain: "com.example"), at: 2)
        m.graph.node.insert(P.node("HardSwish", ["x"], ["hs"], name: "hs"), at: 3)
        m.graph.output += [P.value("tfidf", 1, nil), P.value("fancy", 1, nil), P.value("hs", 1, nil)]
        XCTAssertThrowsError(try importRaw(m)) { e in
            guard case ONNXImportError.unsupportedOps(let ops) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(ops.map(\.node), ["tfidf", "fancy", "hs"])
            guard ops.count == 3 else { return }
            XCTAssertEqual(ops.map(\.domain), ["", "com.example", ""])
            XCTAssertEqual(ops.map(\.opset), [13, 1, 13])
            XCTAssertTrue(ops[2].reason.contains("14...28"), ops[2].reason)
            XCTAssertTrue("\(e)".contains("3 nodes"))
        }
        var o = ONNXImporter.Options()
        o.allowUnsupported = true
        let r = try ONNXImporter.importModelWithReport(from: Data(try P.bytes(m)), baseDirectory: nil, options: o)
        XCTAssertEqual(r.unsupported.count, 3)
        XCTAssertTrue(r.model.graph.nodes.contains { $0.opType == "TfIdfVectorizer" }, "unsupported nodes are kept as opaque nodes")
    }

    func testNonTensorValuesAreRejected() {
        var m = validModel()
        var seq = Onnx_ValueInfoProto()
        seq.name = "s"
        var type = Onnx_TypeProto()
        type.sequenceType = Onnx_TypeProto.Sequence()
        seq.type = type
        m.graph.input.append(seq)
        assertImportError(m, contains: ["'s'", "dense tensors"])
    }
}
