import Foundation
import ModelIR
import Quantizer
import Runtime
import TestSupport
import XCTest

/// The shape of the emitted QDQ graph: int8 weights with the class's granularity, int32 biases
/// with scale s_x·s_w, shared parameters across byte-moving ops, fusion into int8 ops.
final class PipelineStructureTests: XCTestCase {
    func profile(_ name: String) throws -> HardwareClass {
        try XCTUnwrap(Digits.builtInClasses().first { $0.name == name })
    }

    func dq(_ g: Graph, producing v: String) -> Node? {
        g.nodes.first { $0.opType == "DequantizeLinear" && $0.outputs == [v] }
    }

    func scalars(_ g: Graph, _ name: String) -> [Float] { g.initializers[name]?.floats ?? [] }

    func checkWeightsAndBiases(_ q: QuantizedModel, perChannel: Bool, activationType: ElementType) throws {
        let g = q.model.graph
        var weighted = 0
        for node in g.nodes where ["Conv", "Gemm"].contains(node.opType) {
            weighted += 1
            let w = try XCTUnwrap(dq(g, producing: node.inputs[1]), node.name)
            let wq = try XCTUnwrap(g.initializers[w.inputs[0]])
            XCTAssertEqual(wq.elementType, .int8, node.name)
            XCTAssertFalse(wq.int8s?.contains(-128) ?? true, "weights stay in ±127")
            let ws = scalars(g, w.inputs[1])
            if perChannel {
                XCTAssertEqual(w.int("axis"), 0, node.name)
                XCTAssertEqual(ws.count, wq.shape[0], node.name)
            } else {
                XCTAssertNil(w.int("axis"), node.name)
                XCTAssertEqual(g.initializers[w.inputs[1]]?.rank, 0, node.name)
            }
            XCTAssertEqual(g.initializers[w.inputs[2]]?.int8s?.allSatisfy { $0 == 0 }, true, "symmetric weights")
            // The input is the DequantizeLinear of an activation; its scale times the weight scale is the bias scale.
            let x = try XCTUnwrap(dq(g, producing: node.inputs[0]), node.name)
            XCTAssertEqual(g.initializers[x.inputs[2]]?.elementType, activationType)
            let sx = try XCTUnwrap(scalars(g, x.inputs[1]).first)
            let b = try XCTUnwrap(dq(g, producing: node.inputs[2]), node.name)
            XCTAssertEqual(g.initializers[b.inputs[0]]?.elementType, .int32, node.name)
            let bs = scalars(g, b.inputs[1])
            XCTAssertEqual(bs.count, perChannel ? ws.count : 1)
            for (c, s) in bs.enumerated() { XCTAssertEqual(s, Float(Double(sx) * Double(ws[c])), node.name) }
        }
        XCTAssertEqual(weighted, 3)
        // No fp32 weight is left behind.
        XCTAssertTrue(g.initializers.values.allSatisfy { $0.elementType != .float32 || $0.elementCount <= (perChannel ? 512 : 1) })
    }

    func testPerChannelClassesQuantizeWeightsPerOutputChannel() throws {
        for (name, type) in [("x86_64-avx2", ElementType.uint8), ("arm64-neon", .int8), ("arm64-dotprod", .int8)] {
            let p = try profile(name)
            let q = try StaticQuantizer(profile: p, calibrator: .minmax).quantize(Digits.model(), calibration: Digits.calibration())
            try checkWeightsAndBiases(q, perChannel: true, activationType: type)
            XCTAssertEqual(q.recipesApplied, [], "per-channel classes skip CLE and bias correction")
            if p.activationType == .int8Symmetric {
                XCTAssertTrue(q.activationParameters.values.allSatisfy { $0.zeroPoint == 0 }, name)
            }
        }
    }

    func testPerTensorClassAppliesRecipesAndPerTensorWeights() throws {
        let q = try StaticQuantizer(profile: profile("mcu-per-tensor")).quantize(Digits.model(), calibration: Digits.calibration())
        try checkWeightsAndBiases(q, perChannel: false, activationType: .int8)
        XCTAssertEqual(q.recipesApplied, ["crossLayerEqualization"], "the profile's recipes")
        let both = try StaticQuantizer(profile: profile("mcu-per-tensor"), recipes: [.crossLayerEqualization, .biasCorrection])
            .quantize(Digits.model(), calibration: Digits.calibration())
        XCTAssertEqual(both.recipesApplied, ["crossLayerEqualization", "biasCorrection"])
        // Bias correction moved the biases: the int32 values differ from the CLE-only variant.
        let conv = try XCTUnwrap(q.model.graph.nodes.first { $0.opType == "Conv" })
        let bq = { (m: QuantizedModel) in
            m.model.graph.initializers[self.dq(m.model.graph, producing: conv.inputs[2])?.inputs[0] ?? ""]?.int32s
        }
        XCTAssertNotNil(bq(q))
        XCTAssertNotEqual(bq(q), bq(both))
    }

    func testMaxPoolAndFlattenShareParametersAndTheGraphFusesToInt8Ops() throws {
        let q = try StaticQuantizer(profile: profile("x86_64-avx2"), calibrator: .minmax).quantize(
            Digits.model(), calibration: Digits.calibration())
        let g = q.model.graph
        for op in ["MaxPool", "Flatten"] {
            let node = try XCTUnwrap(g.nodes.first { $0.opType == op })
            let inQ = try XCTUnwrap(dq(g, producing: node.inputs[0]))
            let outQ = try XCTUnwrap(g.nodes.first { $0.opType == "QuantizeLinear" && $0.inputs[0] == node.outputs[0] })
            XCTAssertEqual(scalars(g, inQ.inputs[1]), scalars(g, outQ.inputs[1]), op)
            XCTAssertEqual(g.initializers[inQ.inputs[2]]?.uint8s, g.initializers[outQ.inputs[2]]?.uint8s, op)
        }
        // The conv outputs carry a fused Relu: their zero point is 0 (range folded to [0, hi]).
        for conv in g.nodes where conv.opType == "Conv" {
            let out = try XCTUnwrap(g.nodes.first { $0.opType == "QuantizeLinear" && $0.inputs[0] == conv.outputs[0] })
            XCTAssertEqual(g.initializers[out.inputs[2]]?.uint8s, [0])
        }
        var fused = g
        QDQFusion().fuse(&fused)
        let ops = fused.nodes.map(\.qualifiedOpType)
        XCTAssertEqual(ops.filter { $0 == "QLinearConv" }.count, 2, "\(ops)")
        XCTAssertEqual(ops.filter { $0 == "com.microsoft:QGemm" }.count, 1, "\(ops)")
        XCTAssertFalse(ops.contains("Conv") || ops.contains("Gemm"), "no fp32 compute left: \(ops)")
        // Left: the input's Q and the logits' DQ (the graph output stays fp32).
        XCTAssertEqual(ops.filter { $0 == "QuantizeLinear" }.count, 1, "\(ops)")
        XCTAssertEqual(ops.filter { $0 == "DequantizeLinear" }.count, 1, "\(ops)")
        XCTAssertEqual(g.outputs.map(\.name), try Digits.model().graph.outputs.map(\.name), "output names unchanged")
    }

    func testConcatInputsAndOutputShareOneScale() throws {
        // x → Conv a, Conv b → Concat → Conv c: both branches and the Concat output get one range.
        var r = SplitMix64(seed: 7)
        func weights(_ shape: [Int]) throws -> Tensor {
            try Tensor(floats: (0..<shape.reduce(1, *)).map { _ in Float(r.gaussian()) * 0.3 }, shape: shape)
        }
        let g = Graph(
            nodes: [
                Node(name: "a", opType: "Conv", inputs: ["x", "wa"], outputs: ["ya"], attributes: ["pads": .ints([1, 1, 1, 1])]),
                Node(name: "b", opType: "Conv", inputs: ["x", "wb"], outputs: ["yb"], attributes: ["pads": .ints([1, 1, 1, 1])]),
                Node(name: "cat", opType: "Concat", inputs: ["ya", "yb"], outputs: ["y"], attributes: ["axis": .int(1)]),
                Node(name: "c", opType: "Conv", inputs: ["y", "wc"], outputs: ["z"]),
            ],
            inputs: [ValueInfo("x", TensorType(.float32, Shape([.symbolic("N"), .fixed(3), .fixed(6), .fixed(6)])))],
            outputs: [ValueInfo("z", TensorType(.float32, nil))],
            initializers: ["wa": try weights([4, 3, 3, 3]), "wb": try weights([6, 3, 3, 3]), "wc": try weights([8, 10, 1, 1])])
        let batches: [Result<[String: Tensor], QuantizerError>] = try (0..<3).map { _ in
            .success(["x": try Tensor(floats: (0..<(4 * 3 * 36)).map { _ in Float(r.gaussian()) }, shape: [4, 3, 6, 6])])
        }
        let q = try StaticQuantizer(profile: profile("arm64-neon"), calibrator: .minmax).quantize(Model(graph: g), calibration: batches)
        let p = ["ya", "yb", "y"].compactMap { q.activationParameters[$0] }
        XCTAssertEqual(p.count, 3)
        XCTAssertEqual(Set(p).count, 1, "\(p)")
        XCTAssertNotEqual(q.activationParameters["x"], p[0])
        var fused = q.model.graph
        QDQFusion().fuse(&fused)
        XCTAssertEqual(fused.nodes.filter { $0.opType == "QLinearConv" }.count, 3, "\(fused.nodes.map(\.qualifiedOpType))")
    }
}
