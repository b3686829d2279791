import ModelIR

/// Writes the QDQ graph: QuantizeLinear → DequantizeLinear after every quantized activation
/// (the DequantizeLinear output keeps the fp32 value's name, so readers and graph outputs need
/// no rewiring), DequantizeLinear in front of int8 weights, int32 biases and quantized
/// constants. The ops themselves are left as they were: ONNX Runtime runs this form directly,
/// Flotilla's runtime fuses it (`QDQFusion`).
struct QDQEmitter {
    var graph: Graph
    let profile: HardwareClass
    let parameters: [String: AffineParameters]
    let selection: StaticQuantizer.Selection
    var warnings: [String] = []
    var quantizedNames: [String: String] = [:]
    private var names: NameSet
    private var replaced: Set<String> = []

    init(graph: Graph, profile: HardwareClass, parameters: [String: AffineParameters], selection: StaticQuantizer.Selection) {
        self.graph = graph
        self.profile = profile
        self.parameters = parameters
        self.selection = selection
        names = NameSet(graph)
    }

    mutating func emit() throws {
        let source = graph
        var nodes: [Node] = []
        var rename: [String: String] = [:]
        for input in source.inputs where source.constant(input.name) == nil {
            guard let p = parameters[input.name] else { continue }
            let dq = names.fresh(input.name + "_dequantized")
            nodes += try qdq(input.name, output: dq, key: input.name, p)
            rename[input.name] = dq
        }
        var constantDQ: [String: String] = [:]
        for original in source.nodes {
            var n = original
            n.inputs = n.inputs.map { rename[$0] ?? $0 }
            var after: [Node] = []
            if selection.quantized.contains(n.name) {
                for i in StaticQuantizer.Selection.dataInputs(n) where i < n.inputs.count {
                    let c = original.inputs[i]
                    guard let t = source.constant(c), t.elementType == .float32, let p = parameters[c] else { continue }
                    if constantDQ[c] == nil { constantDQ[c] = try quantizeConstant(c, t, p, into: &nodes) }
                    n.inputs[i] = constantDQ[c] ?? c
                }
                if StaticQuantizer.weightedOps.contains(n.opType) { try quantizeWeights(&n, original: original, into: &nodes) }
                for i in StaticQuantizer.Selection.dataOutputs(n) where i < n.outputs.count {
                    let o = original.outputs[i]
                    guard !o.isEmpty, let p = parameters[o] else { continue }
                    let f = names.fresh(o + "_float")
                    n.outputs[i] = f
                    after += try qdq(f, output: o, key: o, p)
                }
            }
            nodes.append(n)
            nodes += after
        }
        graph.nodes = nodes
        let read = Set(nodes.flatMap(\.inputs)).union(graph.outputs.map(\.name))
        for r in replaced where !read.contains(r) && !source.nodes.contains(where: { !$0.subgraphs.isEmpty }) {
            graph.initializers[r] = nil
        }
        graph.valueTypes = [:]
        do {
            try ShapeInference().run(on: &graph)
            try graph.validate()
        } catch {
            throw QuantizerError.graph(node: graph.name, detail: "the emitted QDQ graph is invalid: \(error)")
        }
    }

    /// Q(value) → DQ → `output`, with scalar scale and zero point initializers.
    private mutating func qdq(_ value: String, output: String, key: String, _ p: AffineParameters) throws -> [Node] {
        let s = names.fresh(key + "_scale"), z = names.fresh(key + "_zero_point"), q = names.fresh(key + "_quantized")
        graph.initializers[s] = try Tensor(floats: [p.scale], shape: [])
        graph.initializers[z] = try zeroPoint(p)
        quantizedNames[key] = q
        return [
            Node(name: names.fresh(key + "_QuantizeLinear"), opType: "QuantizeLinear", inputs: [value, s, z], outputs: [q]),
            Node(name: names.fresh(key + "_DequantizeLinear"), opType: "DequantizeLinear", inputs: [q, s, z], outputs: [output]),
        ]
    }

    private func zeroPoint(_ p: AffineParameters) throws -> Tensor {
        p.elementType == .uint8
            ? try Tensor(uint8s: [UInt8(clamping: p.zeroPoint)], shape: [])
            : try Tensor(int8s: [Int8(clamping: p.zeroPoint)], shape: [])
    }

    /// A constant data operand (an Add's bias tensor) stored in the activation type.
    private mutating func quantizeConstant(_ name: String, _ t: Tensor, _ p: AffineParameters, into nodes: inout [Node]) throws -> String {
        let values = (t.floats ?? []).map { p.quantize($0) }
        let q = names.fresh(name + "_quantized"), s = names.fresh(name + "_scale"), z = names.fresh(name + "_zero_point")
        graph.initializers[q] =
            p.elementType == .uint8
            ? try Tensor(uint8s: values.map { UInt8(clamping: $0) }, shape: t.shape)
            : try Tensor(int8s: values.map { Int8(clamping: $0) }, shape: t.shape)
        graph.initializers[s] = try Tensor(floats: [p.scale], shape: [])
        graph.initializers[z] = try zeroPoint(p)
        let out = names.fresh(name + "_dequantized")
        nodes.append(Node(name: names.fresh(name + "_DequantizeLinear"), opType: "DequantizeLinear", inputs: [q, s, z], outputs: [out]))
        replaced.insert(name)
        return out
    }

    /// Output-channel axis of the weights: Conv OIHW 0; Gemm 0 with transB = 1, else 1; MatMul [K, N] 1.
    static func channelAxis(_ node: Node) -> Int {
        switch node.opType {
        case "Conv": return 0
        case "Gemm": return (node.int("transB") ?? 0) == 1 ? 0 : 1
        default: return 1
        }
    }

    private mutating func quantizeWeights(_ n: inout Node, original: Node, into nodes: inout [Node]) throws {
        guard let wName = original.input(1), let w = graph.constant(wName) else { return }
        let axis = Self.channelAxis(original)
        let qw = try WeightQuantization.quantize(
            w, name: wName, granularity: profile.weightGranularity, axis: axis, bits: profile.weightBits)
        let perChannel = qw.axis != nil
        let q = names.fresh(wName + "_quantized"), s = names.fresh(wName + "_scale"), z = names.fresh(wName + "_zero_point")
        graph.initializers[q] = try qw.tensor().tensor
        let scaleShape = perChannel ? [qw.scales.count] : []
        graph.initializers[s] = try Tensor(floats: qw.scales, shape: scaleShape)
        graph.initializers[z] = try Tensor(int8s: [Int8](repeating: 0, count: qw.scales.count), shape: scaleShape)
        let dq = names.fresh(wName + "_dequantized")
        nodes.append(
            Node(
                name: names.fresh(wName + "_DequantizeLinear"), opType: "DequantizeLinear", inputs: [q, s, z], outputs: [dq],
                attributes: perChannel ? ["axis": .int(axis)] : [:]))
        n.inputs[1] = dq
        replaced.insert(wName)
        try quantizeBias(&n, original: original, weights: qw, channels: w.shape[axis], into: &nodes)
    }

    /// int32 bias with scale s_x·s_w[c]. A Gemm with alpha or beta ≠ 1, or a bias that is not
    /// one value per output channel, keeps its float bias (QDQFusion accepts a float bias).
    private mutating func quantizeBias(
        _ n: inout Node, original: Node, weights qw: QuantizedWeights, channels: Int, into nodes: inout [Node]
    ) throws {
        guard let bName = original.input(2), let b = graph.constant(bName), let bf = b.floats,
            let x = original.input(0), let px = parameters[x]
        else { return }
        if original.opType == "Gemm" && ((original.float("alpha") ?? 1) != 1 || (original.float("beta") ?? 1) != 1) {
            warnings.append("\(original.name): Gemm alpha/beta ≠ 1, bias left in float")
            return
        }
        guard b.rank == 1, bf.count == channels else {
            warnings.append("\(original.name): bias '\(bName)' of shape \(b.shape) is not one value per output channel; left in float")
            return
        }
        let qb = try QuantizedBias.quantize(bf, inputScale: px.scale, weightScales: qw.scales, tensor: bName)
        if let report = qb.saturationReport(tensor: bName) { warnings.append(report) }
        let perChannel = qw.axis != nil
        let q = names.fresh(bName + "_quantized"), s = names.fresh(bName + "_scale")
        graph.initializers[q] = try Tensor(int32s: qb.values, shape: [bf.count])
        graph.initializers[s] =
            perChannel ? try Tensor(floats: qb.scales, shape: [bf.count]) : try Tensor(floats: [qb.scales.first ?? 1], shape: [])
        let dq = names.fresh(bName + "_dequantized")
        nodes.append(
            Node(
                name: names.fresh(bName + "_DequantizeLinear"), opType: "DequantizeLinear", inputs: [q, s], outputs: [dq],
                attributes: perChannel ? ["axis": .int(0)] : [:]))
        n.inputs[2] = dq
        replaced.insert(bName)
    }
}
