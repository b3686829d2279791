import Foundation
import ModelIR
import ONNXImport
import ONNXProto
import XCTest

/// The ops registered to close the conformance gaps: their opset ranges, their rewrites to the
/// canonical form and the shapes inferred for them, with a symbolic batch where it applies.
final class OpCoverageUpgradeTests: XCTestCase {
    typealias P = Proto

    func one(_ node: Onnx_NodeProto, opset: Int, inputs: [Onnx_ValueInfoProto], extra: [Onnx_TensorProto] = []) throws -> Model {
        let g = P.graph(
            [node], inputs: inputs, outputs: node.output.filter { !$0.isEmpty }.map { P.value($0, 1, nil) }, initializers: extra)
        return try importRaw(P.model(g, opset: opset))
    }

    func testReductionsTakeAxesAsAnInputBefore18() throws {
        for op in ["ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"] {
            let m = try one(
                P.node(op, ["x"], ["y"], [P.attr("axes", ints: [1]), P.attr("keepdims", int: 0)]), opset: 17,
                inputs: [P.value("x", 1, ["N", 3, 4])])
            let n = m.graph.nodes[0]
            XCTAssertNil(n.attributes["axes"], op)
            XCTAssertEqual(n.input(1).flatMap { m.graph.initializers[$0] }, Tensor.vector([Int64(1)]), op)
            XCTAssertEqual(m.graph.valueTypes["y"], TensorType(.float32, ["N", 4]), op)
            let m18 = try one(
                P.node(op, ["x", "ax"], ["y"]), opset: 18, inputs: [P.value("x", 1, ["N", 3, 4])], extra: [P.int64s("ax", [2])])
            XCTAssertEqual(m18.graph.nodes[0].inputs, ["x", "ax"], op)
            XCTAssertEqual(m18.graph.valueTypes["y"]?.shape, ["N", 3, 1], op)
        }
    }

    func testHardmaxBefore13IsCoercedTo2DLikeSoftmax() throws {
        let old = try one(
            P.node("Hardmax", ["x"], ["y"], name: "hm", [P.attr("axis", int: 1)]), opset: 11, inputs: [P.value("x", 1, [2, 3, 4])])
        XCTAssertEqual(old.graph.nodes.map(\.opType), ["Shape", "Flatten", "Hardmax", "Reshape"])
        XCTAssertEqual(old.graph.nodes[2].int("axis"), -1)
        XCTAssertEqual(old.graph.valueTypes[old.graph.nodes[2].outputs[0]]?.shape, [2, 12])
        XCTAssertEqual(old.graph.valueTypes["y"]?.shape, [2, 3, 4])
        let new = try one(P.node("Hardmax", ["x"], ["y"], [P.attr("axis", int: 1)]), opset: 13, inputs: [P.value("x", 1, [2, 3, 4])])
        XCTAssertEqual(new.graph.nodes.map(\.opType), ["Hardmax"])
    }

    func testLogicalComparisonAndElementwiseOpsInferTheirTypes() throws {
        let bools = [P.value("a", 9, ["N", 1, 4]), P.value("b", 9, [3, 1])]
        for op in ["And", "Or", "Xor"] {
            XCTAssertEqual(
                try one(P.node(op, ["a", "b"], ["y"]), opset: 7, inputs: bools).graph.valueTypes["y"], TensorType(.bool, ["N", 3, 4]), op)
        }
        let floats = [P.value("a", 1, ["N", 4]), P.value("b", 1, [4])]
        for op in ["GreaterOrEqual", "LessOrEqual"] {
            XCTAssertEqual(
                try one(P.node(op, ["a", "b"], ["y"]), opset: 12, inputs: floats).graph.valueTypes["y"], TensorType(.bool, ["N", 4]), op)
            // They arrived in 12: an opset-11 model using them is reported, not imported.
            let g = P.graph([P.node(op, ["a", "b"], ["y"])], inputs: floats, outputs: [P.value("y", 9, nil)])
            assertImportError(P.model(g, opset: 11), contains: [op, "opset 11", "12...28"])
        }
        let x = [P.value("x", 1, ["N", 5])]
        XCTAssertEqual(
            try one(P.node("ArgMin", ["x"], ["y"], [P.attr("axis", int: 1), P.attr("keepdims", int: 0)]), opset: 11, inputs: x).graph
                .valueTypes["y"],
            TensorType(.int64, ["N"]))
        XCTAssertEqual(try one(P.node("Size", ["x"], ["y"]), opset: 13, inputs: x).graph.valueTypes["y"], TensorType(.int64, []))
        XCTAssertEqual(try one(P.node("IsNaN", ["x"], ["y"]), opset: 13, inputs: x).graph.valueTypes["y"], TensorType(.bool, ["N", 5]))
        for op in ["Cos", "Sin", "Tan", "Atanh", "Sign", "Elu", "Softplus", "Selu", "Celu", "Mish", "Softsign", "ThresholdedRelu"] {
            XCTAssertEqual(
                try one(P.node(op, ["x"], ["y"]), opset: 18, inputs: x).graph.valueTypes["y"], TensorType(.float32, ["N", 5]), op)
        }
        let like = try one(P.node("CastLike", ["x", "t"], ["y"]), opset: 15, inputs: x + [P.value("t", 7, [])])
        XCTAssertEqual(like.graph.valueTypes["y"], TensorType(.int64, ["N", 5]))
        let bad = P.graph(
            [P.node("BitShift", ["a", "b"], ["y"])], inputs: [P.value("a", 12, [2]), P.value("b", 12, [2])],
            outputs: [P.value("y", 12, nil)])
        assertImportError(P.model(bad, opset: 11), contains: ["direction", "LEFT"])
    }

    func testGroupNormalization18ScalePerGroupBecomesPerChannel() throws {
        let node = P.node("GroupNormalization", ["x", "s", "b"], ["y"], name: "gn", [P.attr("num_groups", int: 2)])
        let m = try one(
            node, opset: 18, inputs: [P.value("x", 1, ["N", 4, 2, 2])], extra: [P.floats("s", [2, 3], [2]), P.floats("b", [5, 7], [2])])
        let gn = try XCTUnwrap(m.graph.nodes.last)
        XCTAssertEqual(gn.opType, "GroupNormalization")
        XCTAssertNotEqual(gn.inputs[1], "s")
        XCTAssertEqual(m.graph.valueTypes[gn.inputs[1]], TensorType(.float32, [4]), "scale is per channel (C = 4)")
        XCTAssertEqual(m.graph.valueTypes[gn.inputs[2]], TensorType(.float32, [4]))
        XCTAssertEqual(m.graph.valueTypes["y"]?.shape, ["N", 4, 2, 2])
        // 21 is canonical: scale and bias stay as given.
        let m21 = try one(
            node, opset: 21, inputs: [P.value("x", 1, ["N", 4, 2, 2])],
            extra: [P.floats("s", [1, 2, 3, 4], [4]), P.floats("b", [0, 0, 0, 0], [4])])
        XCTAssertEqual(m21.graph.nodes.map(\.opType), ["GroupNormalization"])
        let wrong = P.graph(
            [node], inputs: [P.value("x", 1, [1, 4, 2, 2])], outputs: [P.value("y", 1, nil)],
            initializers: [P.floats("s", [1, 2, 3], [3]), P.floats("b", [0, 0, 0], [3])])
        assertImportError(P.model(wrong, opset: 21), contains: ["gn", "scale", "4"])
    }

    func testRoiAlignGridSampleAndDFTUpgrades() throws {
        let rois = [P.value("x", 1, ["N", 8, 16, 16]), P.value("r", 1, ["R", 4]), P.value("i", 7, ["R"])]
        let roi10 = try one(
            P.node("RoiAlign", ["x", "r", "i"], ["y"], [P.attr("output_height", int: 7), P.attr("output_width", int: 5)]), opset: 10,
            inputs: rois)
        XCTAssertEqual(roi10.graph.nodes[0].string("coordinate_transformation_mode"), "output_half_pixel")
        XCTAssertEqual(roi10.graph.valueTypes["y"]?.shape, ["R", 8, 7, 5])
        let roi16 = try one(P.node("RoiAlign", ["x", "r", "i"], ["y"]), opset: 16, inputs: rois)
        XCTAssertNil(roi16.graph.nodes[0].attributes["coordinate_transformation_mode"], "16's default (half_pixel) stays implicit")

        let grid = [P.value("x", 1, ["N", 3, 8, 8]), P.value("g", 1, ["N", 5, 6, 2])]
        let gs16 = try one(P.node("GridSample", ["x", "g"], ["y"], [P.attr("mode", string: "bicubic")]), opset: 16, inputs: grid)
        XCTAssertEqual(gs16.graph.nodes[0].string("mode"), "cubic")
        XCTAssertEqual(gs16.graph.valueTypes["y"]?.shape, ["N", 3, 5, 6])

        let signal = [P.value("x", 1, [2, 4, 6, 1])]
        let dft17 = try one(P.node("DFT", ["x"], ["y"], [P.attr("onesided", int: 1)]), opset: 17, inputs: signal)
        let d = dft17.graph.nodes[0]
        XCTAssertNil(d.attributes["axis"])
        XCTAssertEqual(d.input(2).flatMap { dft17.graph.initializers[$0] }, Tensor.scalar(Int64(1)), "17's default axis 1 is written out")
        XCTAssertEqual(dft17.graph.valueTypes["y"]?.shape, [2, 3, 6, 2])
        let dft20 = try one(P.node("DFT", ["x"], ["y"]), opset: 20, inputs: signal)
        XCTAssertEqual(dft20.graph.nodes[0].inputs, ["x"])
        XCTAssertEqual(dft20.graph.valueTypes["y"]?.shape, [2, 4, 6, 2], "20's default axis -2")
    }

    func testScatterIsScatterElementsUntil10AndGoneAfter() throws {
        let ins = [P.value("d", 1, ["N", 3]), P.value("i", 7, ["N", 1]), P.value("u", 1, ["N", 1])]
        let m = try one(P.node("Scatter", ["d", "i", "u"], ["y"], [P.attr("axis", int: 1)]), opset: 10, inputs: ins)
        XCTAssertEqual(m.graph.nodes[0].opType, "ScatterElements")
        XCTAssertEqual(m.graph.valueTypes["y"]?.shape, ["N", 3])
        let g = P.graph([P.node("Scatter", ["d", "i", "u"], ["y"])], inputs: ins, outputs: [P.value("y", 1, nil)])
        assertImportError(P.model(g, opset: 11), contains: ["Scatter", "9...10"])
        let scan8 = P.graph(
            [P.node("Scan", ["d"], ["y"], [P.attr("num_scan_inputs", int: 1)])], inputs: ins, outputs: [P.value("y", 1, nil)])
        assertImportError(P.model(scan8, opset: 8), contains: ["Scan", "opset 8", "9...28"])
    }

    func testDataTypeAttributesAreCanonicalNames() throws {
        let eye = try one(P.node("EyeLike", ["x"], ["y"], [P.attr("dtype", int: 7)]), opset: 9, inputs: [P.value("x", 1, [3, 3])])
        XCTAssertEqual(eye.graph.nodes[0].string("dtype"), "int64")
        XCTAssertEqual(eye.graph.valueTypes["y"], TensorType(.int64, [3, 3]))
        let win = try one(
            P.node("HannWindow", ["n"], ["y"], [P.attr("output_datatype", int: 11)]), opset: 17, inputs: [],
            extra: [P.int64s("n", [10], [])])
        XCTAssertEqual(win.graph.nodes[0].string("output_datatype"), "float64")
        XCTAssertEqual(win.graph.valueTypes["y"], TensorType(.float64, [10]))
    }

    func testLoopOutputsAreTypedFromItsBody() throws {
        let body = P.graph(
            [P.node("Identity", ["c_in"], ["c_out"]), P.node("Add", ["v_in", "one"], ["v_out"]), P.node("Identity", ["v_out"], ["scan"])],
            inputs: [P.value("i", 7, []), P.value("c_in", 9, []), P.value("v_in", 1, [2])],
            outputs: [P.value("c_out", 9, []), P.value("v_out", 1, [2]), P.value("scan", 1, [2])])
        let g = P.graph(
            [P.node("Loop", ["m", "", "v0"], ["v", "stacked"], [P.attr("body", graph: body)])],
            inputs: [P.value("v0", 1, [2])], outputs: [P.value("v", 1, nil), P.value("stacked", 1, nil)],
            initializers: [P.int64s("m", [3], []), P.floats("one", [1], [])])
        let m = try importRaw(P.model(g, opset: 16))
        XCTAssertEqual(m.graph.valueTypes["v"], TensorType(.float32, [2]))
        XCTAssertEqual(m.graph.valueTypes["stacked"], TensorType(.float32, [3, 2]), "no condition input: M iterations exactly")
        let short = P.graph(
            [
                P.node(
                    "Loop", ["m", "", "v0"], ["v", "stacked"],
                    [P.attr("body", graph: P.graph([], inputs: [P.value("i", 7, [])], outputs: []))])
            ],
            inputs: [P.value("v0", 1, [2])], outputs: [P.value("v", 1, nil)], initializers: [P.int64s("m", [3], [])])
        assertImportError(P.model(short, opset: 16), contains: ["body", "3 inputs"])
    }

    func testAModelThatImportsOnlyTheMLDomainNeedsNoONNXImport() throws {
        let g = P.graph(
            [P.node("ArrayFeatureExtractor", ["x", "idx"], ["y"], domain: "ai.onnx.ml")],
            inputs: [P.value("x", 1, ["N", 5])], outputs: [P.value("y", 1, nil)], initializers: [P.int64s("idx", [0, 3])])
        func model(_ imports: [(String, Int)]) -> Onnx_ModelProto {
            var m = P.model(g)
            m.opsetImport = imports.map { d, v in
                var o = Onnx_OperatorSetIdProto()
                o.domain = d
                o.version = Int64(v)
                return o
            }
            return m
        }
        let m = try importRaw(model([("ai.onnx.ml", 3)]))
        XCTAssertEqual(m.opsetImports, ["ai.onnx.ml": 3])
        XCTAssertEqual(m.graph.valueTypes["y"], TensorType(.float32, ["N", 2]))
        // A default-domain node still needs the ai.onnx import, and is named when it lacks it.
        var mixed = model([("ai.onnx.ml", 3)])
        mixed.graph.node.append(P.node("Relu", ["y"], ["z"], name: "relu"))
        mixed.graph.output = [P.value("z", 1, nil)]
        assertImportError(mixed, contains: ["'relu'", "ai.onnx::Relu", "no ai.onnx opset import"])
        assertImportError(model([("ai.onnx.ml", 9)]), contains: ["ai.onnx.ml opset 9", "1...5"])
        assertImportError(model([("", 5), ("ai.onnx.ml", 3)]), contains: ["ai.onnx opset 5", "7...28"])
    }
}
