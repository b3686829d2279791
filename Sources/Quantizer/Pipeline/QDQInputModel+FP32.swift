public import ModelIR

extension QDQInputModel {
    /// The fp32 model a QDQ model stands for: constant int8/int32 tensors behind
    /// DequantizeLinear become their dequantized float values, activation Q → DQ pairs become
    /// Clip to the range the quantized type can hold, s·(qmin − z) … s·(qmax − z): rounding goes,
    /// the clamp stays (ONNX Runtime drops a Relu whose Q has z = qmin: the Q is the Relu). For a
    /// QAT model this is the trained network without fake quantization: the reference its int8
    /// accuracy, agreement and per-layer SQNR are measured against.
    public static func fp32Equivalent(_ model: Model) throws -> Model {
        var g = model.graph
        let index = ValueIndex(g)
        var kept: [Node] = []
        for n in g.nodes {
            let isDQ = n.domain.isEmpty && n.opType == "DequantizeLinear"
            if isDQ, let x = n.input(0), let t = g.constant(x), let y = n.outputs.first {
                g.initializers[y] = try dequantize(t, node: n, graph: g)
                continue
            }
            if isDQ, let x = n.input(0), let p = index.producer[x], g.nodes[p].opType == "QuantizeLinear",
                let source = g.nodes[p].input(0), let y = n.outputs.first,
                let a = try activationParameters(g.nodes[p], graph: g)
            {
                let lo = g.uniqueName(y + "_min"), hi = g.uniqueName(y + "_max")
                g.initializers[lo] = try Tensor(floats: [a.dequantize(a.qmin)], shape: [])
                g.initializers[hi] = try Tensor(floats: [a.dequantize(a.qmax)], shape: [])
                kept.append(Node(name: g.uniqueName(n.name + "_range"), opType: "Clip", inputs: [source, lo, hi], outputs: [y]))
                continue
            }
            if n.domain.isEmpty && n.opType == "QuantizeLinear", let q = n.outputs.first,
                (index.consumers[q] ?? []).allSatisfy({ g.nodes[$0].opType == "DequantizeLinear" }), !g.isGraphOutput(q)
            {
                continue
            }
            kept.append(n)
        }
        g.nodes = kept
        let read = Set(kept.flatMap(\.inputs)).union(g.outputs.map(\.name))
        g.initializers = g.initializers.filter { read.contains($0.key) }
        g.valueTypes = [:]
        do {
            try g.sortTopologically()
            try ShapeInference().run(on: &g)
            try g.validate()
        } catch {
            throw QuantizerError.graph(node: g.name, detail: "cannot build the fp32 equivalent of the QDQ model: \(error)")
        }
        var out = model
        out.graph = g
        return out
    }

    /// scale · (q − zero point), per tensor or along the node's axis.
    static func dequantize(_ t: Tensor, node n: Node, graph g: Graph) throws -> Tensor {
        guard let q = t.asDoubles, let s = n.input(1).flatMap({ g.constant($0) })?.floats, !s.isEmpty else {
            throw QuantizerError.graph(node: n.name, detail: "DequantizeLinear needs a constant input and scale to be folded")
        }
        let z = n.input(2).flatMap { g.constant($0) }?.asDoubles ?? [0]
        var axis = 0, inner = 1, channels = 1
        if s.count > 1 {
            axis = n.int("axis") ?? 1
            if axis < 0 { axis += t.rank }
            guard axis >= 0, axis < t.rank, t.shape[axis] == s.count, z.count == s.count || z.count == 1 else {
                throw QuantizerError.graph(node: n.name, detail: "\(s.count) scales do not match axis \(axis) of shape \(t.shape)")
            }
            channels = s.count
            inner = t.shape[(axis + 1)...].reduce(1, *)
        }
        let out = q.indices.map { i -> Float in
            let c = channels == 1 ? 0 : (i / inner) % channels
            return Float(Double(s[c]) * (q[i] - (z.count == 1 ? z[0] : z[c])))
        }
        return try Tensor(floats: out, shape: t.shape)
    }
}
