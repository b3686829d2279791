import ModelIR

extension StaticQuantizer {
    /// Which nodes run in int8, and why the others do not.
    struct Selection: Sendable {
        var quantized: Set<String> = []
        var fp32: [QuantizedModel.FP32Layer] = []

        /// Positions of a node's inputs that carry data (the rest are shapes, axes, weights).
        static func dataInputs(_ node: Node) -> [Int] {
            switch node.opType {
            case "Add", "Mul": return [0, 1]
            case "Concat": return Array(node.inputs.indices)
            default: return [0]
            }
        }

        static func dataOutputs(_ node: Node) -> [Int] {
            node.opType == "Split" ? Array(node.outputs.indices) : [0]
        }

        /// Float, non-constant values read or written by a quantized node: each gets Q → DQ.
        func activationValues(in graph: Graph) -> [String] {
            var seen: Set<String> = [], order: [String] = []
            func add(_ v: String) {
                guard !v.isEmpty, graph.constant(v) == nil, !seen.contains(v) else { return }
                if let t = graph.type(of: v), t.elementType != .float32 { return }
                seen.insert(v)
                order.append(v)
            }
            for node in graph.nodes where quantized.contains(node.name) {
                for i in Self.dataInputs(node) where i < node.inputs.count { add(node.inputs[i]) }
                for i in Self.dataOutputs(node) where i < node.outputs.count { add(node.outputs[i]) }
            }
            return order
        }

        /// Constant float data inputs of quantized nodes (an Add's constant operand): they are
        /// stored quantized with their own min/max range.
        func constantDataInputs(in graph: Graph) -> [String] {
            var out: [String] = []
            for node in graph.nodes where quantized.contains(node.name) {
                for i in Self.dataInputs(node) where i < node.inputs.count {
                    let v = node.inputs[i]
                    if let c = graph.constant(v), c.elementType == .float32, !out.contains(v) { out.append(v) }
                }
            }
            return out
        }

        func int8Nodes(_ graph: Graph) -> [String] {
            graph.nodes.map(\.name).filter { quantized.contains($0) }
        }
    }

    /// Chooses int8 nodes in topological order. Rules (docs/quantization.md):
    /// the op must be in the class's `int8Ops` and in the default domain; not kept by tuning;
    /// Conv/Gemm/MatMul need constant float weights (rank 2 for MatMul, Gemm without transA)
    /// and at least `minimumWeightElements` of them; byte-moving ops follow their producer.
    func select(_ graph: Graph) -> Selection {
        var s = Selection()
        let index = ValueIndex(graph)
        func leave(_ n: Node, _ why: String) { s.fp32.append(.init(node: n.name, opType: n.opType, reason: why)) }
        for node in graph.nodes {
            guard node.domain.isEmpty, profile.int8Ops.contains(node.opType) else {
                if !Self.movementOps.contains(node.opType) && !["Identity", "Shape", "Constant"].contains(node.opType) {
                    leave(node, "class \(profile.name) has no int8 \(node.qualifiedOpType)")
                }
                continue
            }
            if keepFP32.contains(node.name) {
                leave(node, "kept in fp32 by accuracy tuning (most sensitive layer)")
                continue
            }
            if Self.weightedOps.contains(node.opType) {
                guard let w = node.input(1).flatMap({ graph.constant($0) }), w.elementType == .float32 else {
                    leave(node, "weights are not a constant float32 tensor")
                    continue
                }
                if node.opType == "MatMul" && w.rank != 2 {
                    leave(node, "MatMul weights of rank \(w.rank); only 2-D weights are quantized")
                    continue
                }
                if node.opType == "Gemm" && (node.int("transA") ?? 0) != 0 {
                    leave(node, "Gemm with transA = 1")
                    continue
                }
                let count = w.shape.reduce(1, *)
                if count < minimumWeightElements {
                    leave(node, "tiny layer (\(count) weights < \(minimumWeightElements)): int8 is not faster here")
                    continue
                }
            }
            if Self.movementOps.contains(node.opType) {
                guard let x = node.input(0), let p = index.producer[x], s.quantized.contains(graph.nodes[p].name) else { continue }
            }
            s.quantized.insert(node.name)
        }
        return s
    }
}
