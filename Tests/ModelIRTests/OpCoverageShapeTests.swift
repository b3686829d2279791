import ModelIR
import XCTest

/// Shape functions of the ops added for ONNX conformance: indexing, layout, Einsum, attention,
/// signal processing, loops. Each with a symbolic batch where the op has one, and the errors
/// that name the node.
final class OpCoverageShapeTests: XCTestCase {
    func infer(_ nodes: [Node], _ inputs: [ValueInfo], _ initializers: [String: Tensor] = [:]) throws -> Graph {
        try inferred(Graph(nodes: nodes, inputs: inputs, outputs: [], initializers: initializers))
    }

    func value(_ name: String, _ et: ElementType, _ dims: [ModelIR.Dimension]) -> ValueInfo { ValueInfo(name, TensorType(et, Shape(dims))) }

    func testIndexingOps() throws {
        let g = try infer(
            [
                node("ge", "GatherElements", ["x", "i"], ["ge"], ["axis": .int(1)]),
                node("gnd", "GatherND", ["x", "nd"], ["gnd"], ["batch_dims": .int(1)]),
                node("oh", "OneHot", ["i", "depth", "vals"], ["oh"], ["axis": .int(1)]),
                node("sc", "ScatterND", ["x", "nd", "upd"], ["sc"]),
                node("cmp", "Compress", ["x", "cond"], ["cmp"], ["axis": .int(1)]),
                node("u", "Unique", ["x"], ["uy", "ui", "uinv", "uc"]),
            ],
            [f32("x", ["N", 5, 6]), value("i", .int64, ["N", 2, 6]), value("nd", .int64, ["N", 3, 1]), f32("upd", ["N", 3, 6])],
            [
                "depth": Tensor.scalar(Int64(10)), "vals": Tensor.vector([Float(0), 1]),
                "cond": try Tensor(bools: [true, false, true, true, false], shape: [5]),
            ])
        XCTAssertEqual(g.valueTypes["ge"], TensorType(.float32, ["N", 2, 6]))
        XCTAssertEqual(g.valueTypes["gnd"], TensorType(.float32, ["N", 3, 6]), "indices [N, 3] + data after batch and 1 indexed axis")
        XCTAssertEqual(g.valueTypes["oh"], TensorType(.float32, ["N", 10, 2, 6]))
        XCTAssertEqual(g.valueTypes["sc"], TensorType(.float32, ["N", 5, 6]))
        XCTAssertEqual(g.valueTypes["cmp"], TensorType(.float32, ["N", 3, 6]), "constant condition: 3 slices kept")
        let count = try XCTUnwrap(g.valueTypes["uy"]?.shape?[0])
        XCTAssertTrue(count.isInferredUnknown)
        XCTAssertEqual(g.valueTypes["ui"]?.shape, Shape([count]), "Y, indices and counts share one unknown length")
        XCTAssertEqual(g.valueTypes["uinv"]?.elementType, .int64)

        XCTAssertThrowsError(try infer([node("bad", "GatherND", ["x", "nd"], ["y"])], [f32("x", [2, 3]), value("nd", .int64, [4, 3])])) {
            e in
            XCTAssertTrue("\(e)".contains("'bad'") && "\(e)".contains("[4, 3]"), "\(e)")
        }
    }

    func testLayoutOpsAndEinsum() throws {
        let g = try infer(
            [
                node("d2s", "DepthToSpace", ["x"], ["d2s"], ["blocksize": .int(2)]),
                node("s2d", "SpaceToDepth", ["x"], ["s2d"], ["blocksize": .int(2)]),
                node("mm", "Einsum", ["a", "b"], ["mm"], ["equation": .string("...ij,...jk->...ik")]),
                node("tr", "Einsum", ["sq"], ["tr"], ["equation": .string("ii")]),
                node("impl", "Einsum", ["a", "b"], ["impl"], ["equation": .string("bij, bjk")]),
                node("det", "Det", ["sq3"], ["det"]),
            ],
            [f32("x", ["N", 8, 4, 6]), f32("a", ["N", 3, 4]), f32("b", [1, 4, 5]), f32("sq", [3, 3]), f32("sq3", ["N", 3, 3])])
        XCTAssertEqual(g.valueTypes["d2s"]?.shape, ["N", 2, 8, 12])
        XCTAssertEqual(g.valueTypes["s2d"]?.shape, ["N", 32, 2, 3])
        XCTAssertEqual(g.valueTypes["mm"]?.shape, ["N", 3, 5])
        XCTAssertEqual(g.valueTypes["tr"]?.shape, [], "a repeated label is summed away")
        XCTAssertEqual(g.valueTypes["impl"]?.shape, [3, 5], "implicit output: letters seen once, sorted (i, k)")
        XCTAssertEqual(g.valueTypes["det"]?.shape, ["N"])
        XCTAssertThrowsError(
            try infer(
                [node("e", "Einsum", ["a", "b"], ["y"], ["equation": .string("ij,jk->ik")])], [f32("a", [2, 3]), f32("b", [4, 5])])
        ) { e in
            XCTAssertTrue("\(e)".contains("'e'") && "\(e)".contains("'j'"), "\(e)")
        }
        XCTAssertThrowsError(try infer([node("s", "SpaceToDepth", ["x"], ["y"], ["blocksize": .int(3)])], [f32("x", [1, 2, 4, 6])]))
    }

    func testAttentionWithPastAndThreeDInputs() throws {
        let g = try infer(
            [
                node("a4", "Attention", ["q", "k", "v", "", "pk", "pv"], ["y4", "pk_out", "pv_out", "qk"]),
                node("a3", "Attention", ["q3", "k3", "v3"], ["y3"], ["q_num_heads": .int(8), "kv_num_heads": .int(2)]),
            ],
            [
                f32("q", ["B", 8, "S", 16]), f32("k", ["B", 2, 4, 16]), f32("v", ["B", 2, 4, 32]), f32("pk", ["B", 2, 6, 16]),
                f32("pv", ["B", 2, 6, 32]),
                f32("q3", ["B", "S", 128]), f32("k3", ["B", "L", 32]), f32("v3", ["B", "L", 48]),
            ])
        XCTAssertEqual(g.valueTypes["y4"]?.shape, ["B", 8, "S", 32])
        XCTAssertEqual(g.valueTypes["pk_out"]?.shape, ["B", 2, 10, 16], "past 6 + new 4")
        XCTAssertEqual(g.valueTypes["pv_out"]?.shape, ["B", 2, 10, 32])
        XCTAssertEqual(g.valueTypes["qk"]?.shape, ["B", 8, "S", 10])
        XCTAssertEqual(g.valueTypes["y3"]?.shape, ["B", "S", 192], "8 heads × (48 / 2) value size")
        XCTAssertThrowsError(
            try infer(
                [node("a", "Attention", ["q", "k", "v"], ["y"])],
                [f32("q", [1, 6, 2, 8]), f32("k", [1, 4, 2, 8]), f32("v", [1, 4, 2, 8])]))
    }

    func testSignalOps() throws {
        let g = try infer(
            [
                node("stft", "STFT", ["sig", "step", "win"], ["stft"]),
                node("dft", "DFT", ["c", "len"], ["dft"], ["onesided": .int(0)]),
                node("mel", "MelWeightMatrix", ["bins", "len", "rate", "lo", "hi"], ["mel"]),
            ],
            [f32("sig", ["N", 100, 1]), f32("win", [16]), f32("c", ["N", 20, 2])],
            [
                "step": Tensor.scalar(Int64(8)), "len": Tensor.scalar(Int64(32)), "bins": Tensor.scalar(Int64(10)),
                "rate": Tensor.scalar(Int64(16000)), "lo": Tensor.scalar(Float(0)), "hi": Tensor.scalar(Float(8000)),
            ])
        XCTAssertEqual(g.valueTypes["stft"]?.shape, ["N", 11, 9, 2], "(100 - 16) / 8 + 1 frames, 16 / 2 + 1 bins")
        XCTAssertEqual(g.valueTypes["dft"]?.shape, ["N", 32, 2])
        XCTAssertEqual(g.valueTypes["mel"], TensorType(.float32, [17, 10]))
    }

    func testScanStacksAlongTheScannedAxis() throws {
        let body = Graph(
            nodes: [node("acc", "Add", ["s_in", "x_t"], ["s_out"]), node("id", "Identity", ["s_out"], ["y_t"])],
            inputs: [f32("s_in", [4]), f32("x_t", [4])], outputs: [f32("s_out", [4]), f32("y_t", [4])])
        let g = try infer(
            [
                node(
                    "scan", "Scan", ["s0", "xs"], ["s", "ys"],
                    [
                        "body": .graph(body), "num_scan_inputs": .int(1), "scan_input_axes": .ints([1]),
                        "scan_output_axes": .ints([-1]),
                    ])
            ],
            [f32("s0", [4]), f32("xs", [4, "T"])])
        XCTAssertEqual(g.valueTypes["s"]?.shape, [4])
        XCTAssertEqual(g.valueTypes["ys"]?.shape, [4, "T"])
    }

    func testIntegerShapeArithmeticKeepsSizes() throws {
        // C / G and H × W computed from Shape, as exporters write them.
        let g = try infer(
            [
                node("shape", "Shape", ["x"], ["s"], ["start": .int(1)]),
                node("c", "Gather", ["s", "zero"], ["c"]),
                node("cg", "Div", ["c", "two"], ["cg"]),
                node("hw", "Mul", ["h", "w"], ["hw"]),
                node("h", "Gather", ["s", "one"], ["h"]),
                node("w", "Gather", ["s", "twoi"], ["w"]),
                node("cat", "Concat", ["n1", "two", "cg", "hw"], ["target"], ["axis": .int(0)]),
                node("n", "Shape", ["x"], ["n1"], ["end": .int(1)]),
                node("r", "Reshape", ["x", "target"], ["y"]),
            ],
            [f32("x", ["N", 6, 4, 5])],
            [
                "zero": Tensor.vector([Int64(0)]), "one": Tensor.vector([Int64(1)]), "twoi": Tensor.vector([Int64(2)]),
                "two": Tensor.vector([Int64(2)]),
            ])
        XCTAssertEqual(g.valueTypes["y"]?.shape, ["N", 2, 3, 20])
    }
}
