/// Small rewriting primitives the passes share.
extension Graph {
    /// Replaces every read of `old` with `new`, in nodes and in subgraphs that capture `old`
    /// (the subgraph's own definitions shadow it and are left alone).
    public mutating func replaceUses(of old: String, with new: String) {
        for i in nodes.indices {
            nodes[i].inputs = nodes[i].inputs.map { $0 == old ? new : $0 }
            for (key, attr) in nodes[i].attributes {
                switch attr {
                case .graph(var g) where g.capturedValues.contains(old):
                    g.replaceUses(of: old, with: new)
                    nodes[i].attributes[key] = .graph(g)
                case .graphs(let gs) where gs.contains { $0.capturedValues.contains(old) }:
                    nodes[i].attributes[key] = .graphs(
                        gs.map { g in
                            var g = g
                            if g.capturedValues.contains(old) { g.replaceUses(of: old, with: new) }
                            return g
                        })
                default: break
                }
            }
        }
        for i in outputs.indices where outputs[i].name == old { outputs[i].name = new }
    }

    /// Renames a value everywhere: its definition (node output, input or initializer), its
    /// reads and its recorded type.
    public mutating func renameValue(_ old: String, to new: String) {
        for i in nodes.indices {
            nodes[i].outputs = nodes[i].outputs.map { $0 == old ? new : $0 }
        }
        for i in inputs.indices where inputs[i].name == old { inputs[i].name = new }
        if let t = initializers.removeValue(forKey: old) { initializers[new] = t }
        if let t = valueTypes.removeValue(forKey: old) { valueTypes[new] = t }
        replaceUses(of: old, with: new)
    }

    /// Removes the nodes at `indices` (any order).
    public mutating func removeNodes(at indices: some Sequence<Int>) {
        let drop = Set(indices)
        nodes = nodes.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }
}
