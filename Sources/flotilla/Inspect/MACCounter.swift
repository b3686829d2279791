import ModelIR

/// Multiply-accumulates of the compute-heavy ops, from shapes inferred with every graph-input
/// symbol bound to 1 (batch 1, sequence 1...). Elementwise ops, pooling and normalization are
/// not counted: like most model zoos' "MACs"/"FLOPs" figures, this measures the GEMM-shaped
/// work that dominates run time.
///
/// Per output element an op does K multiply-accumulates, with K read from the weight or the
/// inner dimension, which handles groups and transposes without special cases:
/// - Conv: K = prod(W.shape[1...]) = (C/group)·kH·kW…
/// - ConvTranspose: each *input* element scatters prod(W.shape[1...]) = (M/group)·kH·kW… MACs
/// - Gemm: K = A.shape[transA ? 0 : 1]; MatMul: K = A's last dimension
struct MACCounter {
    private(set) var total = 0
    private(set) var byOp: [ModelSummary.OpMACs] = []
    private(set) var unknownNodes: [String] = []
    let bindings: [String: Int]
    private(set) var note: String

    init(graph: Graph) {
        var bindings: [String: Int] = [:]
        for symbol in graph.inputSymbols { bindings[symbol] = 1 }
        self.bindings = bindings
        var bound = graph
        for i in bound.inputs.indices { bound.inputs[i].type.shape = bound.inputs[i].type.shape?.substituting(bindings) }
        bound.valueTypes = bound.valueTypes.mapValues { t in
            var t = t
            t.shape = t.shape?.substituting(bindings)
            return t
        }
        let symbols = bindings.keys.sorted().map { "\($0)=1" }.joined(separator: ", ")
        note =
            bindings.isEmpty
            ? "MACs of Conv, ConvTranspose, Gemm, MatMul at the model's fixed input shapes"
            : "MACs of Conv, ConvTranspose, Gemm, MatMul with symbolic dimensions bound to 1 (\(symbols))"
        do {
            try ShapeInference().run(on: &bound)
        } catch {
            note += "; shape inference with these bindings failed (\(error)), so shapes are as declared"
        }
        var perOp: [String: (nodes: Int, macs: Int)] = [:]
        for node in bound.nodes {
            guard Self.counted.contains(node.opType), node.domain.isEmpty || node.domain == "com.microsoft" else { continue }
            guard let macs = Self.macs(of: node, in: bound) else {
                unknownNodes.append(node.name)
                continue
            }
            let (sum, overflow) = total.addingReportingOverflow(macs)
            total = overflow ? Int.max : sum
            perOp[node.opType, default: (0, 0)].nodes += 1
            perOp[node.opType, default: (0, 0)].macs += macs
        }
        byOp = perOp.map { ModelSummary.OpMACs(op: $0.key, nodes: $0.value.nodes, macs: $0.value.macs) }
            .sorted { ($0.macs, $1.op) > ($1.macs, $0.op) }
        if graph.nodes.contains(where: { !$0.subgraphs.isEmpty }) {
            note += "; nodes inside subgraphs (If/Loop bodies) are not counted"
        }
    }

    static let counted: Set<String> = [
        "Conv", "ConvTranspose", "Gemm", "MatMul", "ConvInteger", "MatMulInteger", "QLinearConv", "QLinearMatMul", "FusedConv",
        "FusedMatMul",
    ]

    /// MACs of one node, or nil when a shape it needs is not concrete.
    static func macs(of node: Node, in graph: Graph) -> Int? {
        func dims(_ value: String?) -> [Int]? {
            guard let value else { return nil }
            return graph.type(of: value)?.shape?.concrete
        }
        let output = dims(node.outputs.first)
        switch node.opType {
        case "Conv", "ConvInteger", "FusedConv", "QLinearConv":
            let weightIndex = node.opType == "QLinearConv" ? 3 : 1
            guard let y = output, let w = dims(node.input(weightIndex)), w.count >= 2 else { return nil }
            return product(y, w.dropFirst())
        case "ConvTranspose":
            guard let x = dims(node.input(0)), let w = dims(node.input(1)), w.count >= 2 else { return nil }
            return product(x, w.dropFirst())
        case "Gemm":
            guard let y = output, let a = dims(node.input(0)), a.count == 2 else { return nil }
            return product(y, [a[(node.int("transA") ?? 0) != 0 ? 0 : 1]])
        default:  // MatMul, MatMulInteger, QLinearMatMul, FusedMatMul: A is input 0.
            guard let y = output, let a = dims(node.input(0)), let last = a.last else { return nil }
            let transposed = (node.int("transA") ?? 0) != 0 && a.count >= 2  // com.microsoft FusedMatMul
            return product(y, [transposed ? a[a.count - 2] : last])
        }
    }

    private static func product(_ a: [Int], _ b: some Collection<Int>) -> Int? {
        guard let pa = Shape.checkedProduct(a), let pb = Shape.checkedProduct(Array(b)) else { return nil }
        let (p, overflow) = pa.multipliedReportingOverflow(by: pb)
        return overflow ? nil : p
    }
}
