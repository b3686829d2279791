import ModelIR
import XCTest

/// QDQFusion on hand-built QDQ graphs: what is fused into which QOperator op, what stays an
/// fp32 island, and that the result is a valid graph.
final class QDQFusionTests: XCTestCase {
    /// x(u8) → DQ → Conv(DQ w, DQ b) → Relu → Q → DQ → Softmax → y, plus Reshape islands.
    func graph(biasScale: Float = 0.5 * 0.25, reshapeScale: Float = 0.25) throws -> Graph {
        let i: [String: Tensor] = [
            "xs": .scalar(Float(0.5)), "xz": try Tensor(uint8s: [128], shape: []),
            "w": try Tensor(int8s: [1, -2, 3, 4], shape: [2, 2, 1, 1]), "ws": .vector([0.25, 0.25] as [Float]),
            "wz": try Tensor(int8s: [0, 0], shape: [2]),
            "b": try Tensor(int32s: [10, -20], shape: [2]), "bs": .vector([biasScale, biasScale] as [Float]),
            "ys": .scalar(Float(0.25)), "yz": try Tensor(uint8s: [0], shape: []),
            "rs": .scalar(reshapeScale), "shape": .vector([1, 8] as [Int64]),
        ]
        let nodes = [
            Node(name: "dqx", opType: "DequantizeLinear", inputs: ["x", "xs", "xz"], outputs: ["xf"]),
            Node(name: "dqw", opType: "DequantizeLinear", inputs: ["w", "ws", "wz"], outputs: ["wf"], attributes: ["axis": .int(0)]),
            Node(name: "dqb", opType: "DequantizeLinear", inputs: ["b", "bs"], outputs: ["bf"], attributes: ["axis": .int(0)]),
            Node(name: "conv", opType: "Conv", inputs: ["xf", "wf", "bf"], outputs: ["c"]),
            Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]),
            Node(name: "q", opType: "QuantizeLinear", inputs: ["r", "ys", "yz"], outputs: ["rq"]),
            Node(name: "dq2", opType: "DequantizeLinear", inputs: ["rq", "ys", "yz"], outputs: ["rf"]),
            Node(name: "reshape", opType: "Reshape", inputs: ["rf", "shape"], outputs: ["flat"]),
            Node(name: "q3", opType: "QuantizeLinear", inputs: ["flat", "rs", "yz"], outputs: ["flatq"]),
            Node(name: "dq3", opType: "DequantizeLinear", inputs: ["flatq", "rs", "yz"], outputs: ["flatf"]),
            Node(name: "softmax", opType: "Softmax", inputs: ["flatf"], outputs: ["y"]),
        ]
        return Graph(
            nodes: nodes, inputs: [ValueInfo("x", TensorType(.uint8, Shape([.fixed(1), .fixed(2), .fixed(2), .fixed(2)])))],
            outputs: [ValueInfo("y", TensorType(.float32, nil))], initializers: i)
    }

    func testConvWithReluBecomesQLinearConvWithAClamp() throws {
        var g = try graph()
        let report = QDQFusion().fuse(&g)
        try g.sortTopologically()
        try g.validate()
        let conv = try XCTUnwrap(g.nodes.first { $0.opType == "QLinearConv" })
        XCTAssertEqual(conv.inputs, ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], "bias already int32 in s_x·s_w units: reused")
        XCTAssertEqual(conv.outputs, ["rq"])
        XCTAssertEqual(conv.fusedActivation, .relu)
        // Reshape runs on the int8 value (same scale in and out); Softmax stays fp32 after a DQ.
        let reshape = try XCTUnwrap(g.nodes.first { $0.opType == "Reshape" })
        XCTAssertEqual(reshape.inputs[0], "rq")
        XCTAssertEqual(reshape.outputs, ["flatq"])
        XCTAssertEqual(g.nodes.map(\.opType), ["QLinearConv", "Reshape", "DequantizeLinear", "Softmax"])
        XCTAssertTrue(report.removedNodes.contains("relu"))
        // What each fused node replaced, in graph order (profiles name a step's sources by it).
        XCTAssertEqual(report.fusedFrom["conv"], ["dqx", "dqw", "dqb", "conv", "relu", "q"])
        XCTAssertEqual(report.fusedFrom["reshape"], ["dq2", "reshape", "q3"])
        XCTAssertEqual(Set(report.fusedFrom.keys), ["conv", "reshape"])
    }

    func testBiasInOtherUnitsIsRequantizedAndMismatchedReshapeStaysFP32() throws {
        var g = try graph(biasScale: 0.25, reshapeScale: 0.5)
        QDQFusion().fuse(&g)
        try g.sortTopologically()
        try g.validate()
        let conv = try XCTUnwrap(g.nodes.first { $0.opType == "QLinearConv" })
        let bias = try XCTUnwrap(g.initializers[conv.inputs[8]]?.int32s)
        XCTAssertEqual(bias, [20, -40], "b·0.25 / (0.5·0.25)")
        XCTAssertEqual(
            g.nodes.map(\.opType), ["QLinearConv", "DequantizeLinear", "Reshape", "QuantizeLinear", "DequantizeLinear", "Softmax"])
    }

    func testNonClampActivationAndFloatWeightsAreLeftAlone() throws {
        var g = try graph()
        // A Sigmoid between Conv and Q cannot be an output clamp.
        if let k = g.nodes.firstIndex(where: { $0.name == "relu" }) { g.nodes[k].opType = "Sigmoid" }
        var unchanged = g
        QDQFusion().fuse(&unchanged)
        XCTAssertTrue(unchanged.nodes.contains { $0.opType == "Conv" })
        XCTAssertTrue(unchanged.nodes.contains { $0.opType == "Sigmoid" })
        // A graph without DequantizeLinear is returned as it is.
        var plain = Graph(nodes: [node("r", "Relu", ["a"], ["b"])], inputs: [f32("a", [.fixed(2)])], outputs: [f32("b", [.fixed(2)])])
        let before = plain
        XCTAssertFalse(QDQFusion().fuse(&plain).changed)
        XCTAssertEqual(plain, before)
    }
}
