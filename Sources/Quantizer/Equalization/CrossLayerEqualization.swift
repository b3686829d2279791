public import ModelIR

/// Cross-layer equalization (Nagel et al., "Data-Free Quantization Through Weight
/// Equalization and Bias Correction", ICCV 2019): for Conv A → (activation) → Conv B where A's
/// output feeds only B, output channel i of A is divided by s_i and input channel i of B
/// multiplied by s_i, with s_i = √(r1_i / r2_i) (r1 = range of A's channel, r2 = range of
/// B's input channel), so both become √(r1·r2). Exact because f(x / s) = f(x) / s for the
/// positive-homogeneous activations: none, Relu, LeakyRelu. Depthwise and grouped convs
/// take part as either layer. Pairs are swept repeatedly until the scales settle, since a
/// layer in two pairs (expand → depthwise → project) is pulled both ways.
///
/// Clip(0, b) (ReLU6) is not homogeneous: clip(x/s, 0, b) ≠ clip(x, 0, b)/s. `ClipPolicy`:
/// `.skip` leaves such pairs alone; `.perChannelBounds` keeps the function exact by turning
/// the fused clip into a fused Relu followed by `Min(y, b/s)` with a per-channel bound
/// tensor [C, 1, 1] (one extra elementwise node per rewritten layer).
public struct CrossLayerEqualization: Sendable {
    public enum ClipPolicy: Sendable { case skip, perChannelBounds }

    public struct Report: Sendable {
        /// (first, second) node names of the equalized pairs.
        public var pairs: [(String, String)] = []
        /// Node name → why it was not equalized with its consumer.
        public var skipped: [(String, String)] = []
        public var sweeps = 0
    }

    public var clipPolicy: ClipPolicy
    public var maxSweeps: Int
    /// Sweeps stop once every |log s_i| of a sweep is below this.
    public var tolerance: Double

    public init(clipPolicy: ClipPolicy = .skip, maxSweeps: Int = 50, tolerance: Double = 1e-4) {
        self.clipPolicy = clipPolicy
        self.maxSweeps = maxSweeps
        self.tolerance = tolerance
    }

    public func run(on graph: inout Graph) throws -> Report {
        var report = Report()
        let index = ValueIndex(graph)
        var layers: [Int: ConvLayer] = [:]
        func layer(_ i: Int) -> ConvLayer? {
            if let l = layers[i] { return l }
            let (l, _) = ConvLayer.read(graph, at: i)
            layers[i] = l
            return l
        }
        var pairs: [(Int, Int)] = []
        /// Upper clip bound per first layer (for `.perChannelBounds`), by node index.
        var bounds: [Int: [Float]] = [:]
        for i in graph.nodes.indices {
            guard let a = layer(i) else { continue }
            let y = a.node.outputs[0]
            func skip(_ why: String) { report.skipped.append((a.node.name, why)) }
            guard !graph.isGraphOutput(y), let readers = index.consumers[y], readers.count == 1 else { continue }
            guard let b = layer(readers[0]), b.node.input(0) == y, !b.node.inputs.dropFirst().contains(y) else { continue }
            guard b.inChannels == a.outChannels else {
                skip("\(b.node.name) reads \(b.inChannels) channels but \(a.outChannels) are produced")
                continue
            }
            guard index.consumerCount(a.weightName) == 1, index.consumerCount(b.weightName) == 1,
                a.node.input(2).map({ index.consumerCount($0) == 1 }) ?? true
            else {
                skip("its weights or bias are shared with another node")
                continue
            }
            switch a.node.fusedActivation {
            case nil, .relu?, .leakyRelu?: break
            case .clip(let lo, let hi)? where lo == 0 && hi > 0 && clipPolicy == .perChannelBounds:
                bounds[i] = [Float](repeating: hi, count: a.outChannels)
            case let act?:
                skip("activation \(act) is not positive-homogeneous (clipPolicy \(clipPolicy))")
                continue
            }
            pairs.append((i, readers[0]))
        }
        for sweep in 1...Swift.max(maxSweeps, 1) {
            report.sweeps = sweep
            var largest = 0.0
            for (ia, ib) in pairs {
                guard var a = layers[ia], var b = layers[ib] else { continue }
                for c in 0..<a.outChannels {
                    let r1 = Double(a.outputRange(c)), r2 = Double(b.inputRange(c))
                    guard r1 > 0, r2 > 0 else { continue }
                    let s = (r1 / r2).squareRoot()
                    largest = Swift.max(largest, Swift.abs(naturalLog(s)))
                    let k = a.inChannelsPerGroup * a.kernelSize
                    for j in (c * k)..<((c + 1) * k) { a.weights[j] = Float(Double(a.weights[j]) / s) }
                    if a.bias != nil { a.bias![c] = Float(Double(a.bias![c]) / s) }
                    if bounds[ia] != nil { bounds[ia]![c] = Float(Double(bounds[ia]![c]) / s) }
                    for j in b.inputChannelIndices(c) { b.weights[j] = Float(Double(b.weights[j]) * s) }
                }
                layers[ia] = a
                layers[ib] = b
            }
            if largest < tolerance { break }
        }
        for (ia, ib) in pairs { report.pairs.append((graph.nodes[ia].name, graph.nodes[ib].name)) }
        let touched = Set(pairs.flatMap { [$0.0, $0.1] })
        for i in touched {
            guard let l = layers[i], let original = graph.initializers[l.weightName] else { continue }
            graph.initializers[l.weightName] = try l.weightTensor(originalShape: original.shape)
            if let bName = l.node.input(2), let b = l.bias { graph.initializers[bName] = try Tensor(floats: b, shape: [b.count]) }
        }
        try insertBounds(bounds, layers: layers, into: &graph)
        return report
    }

    /// Relu + Min(y, bound[C,1,1]) in place of each rewritten Clip(0, b).
    private func insertBounds(_ bounds: [Int: [Float]], layers: [Int: ConvLayer], into graph: inout Graph) throws {
        var names = NameSet(graph)
        for i in bounds.keys.sorted(by: >) {
            guard let bound = bounds[i], let l = layers[i] else { continue }
            let y = graph.nodes[i].outputs[0]
            let raw = names.fresh("\(y)_cle_relu"), boundName = names.fresh("\(y)_cle_bound")
            let spatial = [Int](repeating: 1, count: l.shape.count - 2)
            graph.initializers[boundName] = try Tensor(floats: bound, shape: [bound.count] + spatial)
            graph.nodes[i].outputs[0] = raw
            graph.nodes[i].fusedActivation = .relu
            if let t = graph.valueTypes[y] { graph.valueTypes[raw] = t }
            let minNode = Node(name: names.fresh("\(graph.nodes[i].name)_cle_min"), opType: "Min", inputs: [raw, boundName], outputs: [y])
            graph.nodes.insert(minNode, at: i + 1)
        }
    }

    /// Per Conv node with constant weights: max / median of its per-output-channel ranges
    /// (max |w|), the spread that per-tensor quantization suffers from.
    public static func channelRangeSpread(_ graph: Graph) -> [String: Double] {
        var result: [String: Double] = [:]
        for i in graph.nodes.indices {
            guard let l = ConvLayer.read(graph, at: i).0, l.outChannels > 1 else { continue }
            let ranges = (0..<l.outChannels).map { Double(l.outputRange($0)) }.sorted()
            let median = ranges.count % 2 == 1 ? ranges[ranges.count / 2] : (ranges[ranges.count / 2 - 1] + ranges[ranges.count / 2]) / 2
            if median > 0, let top = ranges.last { result[l.node.name] = top / median }
        }
        return result
    }
}
