import ModelIR
import XCTest

final class PassTests: XCTestCase {
    func run(_ pass: any Pass, _ graph: Graph) throws -> (Graph, PassReport) {
        var model = Model(graph: graph)
        let report = try pass.run(on: &model)
        try model.graph.validate()
        return (model.graph, report)
    }

    func bnInputs(_ graph: inout Graph) {
        graph.initializers["scale"] = tensor([0.5, 2], [2])
        graph.initializers["beta"] = tensor([0.1, 0.2], [2])
        graph.initializers["mean"] = tensor([1, 2], [2])
        graph.initializers["var"] = tensor([4, 0.25], [2])
    }

    func bn(_ input: String) -> Node {
        node("bn", "BatchNormalization", [input, "scale", "beta", "mean", "var"], ["y"], ["epsilon": .float(0)])
    }

    func testBatchNormFoldsIntoConvWithExactNumbers() throws {
        var g = Graph(
            nodes: [node("conv", "Conv", ["x", "w", "b"], ["c"]), bn("c")],
            inputs: [f32("x", [1, 1, 2, 2])], outputs: [f32("y", [1, 2, 2, 2])],
            initializers: ["w": tensor([2, 3], [2, 1, 1, 1]), "b": tensor([1, -1], [2])])
        bnInputs(&g)
        let (out, report) = try run(BatchNormFolding(), g)
        // s = scale / sqrt(var) = [0.25, 4]; W' = [0.5, 12]; B' = (b - mean)·s + beta = [0.1, -11.8].
        XCTAssertEqual(out.nodes.count, 1)
        XCTAssertEqual(out.nodes[0].outputs, ["y"])
        XCTAssertEqual(out.nodes[0].inputs, ["x", "w_bnfolded", "b_bnfolded"])
        XCTAssertEqual(out.initializers["w_bnfolded"], tensor([0.5, 12], [2, 1, 1, 1]))
        XCTAssertEqual(out.initializers["b_bnfolded"], tensor([0.1, -11.8], [2]))
        XCTAssertEqual(out.initializers["w"], tensor([2, 3], [2, 1, 1, 1]), "the original weight is untouched")
        XCTAssertEqual(report.removedNodes, ["bn"])
    }

    func testBatchNormFoldsIntoConvWithoutBiasAndConvTranspose() throws {
        var g = Graph(
            nodes: [node("conv", "ConvTranspose", ["x", "w"], ["c"]), bn("c")],
            inputs: [f32("x", [1, 1, 2, 2])], outputs: [f32("y", [1, 2, 2, 2])],
            initializers: ["w": tensor([2, 3], [1, 2, 1, 1])])
        bnInputs(&g)
        let (out, _) = try run(BatchNormFolding(), g)
        XCTAssertEqual(out.nodes.map(\.opType), ["ConvTranspose"])
        XCTAssertEqual(out.initializers[out.nodes[0].inputs[1]], tensor([0.5, 12], [1, 2, 1, 1]))
        // No bias: B' = -mean·s + beta = [-0.15, -7.8].
        XCTAssertEqual(out.initializers[out.nodes[0].inputs[2]], tensor([-0.15, -7.8], [2]))
    }

    func testBatchNormFoldsIntoGemmWithTransB() throws {
        var g = Graph(
            nodes: [node("fc", "Gemm", ["x", "w", "c"], ["h"], ["transB": .int(1), "beta": .float(2)]), bn("h")],
            inputs: [f32("x", [1, 3])], outputs: [f32("y", [1, 2])],
            initializers: ["w": tensor([1, 2, 3, 4, 5, 6], [2, 3]), "c": tensor([1, 1], [2])])
        bnInputs(&g)
        let (out, _) = try run(BatchNormFolding(), g)
        XCTAssertEqual(out.initializers[out.nodes[0].inputs[1]], tensor([0.25, 0.5, 0.75, 16, 20, 24], [2, 3]))
        // C' = (beta·C - mean)·s + bnBeta = [(2-1)·0.25+0.1, (2-2)·4+0.2] = [0.35, 0.2].
        XCTAssertEqual(out.initializers[out.nodes[0].inputs[2]], tensor([0.35, 0.2], [2]))
        XCTAssertEqual(out.nodes[0].float("beta"), 1)
    }

    func testBatchNormNotFoldedWhenConvOutputHasAnotherReader() throws {
        var g = Graph(
            nodes: [node("conv", "Conv", ["x", "w"], ["c"]), bn("c"), node("other", "Relu", ["c"], ["z"])],
            inputs: [f32("x", [1, 1, 2, 2])], outputs: [f32("y", [1, 2, 2, 2]), f32("z", [1, 2, 2, 2])],
            initializers: ["w": tensor([2, 3], [2, 1, 1, 1])])
        bnInputs(&g)
        let (out, report) = try run(BatchNormFolding(), g)
        XCTAssertEqual(out, g)
        XCTAssertFalse(report.changed)
    }

    func testIdentityAndDropoutRemovalKeepsOutputNames() throws {
        let g = Graph(
            nodes: [
                node("relu", "Relu", ["x"], ["r"]), node("id1", "Identity", ["r"], ["i"]),
                node("drop", "Dropout", ["i"], ["d", ""]), node("neg", "Neg", ["d"], ["n"]),
                node("id2", "Identity", ["n"], ["y"]), node("id3", "Identity", ["x"], ["y2"]),
            ],
            inputs: [f32("x", [2])], outputs: [f32("y", [2]), f32("y2", [2])])
        let (out, report) = try run(IdentityElimination(), g)
        XCTAssertEqual(
            out.nodes, [node("relu", "Relu", ["x"], ["r"]), node("neg", "Neg", ["r"], ["y"]), node("id3", "Identity", ["x"], ["y2"])])
        XCTAssertEqual(report.removedNodes, ["id1", "drop", "id2"])
        XCTAssertEqual(out.outputNames, ["y", "y2"])
    }

    func testActivationFusion() throws {
        let g = Graph(
            nodes: [
                node("conv", "Conv", ["x", "w"], ["c"]), node("clip", "Clip", ["c", "lo", "hi"], ["a"]),
                node("mm", "MatMul", ["a", "m"], ["p"]), node("lrelu", "LeakyRelu", ["p"], ["y"], ["alpha": .float(0.2)]),
                node("add", "Add", ["a", "a"], ["s"]), node("sig", "Sigmoid", ["s"], ["z"]), node("tanh", "Tanh", ["s"], ["z2"]),
            ],
            inputs: [f32("x", [1, 1, 2, 2])], outputs: [f32("y", []), f32("z", []), f32("z2", [])],
            initializers: [
                "w": tensor([1], [1, 1, 1, 1]), "m": tensor([1, 2], [2, 1]), "lo": Tensor.scalar(Float(0)), "hi": Tensor.scalar(Float(6)),
            ])
        let (out, report) = try run(ActivationFusion(), g)
        XCTAssertEqual(out.nodes.map(\.name), ["conv", "mm", "add", "sig", "tanh"])
        XCTAssertEqual(out.nodes[0].fusedActivation, Activation.clip(min: 0, max: 6))
        XCTAssertEqual(out.nodes[0].outputs, ["a"])
        XCTAssertEqual(out.nodes[1].fusedActivation, Activation.leakyRelu(alpha: 0.2))
        XCTAssertEqual(out.nodes[1].outputs, ["y"])
        XCTAssertNil(out.nodes[2].fusedActivation, "Add's output has two readers")
        XCTAssertEqual(report.removedNodes, ["clip", "lrelu"])
    }

    func testConstantFoldingCollapsesShapeChain() throws {
        let g = Graph(
            nodes: [
                node("shape", "Shape", ["x"], ["s"]), node("gather", "Gather", ["s", "zero"], ["n"]),
                node("unsq", "Unsqueeze", ["n", "axes"], ["n1"]), node("cat", "Concat", ["n1", "m1"], ["t"], ["axis": .int(0)]),
                node("cast", "Cast", ["t"], ["t64"], ["to": .string("int64")]),
                node("reshape", "Reshape", ["x", "t64"], ["y"]),
            ],
            inputs: [f32("x", [2, 3, 4])], outputs: [f32("y", [2, 12])],
            initializers: ["zero": Tensor.scalar(Int64(0)), "axes": Tensor.vector([Int64(0)]), "m1": Tensor.vector([Int64(-1)])])
        let (out, report) = try run(ConstantFolding(), g)
        XCTAssertEqual(out.nodes, [node("reshape", "Reshape", ["x", "t64"], ["y"])])
        XCTAssertEqual(out.initializers["t64"], Tensor.vector([Int64(2), -1]))
        XCTAssertEqual(report.removedNodes, ["shape", "gather", "unsq", "cat", "cast"])
        let (clean, dead) = try run(DeadNodeElimination(), out)
        XCTAssertEqual(Set(dead.removedInitializers), ["zero", "axes", "m1", "s", "n", "n1", "t"])
        XCTAssertEqual(Set(clean.initializers.keys), ["t64"])
    }

    func testBuiltinEvaluatorOps() throws {
        let e = BuiltinConstantEvaluator()
        let m = try Tensor(int64s: [0, 1, 2, 3, 4, 5], shape: [2, 3])
        XCTAssertEqual(
            try e.evaluate(
                node("s", "Slice", [], []),
                inputs: [m, .vector([Int64(1)]), .vector([Int64(-4)]), .vector([Int64(1)]), .vector([Int64(-1)])])?.first?.asInt64s,
            [1, 0, 4, 3])
        XCTAssertEqual(
            try e.evaluate(node("g", "Gather", [], [], ["axis": .int(1)]), inputs: [m, .vector([Int64(2), -3])])?.first?.asInt64s,
            [2, 0, 5, 3])
        XCTAssertEqual(try e.evaluate(node("d", "Div", [], []), inputs: [m, .scalar(Int64(2))])?.first?.asInt64s, [0, 0, 1, 1, 2, 2])
        XCTAssertThrowsError(try e.evaluate(node("d", "Div", [], []), inputs: [m, .scalar(Int64(0))]))
        XCTAssertEqual(
            try e.evaluate(node("r", "Range", [], []), inputs: [.scalar(Int64(10)), .scalar(Int64(1)), .scalar(Int64(-3))])?.first?
                .asInt64s, [10, 7, 4])
        XCTAssertEqual(
            try e.evaluate(node("c", "ConstantOfShape", [], [], ["value": .tensor(.vector([Int64(7)]))]), inputs: [.vector([Int64(2)])])?
                .first?.asInt64s, [7, 7])
        XCTAssertEqual(
            try e.evaluate(node("c", "Cast", [], [], ["to": .string("int32")]), inputs: [.vector([Float(2.7), -2.7, .nan, 1e20])])?.first?
                .asInt64s, [2, -2, 0, -1])
        XCTAssertNil(
            try e.evaluate(node("c", "ConstantOfShape", [], []), inputs: [.vector([Int64(1 << 20), 1 << 20])]), "huge results are declined")
        XCTAssertNil(try e.evaluate(node("x", "Conv", [], []), inputs: []))
    }

    func testPipelineStopsAfterRequestedPass() throws {
        var model = Model(
            graph: Graph(
                nodes: [node("id", "Identity", ["x"], ["i"]), node("relu", "Relu", ["i"], ["y"]), node("dead", "Neg", ["x"], ["unused"])],
                inputs: [f32("x", [2])], outputs: [f32("y", [2])]))
        let partial = try PassPipeline.standard().run(on: &model, stopAfter: 2)
        XCTAssertEqual(partial.map(\.pass), ["constant-folding", "identity-elimination"])
        XCTAssertEqual(model.graph.nodes.map(\.name), ["relu", "dead"])
        let rest = try PassPipeline.standard().run(on: &model)
        XCTAssertEqual(rest.last?.removedNodes, ["dead"])
        XCTAssertEqual(model.graph.nodes, [node("relu", "Relu", ["x"], ["y"])])
    }
}
