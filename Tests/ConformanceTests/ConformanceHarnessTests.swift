import Foundation
import ModelIR
import ONNXProto
import Runtime
import TestSupport
import XCTest

/// The harness itself: without these, a comparison that never fails or a classifier that skips
/// everything would make the conformance numbers meaningless. Cases are built in Swift, so
/// these run without python3 or onnx.
final class ConformanceHarnessTests: XCTestCase {
    func testAllcloseFollowsNumpy() {
        let c = OutputComparison.close
        XCTAssertTrue(c(1.0005, 1.0, 1e-3, 0))
        XCTAssertFalse(c(1.002, 1.0, 1e-3, 0))
        // The tolerance scales with the expected value only, as in numpy.
        XCTAssertTrue(c(0, 1e-8, 1e-3, 1e-7))
        XCTAssertFalse(c(0, 1e-6, 1e-3, 1e-7))
        XCTAssertTrue(c(.nan, .nan, 1e-3, 1e-7))
        XCTAssertFalse(c(.nan, 1, 1e-3, 1e-7))
        XCTAssertFalse(c(1, .nan, 1e-3, 1e-7))
        XCTAssertTrue(c(.infinity, .infinity, 1e-3, 1e-7))
        XCTAssertFalse(c(.infinity, -.infinity, 1e-3, 1e-7))
        XCTAssertFalse(c(1e300, .infinity, 1e-3, 1e-7))
    }

    func testMismatchNamesIndexAndErrors() throws {
        let expected = StoredTensor(try Tensor(floats: [0, 1, 2, 3, 4, 5], shape: [2, 3]))
        let actual = StoredTensor(try Tensor(floats: [0, 1, 2, 3, 4, 5.5], shape: [2, 3]))
        XCTAssertNil(OutputComparison.mismatch(name: "y", actual: expected, expected: expected, rtol: 1e-3, atol: 1e-7))
        let m = try XCTUnwrap(OutputComparison.mismatch(name: "y", actual: actual, expected: expected, rtol: 1e-3, atol: 1e-7))
        XCTAssertTrue(m.contains("1 of 6 elements differ"), m)
        XCTAssertTrue(m.contains("first at [1, 2]"), m)
        XCTAssertTrue(m.contains("max abs err 0.5"), m)
        XCTAssertTrue(m.contains("max rel err 0.1"), m)

        let reshaped = StoredTensor(try Tensor(floats: [0, 1, 2, 3, 4, 5], shape: [3, 2]))
        XCTAssertEqual(
            OutputComparison.mismatch(name: "y", actual: reshaped, expected: expected, rtol: 1e-3, atol: 1e-7),
            "output 'y' has shape [3, 2], expected [2, 3]")
        let doubles = StoredTensor(try Tensor(doubles: [0, 1, 2, 3, 4, 5], shape: [2, 3]))
        XCTAssertEqual(
            OutputComparison.mismatch(name: "y", actual: doubles, expected: expected, rtol: 1e-3, atol: 1e-7),
            "output 'y' is double, expected float")
    }

    func testTensorProtoTypedFieldsAndRawDataAgree() throws {
        var typed = Onnx_TensorProto()
        typed.dataType = 7
        typed.dims = [2]
        typed.int64Data = [-3, 1 << 40]
        var raw = typed
        raw.int64Data = []
        raw.rawData = Data([Int64(-3), 1 << 40].withUnsafeBytes { Array($0) })
        let a = try StoredTensor(typed, path: "typed"), b = try StoredTensor(raw, path: "raw")
        XCTAssertEqual(a.bytes, b.bytes)
        XCTAssertEqual(a.doubles, [-3, Double(1 << 40)])

        var half = Onnx_TensorProto()
        half.dataType = 10
        half.dims = [3]
        half.int32Data = [0x3C00, 0xC000, 0x7C00]  // 1, -2, +inf
        XCTAssertEqual(try StoredTensor(half, path: "half").doubles, [1, -2, .infinity])

        var short = typed
        short.int64Data = [1]
        XCTAssertThrowsError(try StoredTensor(short, path: "short.pb")) { e in
            XCTAssertTrue("\(e)".contains("short.pb"), "\(e)")
        }
    }

    // MARK: the runner on cases written here

    func testRunnerPassesCorrectOutputAndFailsWrongOutput() throws {
        let dir = try scratch()
        let x: [Float] = [-2, -0.5, 0, 0.25, 3, -1]
        try writeCase(dir, "relu_ok", op: "Relu", x: x, y: x.map { max($0, 0) })
        try writeCase(dir, "relu_wrong", op: "Relu", x: x, y: x.map { max($0, 0) + ($0 == 3 ? 0.01 : 0) })
        let runner = NodeTestRunner(root: dir, runtimeOps: Set(RuntimeOps.supported))

        XCTAssertEqual(runner.run(entry("relu_ok", op: "Relu")), .pass(note: nil))
        guard case .fail(let f) = runner.run(entry("relu_wrong", op: "Relu")) else {
            return XCTFail("a wrong expected output must fail")
        }
        XCTAssertEqual(f.stage, .compare)
        XCTAssertTrue(f.detail.contains("first at [1, 1]"), f.detail)
    }

    func testRunnerSkipsOpsTheRuntimeLacksAndFailsOpsTheImporterLacks() throws {
        let dir = try scratch()
        let x: [Float] = [1, 2, 3, 4, 5, 6]
        try writeCase(dir, "made_up", op: "FlotillaMadeUpOp", x: x, y: x)
        let runner = NodeTestRunner(root: dir, runtimeOps: Set(RuntimeOps.supported))
        XCTAssertEqual(runner.run(entry("made_up", op: "FlotillaMadeUpOp")), .skip(.unsupportedOps(["FlotillaMadeUpOp"])))

        // Claiming the op is supported turns the importer's gap into a failure, not a skip.
        let claiming = NodeTestRunner(root: dir, runtimeOps: Set(RuntimeOps.supported + ["FlotillaMadeUpOp"]))
        guard case .fail(let f) = claiming.run(entry("made_up", op: "FlotillaMadeUpOp")) else {
            return XCTFail("an op the runtime claims but the importer lacks must fail")
        }
        XCTAssertEqual(f.stage, .importer)
    }

    func testRunnerSkipsNonTensorAndUnrepresentableTypes() throws {
        let runner = NodeTestRunner(root: URL(fileURLWithPath: "/nonexistent"), runtimeOps: Set(RuntimeOps.supported))
        var seq = entry("seq", op: "Identity")
        seq.inputs = [.init(name: "x", type: "seq(float)")]
        XCTAssertEqual(runner.run(seq), .skip(.nonTensorValues(["seq(float)"])))
        var bf16 = entry("bf16", op: "Relu")
        bf16.outputs = [.init(name: "y", type: "bfloat16")]
        // The model file does not exist: the importer fails, and the type decides before that matters.
        XCTAssertEqual(runner.run(bf16), .skip(.elementType("bfloat16", op: "Relu")))
    }

    func testKnownFailuresDrift() throws {
        let url = try scratch().appendingPathComponent("known.txt")
        try "# comment\ntest_a  Conv rounds wrong\n\ntest_b\tPad reflect off by one\ntest_gone renamed upstream\ntest_d importer: no Foo\n"
            .write(to: url, atomically: true, encoding: .utf8)
        let known = try KnownFailures.load(url)
        XCTAssertEqual(known.reasons["test_a"], "Conv rounds wrong")
        let failure = NodeTestOutcome.fail(NodeTestFailure(stage: .compare, detail: "x"))
        let results = [
            NodeTestResult(name: "test_a", op: "Conv", outcome: failure, seconds: 0),
            NodeTestResult(name: "test_b", op: "Pad", outcome: .pass(note: nil), seconds: 0),
            NodeTestResult(name: "test_c", op: "Add", outcome: failure, seconds: 0),
            NodeTestResult(name: "test_d", op: "Foo", outcome: failure, seconds: 0),
        ]
        let drift = known.drift(results, allNames: ["test_a", "test_b", "test_c", "test_d"])
        XCTAssertEqual(drift.newFailures.map(\.name), ["test_c"])
        XCTAssertEqual(drift.noLongerFailing.map(\.name), ["test_b"])
        XCTAssertEqual(drift.unknown, ["test_gone"])
        // Listed as an importer gap, now failing on numbers: the line no longer tells the truth.
        XCTAssertEqual(drift.movedFailures.map(\.result.name), ["test_d"])

        try "test_a\n".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try KnownFailures.load(url), "an entry without a reason is rejected")
    }

    // MARK: helpers

    private func scratch() throws -> URL {
        let dir = try makeTemporaryDirectory("flotilla-conformance")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    private func entry(_ name: String, op: String) -> NodeTestIndex.Case {
        NodeTestIndex.Case(
            name: name, op: op, ops: [op], opsets: ["ai.onnx": 22], rtol: 1e-3, atol: 1e-7, dataSets: 1,
            inputs: [.init(name: "x", type: "float")], outputs: [.init(name: "y", type: "float")])
    }

    /// A one-node float model y = op(x) over [2, 3] with one data set, in ONNX's layout.
    private func writeCase(_ root: URL, _ name: String, op: String, x: [Float], y: [Float]) throws {
        func info(_ n: String) -> Onnx_ValueInfoProto {
            var v = Onnx_ValueInfoProto()
            v.name = n
            v.type.tensorType.elemType = 1
            v.type.tensorType.shape.dim = [2, 3].map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = Int64(d)
                return dim
            }
            return v
        }
        func tensor(_ n: String, _ values: [Float]) -> Onnx_TensorProto {
            var t = Onnx_TensorProto()
            t.name = n
            t.dataType = 1
            t.dims = [2, 3]
            t.rawData = Data(values.withUnsafeBytes { Array($0) })
            return t
        }
        var node = Onnx_NodeProto()
        node.opType = op
        node.input = ["x"]
        node.output = ["y"]
        var model = Onnx_ModelProto()
        model.irVersion = 10
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 22
        model.opsetImport = [opset]
        model.graph.name = name
        model.graph.node = [node]
        model.graph.input = [info("x")]
        model.graph.output = [info("y")]
        let ds = root.appendingPathComponent(name).appendingPathComponent("test_data_set_0")
        try FileManager.default.createDirectory(at: ds, withIntermediateDirectories: true)
        try model.serializedData().write(to: root.appendingPathComponent(name).appendingPathComponent("model.onnx"))
        try tensor("x", x).serializedData().write(to: ds.appendingPathComponent("input_0.pb"))
        try tensor("y", y).serializedData().write(to: ds.appendingPathComponent("output_0.pb"))
    }
}
