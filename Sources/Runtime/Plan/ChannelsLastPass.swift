internal import CKernels
import ModelIR

/// Keeps int8 activations channels-last (NHWC) between the convolutions whose NHWC kernels the
/// int8 path has, so the depthwise kernels stop transposing planes in and out and the pointwise
/// GEMMs stop repacking their activations (docs/int8-runtime.md, "Channels-last activations").
///
/// Runs on the fused graph, before planning. An eligible QLinearConv (2-D pointwise 1×1 with
/// stride 1, no padding and one group: `gemm_nhwc`; depthwise: `dwconv_nhwc`) becomes
/// com.microsoft:QLinearConv with channels_last = 1 (ONNX Runtime's contrib form, which the
/// runtime also accepts from a model); elementwise int8 ops whose data inputs are all NHWC
/// follow them (broadcasting of two rank-4 tensors commutes with permuting both). A value an
/// NHWC op writes is renamed (`name` + `suffix`), so every original name still means NCHW
/// data: a Transpose back is inserted after the producer when anything else reads it (an NCHW
/// op, a subgraph, a graph output), and a Transpose in before the first NHWC reader of an NCHW
/// value. A conv that would need both a transpose in and a transpose out for itself alone
/// stays NCHW. Only layouts change, never arithmetic: outputs are bit-identical either way.
struct ChannelsLastPass {
    /// Appended to the name of a value held NHWC (and of the transposes that make them).
    static let suffix = "__nhwc"
    static let toNHWC = [0, 2, 3, 1]
    static let toNCHW = [0, 3, 1, 2]

    let table: UnsafePointer<flotilla_q8_kernels>
    /// The logical shape of a QLinearConv's weights (an initializer, or a pre-packed weight).
    let weightShape: (String) -> [Int]?

    /// Rewrites `graph` in place; returns the names of the convolutions now channels-last.
    @discardableResult
    func apply(_ graph: inout Graph) -> [String] {
        guard table.pointee.transpose8 != nil else { return [] }
        let nodes = graph.nodes
        let index = ValueIndex(graph)
        var nhwc = Set(nodes.indices.filter { isChannelsLastConv(nodes[$0]) })
        guard !nhwc.isEmpty else { return [] }
        var held: Set<String> = []  // values an NHWC node writes
        var changed = true
        while changed {
            changed = false
            held = []
            for (i, n) in nodes.enumerated() {
                if Self.isLayoutAgnostic(n) {
                    let data = Self.dataInputs(n)
                    let inNHWC = !data.isEmpty && data.allSatisfy { held.contains($0) }
                    if inNHWC != nhwc.contains(i) {
                        if inNHWC { nhwc.insert(i) } else { nhwc.remove(i) }
                        changed = true
                    }
                }
                if nhwc.contains(i) { for o in n.outputs where !o.isEmpty { held.insert(o) } }
            }
            // A conv paying a transpose in and one out for itself alone runs NCHW instead.
            for i in nhwc where !Self.isLayoutAgnostic(nodes[i]) {
                let n = nodes[i]
                let inputHeld = Self.dataInputs(n).allSatisfy { held.contains($0) }
                let feedsNHWC = n.outputs.contains { o in
                    !o.isEmpty && (index.consumers[o] ?? []).contains { nhwc.contains($0) && Self.dataInputs(nodes[$0]).contains(o) }
                }
                if !inputHeld && !feedsNHWC {
                    nhwc.remove(i)
                    changed = true
                }
            }
        }
        guard !nhwc.isEmpty else { return [] }

        let outputs = Set(graph.outputs.map(\.name))
        var names = NameSet(graph)
        var renamed: [String: String] = [:]  // value an NHWC node writes → its NHWC name
        for i in nhwc.sorted() { for o in nodes[i].outputs where !o.isEmpty { renamed[o] = names.fresh(o + Self.suffix) } }
        var madeNHWC: [String: String] = [:]  // NCHW value → its transposed copy
        var rewritten: [Node] = []
        for (i, n) in nodes.enumerated() {
            guard nhwc.contains(i) else {
                rewritten.append(n)
                continue
            }
            var node = n
            for k in Self.dataInputPositions(n) where k < n.inputs.count && !n.inputs[k].isEmpty {
                let v = n.inputs[k]
                if let r = renamed[v] {
                    node.inputs[k] = r
                } else if let copy = madeNHWC[v] {
                    node.inputs[k] = copy
                } else {
                    let copy = names.fresh(v + Self.suffix)
                    rewritten.append(Self.transpose(names.fresh(copy), from: v, to: copy, perm: Self.toNHWC))
                    madeNHWC[v] = copy
                    node.inputs[k] = copy
                }
            }
            if !Self.isLayoutAgnostic(n) {
                node.domain = "com.microsoft"
                node.attributes["channels_last"] = .int(1)
            }
            node.outputs = n.outputs.map { renamed[$0] ?? $0 }
            rewritten.append(node)
            for o in n.outputs where !o.isEmpty {
                let readNCHW =
                    outputs.contains(o)
                    || (index.consumers[o] ?? []).contains { r in !nhwc.contains(r) || !Self.dataInputs(nodes[r]).contains(o) }
                if readNCHW, let r = renamed[o] {
                    rewritten.append(Self.transpose(names.fresh(o + "__nchw"), from: r, to: o, perm: Self.toNCHW))
                }
            }
        }
        graph.nodes = rewritten
        return nhwc.sorted().compactMap { Self.isLayoutAgnostic(nodes[$0]) ? nil : nodes[$0].name }
    }

    /// A 2-D QLinearConv this path has an NHWC kernel for.
    func isChannelsLastConv(_ n: Node) -> Bool {
        guard n.domain.isEmpty, n.opType == "QLinearConv", n.inputs.count >= 8, let w = weightShape(n.inputs[3]), w.count == 4
        else { return false }
        let group = n.int("group") ?? 1
        if group == w[0], w[1] == 1, group > 1 { return table.pointee.dwconv_nhwc != nil }
        let ones = [1, 1]
        let strides = n.ints("strides") ?? ones, pads = n.ints("pads") ?? [0, 0, 0, 0]
        let autoPad = n.string("auto_pad") ?? "NOTSET"
        let unpadded = pads.allSatisfy { $0 == 0 } || autoPad != "NOTSET"
        return group == 1 && Array(w[2...]) == ones && strides == ones && unpadded && table.pointee.gemm_nhwc != nil
    }

    /// Elementwise int8 ops with per-tensor parameters: the same bytes in any layout.
    static func isLayoutAgnostic(_ n: Node) -> Bool {
        switch n.qualifiedOpType {
        case "com.microsoft:QLinearAdd", "com.microsoft:QLinearMul", "com.microsoft:QLinearSigmoid",
            "com.microsoft:QLinearLeakyRelu", "flotilla:QLinearLookup":
            return n.subgraphs.isEmpty
        default: return false
        }
    }

    /// Input positions that carry activations (the rest are scales, zero points, weights, bias).
    static func dataInputPositions(_ n: Node) -> [Int] {
        switch n.qualifiedOpType {
        case "com.microsoft:QLinearAdd", "com.microsoft:QLinearMul": [0, 3]
        default: [0]
        }
    }

    static func dataInputs(_ n: Node) -> [String] {
        dataInputPositions(n).compactMap { n.input($0) }
    }

    static func transpose(_ name: String, from input: String, to output: String, perm: [Int]) -> Node {
        Node(name: name, opType: "Transpose", inputs: [input], outputs: [output], attributes: ["perm": .ints(perm)])
    }
}
