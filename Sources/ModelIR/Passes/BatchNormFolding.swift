/// Folds an inference-mode BatchNormalization into the Conv, ConvTranspose or Gemm that feeds
/// it, when that op's output has no other reader:
///
///     s[c]  = scale[c] / sqrt(var[c] + epsilon)
///     W'    = W scaled by s along the output-channel axis
///     B'[c] = (B[c] - mean[c]) * s[c] + bias[c]            (B = 0 when absent)
///
/// computed in Double and rounded once to Float. For Gemm (`Y = alpha·A·B + beta·C`) the
/// output channel is Y's column: B's column (transB = 0) or row (transB = 1) is scaled, and
/// C becomes `(beta·C - mean)·s + bias` with beta = 1. Folded weights get new names, so a
/// weight shared with another node is left untouched.
public struct BatchNormFolding: Pass {
    public let name = "batchnorm-folding"

    public init() {}

    public func run(on model: inout Model) throws -> PassReport {
        var report = PassReport(pass: name)
        var graph = model.graph
        // One index for the whole pass: each fold pairs one BN with the sole reader-producer
        // of its input, so folds never overlap and the index stays valid for every decision.
        let index = ValueIndex(graph)
        var names = NameSet(graph)
        var removed: Set<Int> = []
        for i in graph.nodes.indices {
            let bn = graph.nodes[i]
            guard bn.domain.isEmpty, bn.opType == "BatchNormalization",
                let folded = try fold(bn, in: &graph, index: index, names: &names, report: &report)
            else { continue }
            report.modifiedNodes.append(folded)
            report.removedNodes.append(bn.name)
            removed.insert(i)
        }
        graph.removeNodes(at: removed)
        model.graph = graph
        return report
    }

    /// Folds `bn` into its producer and returns the producer's name, or nil if not foldable.
    private func fold(_ bn: Node, in graph: inout Graph, index: ValueIndex, names: inout NameSet, report: inout PassReport) throws
        -> String?
    {
        guard (bn.int("training_mode") ?? 0) == 0, bn.outputs.dropFirst().allSatisfy({ $0.isEmpty }),
            let x = bn.input(0), let p = index.producer[x]
        else { return nil }
        let producer = graph.nodes[p]
        guard producer.domain.isEmpty, ["Conv", "ConvTranspose", "Gemm"].contains(producer.opType),
            producer.fusedActivation == nil, producer.outputs.first == x,
            index.consumerCount(x) == 1, !graph.isGraphOutput(x)
        else { return nil }
        guard let scale = constantFloats(bn.input(1), graph), let bias = constantFloats(bn.input(2), graph),
            let mean = constantFloats(bn.input(3), graph), let variance = constantFloats(bn.input(4), graph),
            let wName = producer.input(1), let w = graph.constant(wName), let wv = w.floats
        else {
            report.notes.append("'\(bn.name)': statistics or weights are not float32 constants")
            return nil
        }
        let channels = scale.count
        guard channels > 0, w.elementCount > 0, bias.count == channels, mean.count == channels, variance.count == channels else {
            return nil
        }
        let epsilon = Double(bn.float("epsilon") ?? 1e-5)
        let s = (0..<channels).map { Double(scale[$0]) / (Double(variance[$0]) + epsilon).squareRoot() }

        var newW = wv
        var node = producer
        let biasIndex = 2
        var oldBias: [Double]
        switch producer.opType {
        case "Conv":
            guard w.rank >= 3, w.shape[0] == channels else { return nil }
            let per = w.elementCount / channels
            for m in 0..<channels { for k in 0..<per { newW[m * per + k] = Float(Double(wv[m * per + k]) * s[m]) } }
            guard let b = optionalBias(producer.input(biasIndex), count: channels, graph) else { return nil }
            oldBias = b
        case "ConvTranspose":
            let group = producer.int("group") ?? 1
            guard w.rank >= 3, (1...channels).contains(group), w.shape[1] * group == channels, w.shape[0] % group == 0 else { return nil }
            let inPerGroup = w.shape[0] / group
            let outPerGroup = w.shape[1]
            let per = w.elementCount / (w.shape[0] * outPerGroup)
            for c in 0..<w.shape[0] {
                for j in 0..<outPerGroup {
                    let m = (c / inPerGroup) * outPerGroup + j
                    let base = (c * outPerGroup + j) * per
                    for k in 0..<per { newW[base + k] = Float(Double(wv[base + k]) * s[m]) }
                }
            }
            guard let b = optionalBias(producer.input(biasIndex), count: channels, graph) else { return nil }
            oldBias = b
        default:  // Gemm
            guard w.rank == 2 else { return nil }
            let transB = (producer.int("transB") ?? 0) != 0
            let (rows, cols) = (w.shape[0], w.shape[1])
            guard (transB ? rows : cols) == channels else { return nil }
            for r in 0..<rows {
                for c in 0..<cols { newW[r * cols + c] = Float(Double(wv[r * cols + c]) * s[transB ? r : c]) }
            }
            let beta = Double(producer.float("beta") ?? 1)
            guard let b = gemmBias(producer.input(biasIndex), count: channels, graph) else { return nil }
            oldBias = b.map { $0 * beta }
            node.attributes["beta"] = .float(1)
        }
        let newB = (0..<channels).map { Float((oldBias[$0] - Double(mean[$0])) * s[$0] + Double(bias[$0])) }
        let wFolded = names.fresh("\(wName)_bnfolded")
        graph.initializers[wFolded] = try Tensor(floats: newW, shape: w.shape)
        let bFolded = names.fresh("\(producer.input(biasIndex) ?? "\(producer.name)_bias")_bnfolded")
        graph.initializers[bFolded] = try Tensor(floats: newB, shape: [channels])
        report.addedInitializers += [wFolded, bFolded]
        node.inputs[1] = wFolded
        while node.inputs.count <= biasIndex { node.inputs.append("") }
        node.inputs[biasIndex] = bFolded
        node.outputs[0] = bn.outputs[0]
        graph.nodes[p] = node
        graph.valueTypes[x] = nil
        return node.name
    }

    private func constantFloats(_ name: String?, _ graph: Graph) -> [Float]? {
        name.flatMap { graph.constant($0) }.flatMap { $0.rank <= 1 ? $0.floats : nil }
    }

    /// Conv bias: absent means zeros; otherwise a float32 constant of `count` values.
    private func optionalBias(_ name: String?, count: Int, _ graph: Graph) -> [Double]? {
        guard let name else { return Array(repeating: 0, count: count) }
        guard let b = constantFloats(name, graph), b.count == count else { return nil }
        return b.map(Double.init)
    }

    /// Gemm C: absent, a scalar, or one value per output column ([N] or [1, N]).
    private func gemmBias(_ name: String?, count: Int, _ graph: Graph) -> [Double]? {
        guard let name else { return Array(repeating: 0, count: count) }
        guard let t = graph.constant(name), let v = t.floats else { return nil }
        if v.count == 1 { return Array(repeating: Double(v[0]), count: count) }
        guard v.count == count, t.shape.last == count else { return nil }
        return v.map(Double.init)
    }
}
