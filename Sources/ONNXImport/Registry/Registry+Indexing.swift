import ModelIR

/// Gather/scatter by index tensors and one-hot encoding.
extension OpRegistry {
    mutating func registerIndexing() {
        for op in ["GatherElements", "GatherND", "ScatterElements", "ScatterND"] { onnx(op, since: 11) }
        onnx("OneHot", since: 9)
        // Scatter-9 is ScatterElements under its old name (removed in 11); the semantics match.
        onnx("Scatter", since: 9, until: 10) { u in u.node.opType = "ScatterElements" }
    }
}
