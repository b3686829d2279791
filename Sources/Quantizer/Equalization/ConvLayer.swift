import ModelIR

/// A Conv node with constant fp32 OIHW weights (and optional constant bias), read out of a
/// graph for rewriting: the passes change `weights`/`bias` and write them back.
struct ConvLayer {
    let nodeIndex: Int
    let node: Node
    let weightName: String
    var weights: [Float]
    /// [Cout, Cin/group, kh, kw] (1-D convs have kw = 1).
    let shape: [Int]
    let group: Int
    var bias: [Float]?

    var outChannels: Int { shape[0] }
    var inChannelsPerGroup: Int { shape[1] }
    var inChannels: Int { shape[1] * group }
    var kernelSize: Int { shape[2...].reduce(1, *) }
    var outPerGroup: Int { shape[0] / group }

    /// nil (with the reason) when the node is not a Conv this module can rewrite.
    static func read(_ graph: Graph, at i: Int) -> (ConvLayer?, String?) {
        let node = graph.nodes[i]
        guard node.domain.isEmpty, node.opType == "Conv" else { return (nil, nil) }
        guard let wName = node.input(1), let w = graph.constant(wName), let floats = w.floats else {
            return (nil, "weights are not a constant float32 initializer")
        }
        guard w.rank == 4 || w.rank == 3 else { return (nil, "only 1-D and 2-D convolutions are handled (weights \(w.shape))") }
        let group = node.int("group") ?? 1
        guard group >= 1, w.shape[0] % group == 0, w.shape.allSatisfy({ $0 > 0 }) else {
            return (nil, "group \(group) does not divide the \(w.shape[0]) output channels")
        }
        var bias: [Float]?
        if let bName = node.input(2) {
            guard let b = graph.constant(bName)?.floats, b.count == w.shape[0] else {
                return (nil, "bias is not a constant float32 vector of \(w.shape[0]) values")
            }
            bias = b
        }
        let shape = w.rank == 4 ? w.shape : w.shape + [1]
        return (ConvLayer(nodeIndex: i, node: node, weightName: wName, weights: floats, shape: shape, group: group, bias: bias), nil)
    }

    /// max |w| over output channel o.
    func outputRange(_ o: Int) -> Float {
        let k = inChannelsPerGroup * kernelSize
        var m: Float = 0
        for j in 0..<k { m = Swift.max(m, Swift.abs(weights[o * k + j])) }
        return m
    }

    /// The flat weight indices reading input channel c (every output of c's group).
    func inputChannelIndices(_ c: Int) -> [Int] {
        let g = c / inChannelsPerGroup, local = c % inChannelsPerGroup
        var result: [Int] = []
        result.reserveCapacity(outPerGroup * kernelSize)
        for o in (g * outPerGroup)..<((g + 1) * outPerGroup) {
            let base = (o * inChannelsPerGroup + local) * kernelSize
            for t in 0..<kernelSize { result.append(base + t) }
        }
        return result
    }

    func inputRange(_ c: Int) -> Float {
        inputChannelIndices(c).reduce(Float(0)) { Swift.max($0, Swift.abs(weights[$1])) }
    }

    func weightTensor(originalShape: [Int]) throws -> Tensor { try Tensor(floats: weights, shape: originalShape) }
}
