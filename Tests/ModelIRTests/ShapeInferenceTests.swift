import ModelIR
import XCTest

final class ShapeInferenceTests: XCTestCase {
    /// A PyTorch-style CNN head: Conv → Relu → MaxPool → Shape/Gather/Concat/Reshape → Gemm,
    /// with a symbolic batch N that must flow to the output.
    func cnn() -> Graph {
        Graph(
            nodes: [
                node("conv", "Conv", ["x", "w", "b"], ["c"], ["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])]),
                node("relu", "Relu", ["c"], ["r"]),
                node("pool", "MaxPool", ["r"], ["p"], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
                node("shape", "Shape", ["p"], ["s"]),
                node("gather", "Gather", ["s", "zero"], ["n"], ["axis": .int(0)]),
                node("unsq", "Unsqueeze", ["n", "axes0"], ["n1"]),
                node("concat", "Concat", ["n1", "minus1"], ["target"], ["axis": .int(0)]),
                node("reshape", "Reshape", ["p", "target"], ["flat"]),
                node("fc", "Gemm", ["flat", "fcw", "fcb"], ["y"], ["transB": .int(1)]),
            ],
            inputs: [f32("x", ["N", 3, 32, 32])], outputs: [f32("y", ["N", 10])],
            initializers: [
                "w": tensor(Array(repeating: 0, count: 8 * 3 * 9), [8, 3, 3, 3]), "b": tensor(Array(repeating: 0, count: 8), [8]),
                "zero": Tensor.scalar(Int64(0)), "axes0": Tensor.vector([Int64(0)]), "minus1": Tensor.vector([Int64(-1)]),
                "fcw": tensor(Array(repeating: 0, count: 10 * 512), [10, 512]), "fcb": tensor(Array(repeating: 0, count: 10), [10]),
            ])
    }

    func testSymbolicBatchFlowsThroughConvPoolReshapeGemm() throws {
        let g = try inferred(cnn())
        XCTAssertEqual(g.valueTypes["c"]?.shape, ["N", 8, 16, 16])
        XCTAssertEqual(g.valueTypes["p"]?.shape, ["N", 8, 8, 8])
        XCTAssertEqual(g.valueTypes["s"]?.shape, [4])
        XCTAssertEqual(g.valueTypes["flat"]?.shape, ["N", 512])
        XCTAssertEqual(g.valueTypes["y"]?.shape, ["N", 10])
    }

    func testBindingGivesConcreteShapes() throws {
        let shapes = try cnn().bindShapes(["N": 4])
        XCTAssertEqual(shapes["flat"], [4, 512])
        XCTAssertEqual(shapes["y"], [4, 10])
        XCTAssertEqual(shapes["x"], [4, 3, 32, 32])
        XCTAssertThrowsError(try cnn().bindShapes([:])) { e in XCTAssertTrue("\(e)".contains("bind N"), "\(e)") }
    }

    func testConvChannelMismatchNamesNodeAndShapes() {
        var g = cnn()
        g.inputs = [f32("x", ["N", 4, 32, 32])]
        XCTAssertThrowsError(try inferred(g)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("'conv'") && s.contains("[N, 4, 32, 32]") && s.contains("[8, 3, 3, 3]"), s)
        }
    }

    func testMatMulAndBroadcastErrors() throws {
        let mm = Graph(
            nodes: [node("mm", "MatMul", ["a", "b"], ["y"])], inputs: [f32("a", ["B", 5, 3]), f32("b", [4, 2])], outputs: [f32("y", [])])
        XCTAssertThrowsError(try inferred(mm)) { e in XCTAssertTrue("\(e)".contains("K=3") && "\(e)".contains("'mm'"), "\(e)") }
        var ok = mm
        ok.inputs[1] = f32("b", [3, 2])
        XCTAssertEqual(try inferred(ok).valueTypes["y"]?.shape, ["B", 5, 2])
        let add = Graph(
            nodes: [node("add", "Add", ["a", "b"], ["y"])], inputs: [f32("a", [2, 3]), f32("b", [4, 3])], outputs: [f32("y", [])])
        XCTAssertThrowsError(try inferred(add)) { e in XCTAssertTrue("\(e)".contains("[2, 3] and [4, 3]"), "\(e)") }
        var bc = add
        bc.inputs = [f32("a", ["N", 1, 3]), f32("b", [4, 1])]
        XCTAssertEqual(try inferred(bc).valueTypes["y"]?.shape, ["N", 4, 3])
    }

    func testTensorOps() throws {
        let g = try inferred(
            Graph(
                nodes: [
                    node("t", "Transpose", ["x"], ["t"], ["perm": .ints([0, 2, 3, 1])]),
                    node("f", "Flatten", ["x"], ["f"], ["axis": .int(2)]),
                    node("sl", "Slice", ["x", "st", "en", "ax", "sp"], ["sl"]),
                    node("cat", "Concat", ["x", "x"], ["cat"], ["axis": .int(1)]),
                    node("sp", "Split", ["x"], ["s1", "s2"], ["axis": .int(1)]),
                    node("rm", "ReduceMean", ["x", "rax"], ["rm"], ["keepdims": .int(0)]),
                    node("pad", "Pad", ["x", "pads"], ["pad"]),
                    node("sq", "Squeeze", ["rm2"], ["sq"]),
                    node("rm2", "ReduceMax", ["x", "rax"], ["rm2"]),
                    node("rs", "Resize", ["x", "", "scales"], ["rs"]),
                    node("nz", "NonZero", ["x"], ["nz"]),
                    node("rsh", "Reshape", ["x", "nzshape"], ["rsh"]),
                ],
                inputs: [f32("x", ["N", 4, 6, 6])], outputs: [],
                initializers: [
                    "st": Tensor.vector([Int64(1), -4]), "en": Tensor.vector([Int64(Int64.max), -1]), "ax": Tensor.vector([Int64(2), 3]),
                    "sp": Tensor.vector([Int64(2), 1]), "rax": Tensor.vector([Int64(2), 3]),
                    "pads": Tensor.vector([Int64(0), 0, 1, 2, 0, 0, 1, 2]),
                    "scales": Tensor.vector([Float(1), 1, 2, 2]), "nzshape": Tensor.vector([Int64(0), 0, -1]),
                ]))
        XCTAssertEqual(g.valueTypes["t"]?.shape, ["N", 6, 6, 4])
        XCTAssertEqual(g.valueTypes["f"]?.shape?[1], 36)
        XCTAssertEqual(g.valueTypes["sl"]?.shape, ["N", 4, 3, 3])
        XCTAssertEqual(g.valueTypes["cat"]?.shape, ["N", 8, 6, 6])
        XCTAssertEqual(g.valueTypes["s2"]?.shape, ["N", 2, 6, 6])
        XCTAssertEqual(g.valueTypes["rm"]?.shape, ["N", 4])
        XCTAssertEqual(g.valueTypes["pad"]?.shape, ["N", 4, 8, 10])
        XCTAssertEqual(g.valueTypes["rs"]?.shape, ["N", 4, 12, 12])
        XCTAssertEqual(g.valueTypes["rsh"]?.shape, ["N", 4, 36])
        // NonZero's count depends on the data: an inferred-unknown size, not an error.
        XCTAssertEqual(g.valueTypes["nz"]?.shape?[0], 4)
        XCTAssertEqual(g.valueTypes["nz"]?.shape?[1].isInferredUnknown, true)
        // Squeeze without axes on a symbolic dim cannot know the rank: unknown, not an error.
        XCTAssertEqual(g.valueTypes["sq"]?.elementType, .float32)
        XCTAssertNil(g.valueTypes["sq"]?.shape)
    }

    func testDataDependentShapeBecomesUnknownDimension() throws {
        let g = try inferred(
            Graph(
                nodes: [node("r", "Reshape", ["x", "s"], ["y"])], inputs: [f32("x", [2, 6]), ValueInfo("s", TensorType(.int64, [3]))],
                outputs: []))
        let shape = try XCTUnwrap(g.valueTypes["y"]?.shape)
        XCTAssertEqual(shape.rank, 3)
        XCTAssertTrue(shape.dims.allSatisfy(\.isInferredUnknown))
        XCTAssertThrowsError(try g.bindShapes([:])) { e in XCTAssertTrue("\(e)".contains("run time"), "\(e)") }
    }

    func testQuantizationAttachedFromConstants() throws {
        let g = try inferred(
            Graph(
                nodes: [
                    node("q", "QuantizeLinear", ["x", "s", "zp"], ["xq"]),
                    node("dq", "DequantizeLinear", ["w", "ws", "wzp"], ["wf"], ["axis": .int(0)]),
                ],
                inputs: [f32("x", ["N", 3])], outputs: [],
                initializers: [
                    "s": Tensor.scalar(Float(0.5)), "zp": try Tensor(uint8s: [128], shape: []),
                    "w": try Tensor(int8s: [1, 2, 3, 4], shape: [2, 2]), "ws": Tensor.vector([Float(0.1), 0.2]),
                    "wzp": try Tensor(int8s: [0, 0], shape: [2]),
                ]))
        XCTAssertEqual(g.valueTypes["xq"], TensorType(.uint8, ["N", 3], quantization: try QuantParameters(scale: 0.5, zeroPoint: 128)))
        XCTAssertEqual(g.valueTypes["w"]?.quantization, try QuantParameters(scales: [0.1, 0.2], zeroPoints: [0, 0], axis: 0))
        XCTAssertEqual(g.valueTypes["wf"]?.shape, [2, 2])
    }

    func testConvTransposeLSTMAndPoolCeil() throws {
        let g = try inferred(
            Graph(
                nodes: [
                    node(
                        "ct", "ConvTranspose", ["x", "w"], ["ct"],
                        ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "output_padding": .ints([1, 1])]),
                    node(
                        "mp", "MaxPool", ["x"], ["mp"], ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "ceil_mode": .int(1)]),
                    node(
                        "lstm", "LSTM", ["seq", "lw", "lr"], ["ly", "lh", "lc"],
                        ["hidden_size": .int(5), "direction": .string("bidirectional")]),
                ],
                inputs: [f32("x", [1, 4, 7, 7]), f32("seq", ["T", "B", 3])], outputs: [],
                initializers: [
                    "w": tensor(Array(repeating: 0, count: 4 * 2 * 9), [4, 2, 3, 3]),
                    "lw": tensor(Array(repeating: 0, count: 2 * 20 * 3), [2, 20, 3]),
                    "lr": tensor(Array(repeating: 0, count: 2 * 20 * 5), [2, 20, 5]),
                ]))
        XCTAssertEqual(g.valueTypes["ct"]?.shape, [1, 2, 14, 14])
        XCTAssertEqual(g.valueTypes["mp"]?.shape, [1, 4, 3, 3])
        XCTAssertEqual(g.valueTypes["ly"]?.shape, ["T", 2, "B", 5])
        XCTAssertEqual(g.valueTypes["lc"]?.shape, [2, "B", 5])
    }
}
