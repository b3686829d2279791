import Foundation
import ModelIR
import ONNXImport
import ONNXProto
import XCTest

/// Each opset upgrade rule: an old-form node must come out in canonical (opset 28) form.
final class UpgradeTests: XCTestCase {
    typealias P = Proto

    func single(
        _ node: Onnx_NodeProto, opset: Int, input: [Any] = [1, 3, 4, 4], output: [Any]? = nil, extra: [Onnx_TensorProto] = [],
        inputs: [Onnx_ValueInfoProto]? = nil
    ) throws -> Model {
        let g = P.graph(
            [node], inputs: inputs ?? [P.value("x", 1, input)], outputs: node.output.map { P.value($0, 1, output) }, initializers: extra)
        return try importRaw(P.model(g, opset: opset))
    }

    func constant(_ m: Model, _ node: Node, _ i: Int) -> Tensor? { node.input(i).flatMap { m.graph.initializers[$0] } }

    func testClipAttributesBecomeInputs() throws {
        let m = try single(P.node("Clip", ["x"], ["y"], [P.attr("min", float: 0), P.attr("max", float: 6)]), opset: 10)
        let n = m.graph.nodes[0]
        XCTAssertEqual(n.inputs.count, 3)
        XCTAssertEqual(constant(m, n, 1), Tensor.scalar(Float(0)))
        XCTAssertEqual(constant(m, n, 2), Tensor.scalar(Float(6)))
        XCTAssertTrue(n.attributes.isEmpty)
        let onlyMax = try single(P.node("Clip", ["x"], ["y"], [P.attr("max", float: 1)]), opset: 7).graph.nodes[0]
        XCTAssertEqual(onlyMax.inputs.first, "x")
        XCTAssertEqual(onlyMax.inputs[1], "", "absent min stays an omitted input")
    }

    func testSqueezeUnsqueezeAxesBecomeInputs() throws {
        let m = try single(P.node("Unsqueeze", ["x"], ["y"], [P.attr("axes", ints: [0, 5])]), opset: 11)
        XCTAssertEqual(constant(m, m.graph.nodes[0], 1), Tensor.vector([Int64(0), 5]))
        XCTAssertEqual(m.graph.valueTypes["y"]?.shape, [1, 1, 3, 4, 4, 1])
        let s = try single(P.node("Squeeze", ["x"], ["y"], [P.attr("axes", ints: [0])]), opset: 12)
        XCTAssertEqual(constant(s, s.graph.nodes[0], 1), Tensor.vector([Int64(0)]))
        XCTAssertEqual(s.graph.valueTypes["y"]?.shape, [3, 4, 4])
        // Already canonical at 13: the axes input is kept as is.
        let c = try single(P.node("Squeeze", ["x", "ax"], ["y"]), opset: 13, extra: [P.int64s("ax", [0])])
        XCTAssertEqual(c.graph.nodes[0].inputs, ["x", "ax"])
    }

    func testReduceAxesBecomeInputsPerOpset() throws {
        let sum = try single(P.node("ReduceSum", ["x"], ["y"], [P.attr("axes", ints: [2, 3]), P.attr("keepdims", int: 0)]), opset: 12)
        XCTAssertEqual(constant(sum, sum.graph.nodes[0], 1), Tensor.vector([Int64(2), 3]))
        XCTAssertEqual(sum.graph.valueTypes["y"]?.shape, [1, 3])
        for op in ["ReduceMean", "ReduceMax"] {
            let m = try single(P.node(op, ["x"], ["y"], [P.attr("axes", ints: [1])]), opset: 17)
            XCTAssertEqual(constant(m, m.graph.nodes[0], 1), Tensor.vector([Int64(1)]), op)
            XCTAssertEqual(m.graph.valueTypes["y"]?.shape, [1, 1, 4, 4], op)
        }
        // ReduceMean at 13 still takes the attribute (the input arrived in 18).
        let mean13 = try single(P.node("ReduceMean", ["x"], ["y"], [P.attr("axes", ints: [3])]), opset: 13)
        XCTAssertNil(mean13.graph.nodes[0].attributes["axes"])
    }

    func testSplitAttributeAndEvenSplit() throws {
        let m = try single(P.node("Split", ["x"], ["a", "b"], [P.attr("axis", int: 1), P.attr("split", ints: [1, 2])]), opset: 11)
        XCTAssertEqual(constant(m, m.graph.nodes[0], 1), Tensor.vector([Int64(1), 2]))
        XCTAssertEqual(m.graph.valueTypes["b"]?.shape, [1, 2, 4, 4])
        let even = try single(P.node("Split", ["x"], ["a", "b"], [P.attr("axis", int: 2)]), opset: 13)
        XCTAssertEqual(even.graph.nodes[0].int("num_outputs"), 2)
        XCTAssertEqual(even.graph.valueTypes["a"]?.shape, [1, 3, 2, 4])
    }

    func testPadSliceTopKAndDropoutAttributesBecomeInputs() throws {
        let pad = try single(
            P.node(
                "Pad", ["x"], ["y"],
                [P.attr("pads", ints: [0, 0, 1, 1, 0, 0, 1, 1]), P.attr("value", float: 2), P.attr("mode", string: "constant")]), opset: 10)
        XCTAssertEqual(constant(pad, pad.graph.nodes[0], 1), Tensor.vector([Int64(0), 0, 1, 1, 0, 0, 1, 1]))
        XCTAssertEqual(constant(pad, pad.graph.nodes[0], 2), Tensor.scalar(Float(2)))
        XCTAssertEqual(pad.graph.nodes[0].string("mode"), "constant")
        XCTAssertEqual(pad.graph.valueTypes["y"]?.shape, [1, 3, 6, 6])

        let slice = try single(
            P.node("Slice", ["x"], ["y"], [P.attr("starts", ints: [1]), P.attr("ends", ints: [3]), P.attr("axes", ints: [2])]), opset: 9)
        XCTAssertEqual(slice.graph.nodes[0].inputs.count, 4)
        XCTAssertEqual(slice.graph.valueTypes["y"]?.shape, [1, 3, 2, 4])

        let topk = try single(P.node("TopK", ["x"], ["v", "i"], [P.attr("k", int: 2)]), opset: 9)
        XCTAssertEqual(constant(topk, topk.graph.nodes[0], 1), Tensor.vector([Int64(2)]))
        XCTAssertEqual(topk.graph.valueTypes["i"], TensorType(.int64, [1, 3, 4, 2]))

        let drop = try single(P.node("Dropout", ["x"], ["y"], [P.attr("ratio", float: 0.25)]), opset: 10)
        XCTAssertEqual(constant(drop, drop.graph.nodes[0], 1), Tensor.scalar(Float(0.25)))
    }

    func testSoftmaxBefore13IsCoercedTo2D() throws {
        let m = try single(P.node("Softmax", ["x"], ["y"], name: "sm", [P.attr("axis", int: 1)]), opset: 11)
        XCTAssertEqual(m.graph.nodes.map(\.opType), ["Shape", "Flatten", "Softmax", "Reshape"])
        XCTAssertEqual(m.graph.nodes[1].int("axis"), 1)
        XCTAssertEqual(m.graph.nodes[2].int("axis"), -1)
        XCTAssertEqual(m.graph.nodes[3].outputs, ["y"])
        XCTAssertEqual(m.graph.valueTypes[m.graph.nodes[2].outputs[0]]?.shape, [1, 48])
        XCTAssertEqual(m.graph.valueTypes["y"]?.shape, [1, 3, 4, 4])
        let new = try single(P.node("Softmax", ["x"], ["y"], [P.attr("axis", int: 1)]), opset: 13)
        XCTAssertEqual(new.graph.nodes.map(\.opType), ["Softmax"])
    }

    func testResize10AndUpsampleBecomeResize() throws {
        let scales = P.floats("sc", [1, 1, 2, 2], [4])
        let r10 = try single(P.node("Resize", ["x", "sc"], ["y"], [P.attr("mode", string: "nearest")]), opset: 10, extra: [scales])
        let n = r10.graph.nodes[0]
        XCTAssertEqual(n.inputs, ["x", "", "sc"])
        XCTAssertEqual(n.string("coordinate_transformation_mode"), "asymmetric")
        XCTAssertEqual(n.string("nearest_mode"), "floor")
        XCTAssertEqual(r10.graph.valueTypes["y"]?.shape, [1, 3, 8, 8])

        let up7 = try single(
            P.node("Upsample", ["x"], ["y"], [P.attr("scales", floats: [1, 1, 2, 3]), P.attr("mode", string: "bilinear")]), opset: 7)
        XCTAssertEqual(up7.graph.nodes[0].opType, "Resize")
        XCTAssertEqual(up7.graph.nodes[0].string("mode"), "linear")
        XCTAssertEqual(up7.graph.valueTypes["y"]?.shape, [1, 3, 8, 12])
        let up9 = try single(P.node("Upsample", ["x", "sc"], ["y"]), opset: 9, extra: [scales])
        XCTAssertEqual(up9.graph.nodes[0].inputs, ["x", "", "sc"])

        // 11+: an empty scales tensor beside sizes becomes an omitted input.
        let sizes = P.int64s("sz", [1, 3, 5, 6])
        let r13 = try single(P.node("Resize", ["x", "", "empty", "sz"], ["y"]), opset: 13, extra: [P.floats("empty", [], [0]), sizes])
        XCTAssertEqual(r13.graph.nodes[0].inputs, ["x", "", "", "sz"])
        XCTAssertEqual(r13.graph.valueTypes["y"]?.shape, [1, 3, 5, 6])
    }

    func testBatchNormalizationOldOpsets() throws {
        let stats = ["s", "b", "m", "v"].map { P.floats($0, [1, 1, 1], [3]) }
        let bn7 = try single(
            P.node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], [P.attr("spatial", int: 1), P.attr("momentum", float: 0.9)]),
            opset: 7, extra: stats)
        XCTAssertNil(bn7.graph.nodes[0].attributes["spatial"])
        XCTAssertEqual(bn7.graph.nodes[0].outputs, ["y"])
        let g = P.graph(
            [P.node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], [P.attr("spatial", int: 0)])],
            inputs: [P.value("x", 1, [1, 3, 4, 4])], outputs: [P.value("y", 1, nil)], initializers: stats)
        assertImportError(P.model(g, opset: 8), contains: ["spatial", "per-activation"])
    }

    func testCastConstantAndConstantOfShape() throws {
        let cast = try single(P.node("Cast", ["x"], ["y"], [P.attr("to", int: 7)]), opset: 9)
        XCTAssertEqual(cast.graph.nodes[0].string("to"), "int64")
        XCTAssertEqual(cast.graph.valueTypes["y"]?.elementType, .int64)

        let g = P.graph(
            [
                P.node("Constant", [], ["c"], [P.attr("value_floats", floats: [1, 2])]),
                P.node("Constant", [], ["shape"], [P.attr("value_ints", ints: [2, 3])]),
                P.node("ConstantOfShape", ["shape"], ["z"], [P.attr("value", tensor: P.int64s("", [4], [1]))]),
                P.node("Add", ["x", "c"], ["y"]),
            ],
            inputs: [P.value("x", 1, ["N", 2])], outputs: [P.value("y", 1, nil), P.value("z", 7, nil)])
        let m = try importRaw(P.model(g, opset: 12))
        XCTAssertEqual(m.graph.nodes[0].attributes, ["value": .tensor(Tensor.vector([Float(1), 2]))])
        XCTAssertEqual(m.graph.nodes[1].tensor("value"), Tensor.vector([Int64(2), 3]))
        XCTAssertEqual(m.graph.valueTypes["z"], TensorType(.int64, [2, 3]))
        XCTAssertEqual(m.graph.outputs[0].type, TensorType(.float32, ["N", 2]), "untyped outputs take the inferred type")
        // With passes, the constants fold away and the ConstantOfShape output is computed.
        let folded = try importRaw(P.model(g, opset: 12), passes: true)
        XCTAssertEqual(folded.graph.nodes.map(\.opType), ["ConstantOfShape", "Add"])
    }

    func testQuantizedOpsCarryParameters() throws {
        var zp = Onnx_TensorProto()
        zp.name = "zp"
        zp.dataType = 2
        zp.int32Data = [128]
        let g = P.graph(
            [
                P.node("QuantizeLinear", ["x", "sc", "zp"], ["q"]),
                P.node("QLinearSigmoid", ["q", "sc", "zp", "sc", "zp"], ["qs"], domain: "com.microsoft"),
                P.node("DequantizeLinear", ["qs", "sc", "zp"], ["y"]),
            ],
            inputs: [P.value("x", 1, ["N", 8])], outputs: [P.value("y", 1, nil)], initializers: [P.floats("sc", [0.5], []), zp])
        let m = try importRaw(P.model(g, opset: 13, extraOpsets: ["com.microsoft": 1]))
        let q = try QuantParameters(scale: 0.5, zeroPoint: 128)
        XCTAssertEqual(m.graph.valueTypes["q"], TensorType(.uint8, ["N", 8], quantization: q))
        XCTAssertEqual(m.graph.valueTypes["qs"], TensorType(.uint8, ["N", 8], quantization: q))
        XCTAssertEqual(m.graph.nodes[1].domain, "com.microsoft")
        XCTAssertEqual(m.graph.valueTypes["y"], TensorType(.float32, ["N", 8]))
    }

    func testIfSubgraphsAreImportedAndUpgraded() throws {
        let thenG = P.graph([P.node("Unsqueeze", ["x"], ["t"], [P.attr("axes", ints: [0])])], inputs: [], outputs: [P.value("t", 1, nil)])
        let elseG = P.graph([P.node("Unsqueeze", ["x"], ["e"], [P.attr("axes", ints: [0])])], inputs: [], outputs: [P.value("e", 1, nil)])
        let g = P.graph(
            [P.node("If", ["cond"], ["y"], [P.attr("then_branch", graph: thenG), P.attr("else_branch", graph: elseG)])],
            inputs: [P.value("x", 1, [3]), P.value("cond", 9, [])], outputs: [P.value("y", 1, nil)])
        let m = try importRaw(P.model(g, opset: 11))
        let branch = try XCTUnwrap(m.graph.nodes[0].attributes["then_branch"]?.graphValue)
        XCTAssertEqual(branch.nodes[0].inputs.count, 2, "subgraph nodes are upgraded too")
        XCTAssertEqual(m.graph.valueTypes["y"]?.shape, [1, 3])
    }
}
