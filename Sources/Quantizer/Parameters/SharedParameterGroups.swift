public import ModelIR

/// Values whose quantization parameters must be equal, so the int8 graph moves their bytes
/// without requantizing: inputs and outputs of Concat (all of them: the concatenated bytes
/// must mean the same numbers), and data input 0 and output 0 of ops that only move or select
/// values (MaxPool, Reshape, Transpose, Slice, Split outputs, …). Pooling that averages, and
/// Relu/Clip (which narrow the range), are not here: they requantize.
public enum SharedParameterGroups {
    /// Ops whose output 0 (and every output, for Split) holds a subset of input 0's values.
    public static let valuePreservingOps: Set<String> = [
        "MaxPool", "GlobalMaxPool", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice", "Split",
        "Identity", "Dropout", "Expand", "Tile", "Gather", "DepthToSpace", "SpaceToDepth", "ReduceMax", "ReduceMin",
    ]

    /// Groups (each sorted, ≥ 2 values) of float values that must share parameters, in order
    /// of their first member. A value in two rules joins the groups (union-find).
    public static func groups(in graph: Graph) -> [[String]] {
        var parent: [String: String] = [:]
        func find(_ v: String) -> String {
            var r = v
            while let p = parent[r], p != r { r = p }
            var x = v
            while let p = parent[x], p != r {
                parent[x] = r
                x = p
            }
            return r
        }
        func union(_ a: String, _ b: String) {
            if parent[a] == nil { parent[a] = a }
            if parent[b] == nil { parent[b] = b }
            let ra = find(a), rb = find(b)
            if ra != rb { parent[Swift.max(ra, rb)] = Swift.min(ra, rb) }
        }
        func isFloat(_ v: String) -> Bool {
            guard let t = graph.type(of: v) else { return true }  // unknown types are assumed data
            return t.elementType.isFloatingPoint
        }
        for node in graph.nodes where node.domain.isEmpty {
            if node.opType == "Concat" {
                let data = (node.inputs + [node.outputs.first ?? ""]).filter { !$0.isEmpty && isFloat($0) }
                for v in data.dropFirst() { union(data[0], v) }
            } else if valuePreservingOps.contains(node.opType), let x = node.input(0), isFloat(x) {
                let outs = node.opType == "Split" ? node.outputs : Array(node.outputs.prefix(1))
                for o in outs where !o.isEmpty { union(x, o) }
            }
        }
        var byRoot: [String: [String]] = [:]
        for v in parent.keys { byRoot[find(v), default: []].append(v) }
        return byRoot.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    /// One range covering every member's calibrated range (missing members are ignored):
    /// what each member of a group is then quantized with.
    public static func mergedRange(_ group: [String], ranges: [String: TensorRange]) -> TensorRange? {
        let rs = group.compactMap { ranges[$0] }
        guard let first = rs.first else { return nil }
        return rs.dropFirst().reduce(first) { TensorRange(min: Swift.min($0.min, $1.min), max: Swift.max($0.max, $1.max)) }
    }
}
