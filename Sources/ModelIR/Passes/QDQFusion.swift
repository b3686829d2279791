/// Rewrites QDQ patterns (DequantizeLinear → op → QuantizeLinear) into the canonical int8
/// form, QOperator ops (docs/int8-runtime.md):
///
/// - Conv / MatMul / Gemm with constant int8 weights (and an int32, or float, bias) →
///   QLinearConv / QLinearMatMul / com.microsoft QGemm; a Relu or Clip between the op and Q
///   (or already fused into it) becomes the output clamp (`fusedActivation`).
/// - Add / Mul → com.microsoft QLinearAdd / QLinearMul; Concat → QLinearConcat (or a plain
///   Concat of the int8 values when every scale matches); AveragePool / GlobalAveragePool →
///   QLinearAveragePool / QLinearGlobalAveragePool.
/// - Sigmoid, LeakyRelu → com.microsoft QLinearSigmoid / QLinearLeakyRelu; HardSigmoid,
///   HardSwish, Tanh and a standalone Relu / Clip → flotilla:QLinearLookup (a 256-entry table).
/// - Ops that only move or select values (Reshape, Transpose, MaxPool, nearest Resize, …)
///   run on the int8 values directly when their DQ and Q carry the same parameters.
///
/// Anything else is left as DQ → fp32 op → Q: a mixed graph whose fp32 islands run on the fp32
/// ops. DequantizeLinear nodes nobody reads any more are removed.
public struct QDQFusion: Pass {
    public let name = "qdq-fusion"
    /// Constants that are not initializers (weights an artifact carries pre-packed), by name,
    /// with their logical type: they count as constant int8 weights.
    public var externalConstants: [String: TensorType]

    public init(externalConstants: [String: TensorType] = [:]) { self.externalConstants = externalConstants }

    static let selectionOps: Set<String> = [
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "MaxPool", "GlobalMaxPool", "Slice", "Gather", "Split",
        "Identity", "Expand", "Tile", "Resize", "DepthToSpace", "SpaceToDepth",
    ]
    static let lookupOps: Set<String> = ["Sigmoid", "LeakyRelu", "HardSigmoid", "HardSwish", "Tanh", "Relu", "Clip"]

    public func run(on model: inout Model) throws -> PassReport {
        var graph = model.graph
        let report = fuse(&graph)
        model.graph = graph
        return report
    }

    /// Fuses in place and reports what changed. The node order stays topological.
    @discardableResult
    public func fuse(_ graph: inout Graph) -> PassReport {
        var f = QDQFuser(graph: graph, external: externalConstants, report: PassReport(pass: name))
        guard graph.nodes.contains(where: { $0.opType == "DequantizeLinear" && $0.domain.isEmpty }) else { return f.report }
        f.run()
        graph = f.graph
        return f.report
    }
}

/// Quantization parameters of one DQ or Q node, read from its constant inputs.
struct QDQParams: Equatable {
    var scales: [Float]
    var zeroPoints: [Int64]
    var type: ElementType
    var axis: Int?
    var scaleName: String
    var zeroPointName: String?

    var isPerTensor: Bool { scales.count == 1 }

    func sameQuantization(_ o: QDQParams) -> Bool { scales == o.scales && zeroPoints == o.zeroPoints && type == o.type }
}

struct QDQFuser {
    var graph: Graph
    let external: [String: TensorType]
    var report: PassReport
    var index: ValueIndex
    var names: NameSet
    var removed: Set<Int> = []

    init(graph: Graph, external: [String: TensorType], report: PassReport) {
        self.graph = graph
        self.external = external
        self.report = report
        index = ValueIndex(graph)
        names = NameSet(graph)
    }

    mutating func run() {
        for i in graph.nodes.indices where !removed.contains(i) {
            let node = graph.nodes[i]
            guard node.domain.isEmpty else { continue }
            let removedBefore = removed
            if let replacement = rewrite(i, node) {
                graph.nodes[i] = replacement
                report.modifiedNodes.append(replacement.name)
                report.fusedFrom[replacement.name] = sources(of: i, original: node, replacement: replacement, removedBefore: removedBefore)
            }
        }
        graph.removeNodes(at: removed)
        removeUnreadDequantize()
    }

    /// The nodes a rewrite of node `i` absorbed, in graph order: the DequantizeLinear nodes
    /// whose outputs it no longer reads, itself, and the Relu/Clip and Q it consumed.
    func sources(of i: Int, original: Node, replacement: Node, removedBefore: Set<Int>) -> [String] {
        let kept = Set(replacement.inputs)
        var indices: Set<Int> = [i]
        for input in original.inputs where !input.isEmpty && !kept.contains(input) {
            if let p = index.producer[input], graph.nodes[p].opType == "DequantizeLinear", graph.nodes[p].domain.isEmpty {
                indices.insert(p)
            }
        }
        indices.formUnion(removed.subtracting(removedBefore))
        return indices.sorted().map { graph.nodes[$0].name }
    }

    // MARK: reading the pattern

    func constantTensor(_ name: String) -> Tensor? { graph.constant(name) }

    /// The element type of a quantized value (initializer, typed value, external constant, or
    /// the output of a QuantizeLinear).
    func elementType(of value: String) -> ElementType? {
        if let t = external[value] { return t.elementType }
        if let t = graph.type(of: value) { return t.elementType }
        if let p = index.producer[value], graph.nodes[p].opType == "QuantizeLinear" { return quantizeOutputType(graph.nodes[p]) }
        return nil
    }

    func quantizeOutputType(_ q: Node) -> ElementType? {
        if let zp = q.input(2) { return constantTensor(zp)?.elementType ?? graph.type(of: zp)?.elementType }
        return q.string("output_dtype").flatMap(ElementType.init(rawValue:)) ?? .uint8
    }

    /// Parameters of a DQ/Q node from constant scale and zero point (nil if they are not
    /// constants, blocked, or of an unexpected type).
    func params(_ node: Node, valueType: ElementType?) -> QDQParams? {
        guard (node.int("block_size") ?? 0) == 0, let sName = node.input(1), let s = constantTensor(sName), let scales = s.floats,
            s.rank <= 1, !scales.isEmpty, scales.allSatisfy({ $0.isFinite && $0 > 0 })
        else { return nil }
        var zps = [Int64](repeating: 0, count: scales.count)
        var type = valueType
        if let zName = node.input(2) {
            guard let z = constantTensor(zName), let v = z.asInt64s else { return nil }
            type = z.elementType
            zps = v.count == 1 && scales.count > 1 ? [Int64](repeating: v[0], count: scales.count) : v
        }
        guard let type, zps.count == scales.count else { return nil }
        return QDQParams(
            scales: scales, zeroPoints: zps, type: type, axis: scales.count > 1 ? (node.int("axis") ?? 1) : nil,
            scaleName: sName, zeroPointName: node.input(2))
    }

    /// `value` produced by a DequantizeLinear: (the quantized input, its parameters).
    func dequantized(_ value: String) -> (q: String, p: QDQParams)? {
        guard let pi = index.producer[value], !removed.contains(pi) else { return nil }
        let dq = graph.nodes[pi]
        guard dq.opType == "DequantizeLinear", dq.domain.isEmpty, let x = dq.input(0),
            let p = params(dq, valueType: elementType(of: x))
        else { return nil }
        return (x, p)
    }

    /// An 8-bit activation input: per-tensor DQ of uint8/int8.
    func activation(_ value: String?) -> (q: String, p: QDQParams)? {
        guard let value, let d = dequantized(value), d.p.isPerTensor, [.uint8, .int8].contains(d.p.type) else { return nil }
        return d
    }

    /// A constant int8/uint8 weight behind a DQ.
    func weight(_ value: String?) -> (q: String, p: QDQParams, shape: [Int])? {
        guard let value, let d = dequantized(value), [.uint8, .int8].contains(d.p.type) else { return nil }
        if let t = constantTensor(d.q) { return (d.q, d.p, t.shape) }
        if let t = external[d.q], let dims = t.shape?.concrete { return (d.q, d.p, dims) }
        return nil
    }

    /// The QuantizeLinear that is the only reader of `value` — possibly through one Relu or
    /// Clip (constant bounds), returned as the activation to fuse.
    func quantized(_ value: String) -> (qIndex: Int, p: QDQParams, output: String, between: Int?, act: Activation?)? {
        guard !graph.isGraphOutput(value), let readers = index.consumers[value], readers.count == 1 else { return nil }
        var r = readers[0]
        var between: Int?
        var act: Activation?
        let n = graph.nodes[r]
        if n.domain.isEmpty, n.opType == "Relu" || n.opType == "Clip", let a = ActivationFusion.activation(of: n, graph),
            let out = n.outputs.first, !graph.isGraphOutput(out), let next = index.consumers[out], next.count == 1
        {
            between = r
            act = a
            r = next[0]
        }
        let q = graph.nodes[r]
        guard !removed.contains(r), q.opType == "QuantizeLinear", q.domain.isEmpty, let out = q.outputs.first,
            let p = params(q, valueType: quantizeOutputType(q)), p.isPerTensor, [.uint8, .int8].contains(p.type)
        else { return nil }
        return (r, p, out, between, act)
    }

    // MARK: rewriting

    /// Merges a fused activation already on the op with one found between op and Q; nil when
    /// the result is not a clamp (Relu, Clip).
    func clampActivation(_ a: Activation?, _ b: Activation?) -> Activation?? {
        switch (a, b) {
        case (nil, nil): return .some(nil)
        case (let x?, nil), (nil, let x?):
            switch x {
            case .relu, .clip: return .some(x)
            default: return nil
            }
        default: return nil
        }
    }

    /// A zero-point input name for `p` (its own, or a new zero initializer of its type).
    mutating func zeroPointName(_ p: QDQParams) -> String {
        if let z = p.zeroPointName { return z }
        let name = names.fresh("\(p.scaleName)_zero_point")
        let t: Tensor? = p.type == .int8 ? try? Tensor(int8s: [0], shape: []) : try? Tensor(uint8s: [0], shape: [])
        graph.initializers[name] = t
        report.addedInitializers.append(name)
        return name
    }

    /// Consumes the Q (and a Relu/Clip between): the fused node writes the Q's output.
    mutating func consume(_ q: (qIndex: Int, p: QDQParams, output: String, between: Int?, act: Activation?), _ old: String) {
        removed.insert(q.qIndex)
        report.removedNodes.append(graph.nodes[q.qIndex].name)
        if let b = q.between {
            removed.insert(b)
            report.removedNodes.append(graph.nodes[b].name)
            graph.valueTypes[graph.nodes[b].outputs[0]] = nil
        }
        graph.valueTypes[old] = nil
    }

    mutating func rewrite(_ i: Int, _ node: Node) -> Node? {
        switch node.opType {
        case "Conv", "MatMul", "Gemm": return rewriteGemmLike(node)
        case "Add", "Mul": return rewriteBinary(node)
        case "Concat": return rewriteConcat(node)
        case "AveragePool", "GlobalAveragePool": return rewritePool(node)
        case let op where QDQFusion.lookupOps.contains(op): return rewriteLookup(node)
        case let op where QDQFusion.selectionOps.contains(op): return rewriteSelection(node)
        default: return nil
        }
    }
}

// MARK: the op families

extension QDQFuser {
    /// Conv → QLinearConv, MatMul → QLinearMatMul, Gemm → com.microsoft QGemm.
    mutating func rewriteGemmLike(_ node: Node) -> Node? {
        let weightIndex = 1
        guard let x = activation(node.input(0)), let w = weight(node.input(weightIndex)), let out = node.outputs.first,
            node.outputs.count == 1, let q = quantized(out), let act = clampActivation(node.fusedActivation, q.act)
        else { return nil }
        // Channel count and the axis per-channel weight scales must lie on.
        let channels: Int, axis: Int
        switch node.opType {
        case "Conv":
            guard w.shape.count >= 3 else { return nil }
            (channels, axis) = (w.shape[0], 0)
        case "MatMul":
            guard w.shape.count == 2 else { return nil }
            (channels, axis) = (w.shape[1], 1)
        default:
            guard w.shape.count == 2 else { return nil }
            let transB = (node.int("transB") ?? 0) != 0
            (channels, axis) = transB ? (w.shape[0], 0) : (w.shape[1], 1)
        }
        if !w.p.isPerTensor {
            guard w.p.scales.count == channels, let a = w.p.axis, a == axis || a == axis - w.shape.count else { return nil }
        }
        // Bias: int32 in units of s_x·s_w[c] (and, for QGemm, divided by alpha, which the
        // runtime folds into the requantization).
        var biasName = ""
        let biasIndex = node.opType == "Conv" ? 2 : (node.opType == "Gemm" ? 2 : -1)
        if biasIndex > 0, let b = node.input(biasIndex) {
            let alpha = Double(node.float("alpha") ?? 1), beta = node.opType == "Gemm" ? Double(node.float("beta") ?? 1) : 1
            guard let name = int32Bias(b, x: x.p, w: w.p, channels: channels, factor: beta / alpha) else { return nil }
            biasName = name
        } else if node.opType == "MatMul" {
            biasName = ""
        }
        consume(q, out)
        let xz = zeroPointName(x.p), yz = zeroPointName(q.p)
        var fused: Node
        switch node.opType {
        case "Conv":
            var inputs = [x.q, x.p.scaleName, xz, w.q, w.p.scaleName, w.p.zeroPointName ?? "", q.p.scaleName, yz]
            if !biasName.isEmpty { inputs.append(biasName) }
            fused = Node(name: node.name, opType: "QLinearConv", inputs: inputs, outputs: [q.output], attributes: node.attributes)
        case "MatMul":
            fused = Node(
                name: node.name, opType: "QLinearMatMul",
                inputs: [
                    x.q, x.p.scaleName, xz, w.q, w.p.scaleName,
                    w.p.zeroPointName ?? "", q.p.scaleName, yz,
                ],
                outputs: [q.output])
        default:
            var attrs = node.attributes
            attrs["beta"] = nil
            fused = Node(
                name: node.name, opType: "QGemm", domain: "com.microsoft",
                inputs: [x.q, x.p.scaleName, xz, w.q, w.p.scaleName, w.p.zeroPointName ?? "", biasName, q.p.scaleName, yz],
                outputs: [q.output], attributes: attrs)
        }
        fused.fusedActivation = act
        return fused
    }

    /// The bias as int32 in units of s_x·s_w[c]·factor: the original name when it already is
    /// exactly that (a DQ of int32 with those scales, zero point 0), else a new initializer;
    /// nil when the bias is not constant or does not fit the contract (|bias| ≤ 2³⁰).
    mutating func int32Bias(_ value: String, x: QDQParams, w: QDQParams, channels: Int, factor: Double) -> String? {
        var real: [Double]
        var original: (name: String, p: QDQParams)?
        if let d = dequantized(value), d.p.type == .int32, let t = constantTensor(d.q), let v = t.int32s {
            let s = d.p.scales.count == 1 ? [Float](repeating: d.p.scales[0], count: v.count) : d.p.scales
            let z = d.p.zeroPoints.count == 1 ? [Int64](repeating: d.p.zeroPoints[0], count: v.count) : d.p.zeroPoints
            guard s.count == v.count, z.count == v.count else { return nil }
            real = v.indices.map { Double(s[$0]) * Double(Int64(v[$0]) - z[$0]) }
            original = (d.q, d.p)
        } else if let t = constantTensor(value), let f = t.floats {
            real = f.map(Double.init)
        } else {
            return nil
        }
        if real.count == 1, channels > 1 { real = [Double](repeating: real[0], count: channels) }
        guard real.count == channels else { return nil }
        let ws = w.scales.count == 1 ? [Float](repeating: w.scales[0], count: channels) : w.scales
        var q = [Int32](repeating: 0, count: channels)
        for c in 0..<channels {
            let unit = Double(x.scales[0]) * Double(ws[c])
            let v = (real[c] * factor / unit).rounded(.toNearestOrEven)
            guard abs(v) <= Double(1 << 30) else { return nil }
            q[c] = Int32(v)
        }
        if let o = original, factor == 1, o.p.zeroPoints.allSatisfy({ $0 == 0 }),
            o.p.scales.count == channels || o.p.scales.count == 1,
            (0..<channels).allSatisfy({ o.p.scales[o.p.scales.count == 1 ? 0 : $0] == x.scales[0] * ws[$0] }),
            constantTensor(o.name)?.int32s == q
        {
            return o.name
        }
        let name = names.fresh("\(value)_int32")
        graph.initializers[name] = try? Tensor(int32s: q, shape: [channels])
        report.addedInitializers.append(name)
        return name
    }

    /// Add, Mul → com.microsoft QLinearAdd / QLinearMul.
    mutating func rewriteBinary(_ node: Node) -> Node? {
        guard let a = activation(node.input(0)), let b = activation(node.input(1)), let out = node.outputs.first, let q = quantized(out),
            let act = clampActivation(node.fusedActivation, q.act)
        else { return nil }
        consume(q, out)
        let az = zeroPointName(a.p), bz = zeroPointName(b.p), yz = zeroPointName(q.p)
        var fused = Node(
            name: node.name, opType: node.opType == "Add" ? "QLinearAdd" : "QLinearMul", domain: "com.microsoft",
            inputs: [a.q, a.p.scaleName, az, b.q, b.p.scaleName, bz, q.p.scaleName, yz], outputs: [q.output])
        fused.fusedActivation = act
        return fused
    }

    /// Concat → a plain Concat of the int8 values (every input quantized like the output) or
    /// com.microsoft QLinearConcat.
    mutating func rewriteConcat(_ node: Node) -> Node? {
        let parts = node.inputs.map { activation($0) }
        guard !parts.isEmpty, let out = node.outputs.first, let q = quantized(out), q.act == nil else { return nil }
        var xs: [(q: String, p: QDQParams)] = []
        for p in parts {
            guard let p, p.p.type == q.p.type else { return nil }
            xs.append(p)
        }
        consume(q, out)
        if xs.allSatisfy({ $0.p.sameQuantization(q.p) }) {
            return Node(name: node.name, opType: "Concat", inputs: xs.map(\.q), outputs: [q.output], attributes: node.attributes)
        }
        var inputs = [q.p.scaleName, zeroPointName(q.p)]
        for x in xs { inputs += [x.q, x.p.scaleName, zeroPointName(x.p)] }
        return Node(
            name: node.name, opType: "QLinearConcat", domain: "com.microsoft", inputs: inputs, outputs: [q.output],
            attributes: node.attributes)
    }

    /// AveragePool / GlobalAveragePool → com.microsoft QLinearAveragePool / QLinearGlobalAveragePool.
    mutating func rewritePool(_ node: Node) -> Node? {
        guard let x = activation(node.input(0)), let out = node.outputs.first, node.outputs.count == 1, let q = quantized(out),
            q.act == nil, q.p.type == x.p.type, (node.ints("dilations") ?? []).allSatisfy({ $0 == 1 })
        else { return nil }
        consume(q, out)
        let inputs = [x.q, x.p.scaleName, zeroPointName(x.p), q.p.scaleName, zeroPointName(q.p)]
        var attrs = node.attributes
        attrs["dilations"] = nil
        return Node(
            name: node.name, opType: node.opType == "AveragePool" ? "QLinearAveragePool" : "QLinearGlobalAveragePool",
            domain: "com.microsoft", inputs: inputs, outputs: [q.output], attributes: attrs)
    }

    /// Table activations → QLinearSigmoid / QLinearLeakyRelu (com.microsoft) or
    /// flotilla:QLinearLookup with `function` (and alpha, beta, min, max) attributes.
    mutating func rewriteLookup(_ node: Node) -> Node? {
        guard let x = activation(node.input(0)), let out = node.outputs.first, let act = ActivationFusion.activation(of: node, graph)
        else { return nil }
        // A Relu/Clip directly before Q is also what `quantized` folds; here it has no op before it.
        guard let q = quantized(out), q.act == nil else { return nil }
        consume(q, out)
        let inputs = [x.q, x.p.scaleName, zeroPointName(x.p), q.p.scaleName, zeroPointName(q.p)]
        switch act {
        case .sigmoid:
            return Node(name: node.name, opType: "QLinearSigmoid", domain: "com.microsoft", inputs: inputs, outputs: [q.output])
        case .leakyRelu(let alpha):
            return Node(
                name: node.name, opType: "QLinearLeakyRelu", domain: "com.microsoft", inputs: inputs, outputs: [q.output],
                attributes: ["alpha": .float(alpha)])
        case .hardSigmoid(let alpha, let beta):
            return lookup(node, "HardSigmoid", inputs, q.output, ["alpha": .float(alpha), "beta": .float(beta)])
        case .hardSwish: return lookup(node, "HardSwish", inputs, q.output, [:])
        case .tanh: return lookup(node, "Tanh", inputs, q.output, [:])
        case .relu: return lookup(node, "Relu", inputs, q.output, [:])
        case .clip(let lo, let hi): return lookup(node, "Clip", inputs, q.output, ["min": .float(lo), "max": .float(hi)])
        }
    }

    func lookup(_ node: Node, _ function: String, _ inputs: [String], _ output: String, _ attrs: [String: Attribute]) -> Node {
        var a = attrs
        a["function"] = .string(function)
        return Node(name: node.name, opType: "QLinearLookup", domain: "flotilla", inputs: inputs, outputs: [output], attributes: a)
    }

    /// Ops that move or select values run on the int8 input when every output is re-quantized
    /// with the input's own parameters (so DQ → op → Q is the identity on the bytes).
    mutating func rewriteSelection(_ node: Node) -> Node? {
        guard let x = activation(node.input(0)), node.fusedActivation == nil else { return nil }
        if node.opType == "Resize", (node.string("mode") ?? "nearest") != "nearest" { return nil }
        var qs: [(qIndex: Int, p: QDQParams, output: String, between: Int?, act: Activation?)] = []
        for o in node.outputs where !o.isEmpty {
            guard let q = quantized(o), q.act == nil, q.p.sameQuantization(x.p) else { return nil }
            qs.append(q)
        }
        guard !qs.isEmpty else { return nil }
        var fused = node
        fused.inputs[0] = x.q
        var k = 0
        for (j, o) in node.outputs.enumerated() where !o.isEmpty {
            consume(qs[k], o)
            fused.outputs[j] = qs[k].output
            k += 1
        }
        return fused
    }

    /// DequantizeLinear nodes whose output nothing reads any more (their readers were fused).
    mutating func removeUnreadDequantize() {
        let idx = ValueIndex(graph)
        var drop: Set<Int> = []
        for (i, n) in graph.nodes.enumerated() where n.opType == "DequantizeLinear" && n.domain.isEmpty {
            guard let o = n.outputs.first, idx.consumerCount(o) == 0, !graph.isGraphOutput(o) else { continue }
            drop.insert(i)
            graph.valueTypes[o] = nil
            report.removedNodes.append(n.name)
        }
        graph.removeNodes(at: drop)
    }
}
