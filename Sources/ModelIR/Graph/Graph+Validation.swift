/// Structural validation: SSA, every read defined, outputs defined, acyclic, quantization
/// parameters consistent with their types.
extension Graph {
    /// Throws the first structural problem found. `outerScope` lists the values a subgraph may
    /// read from its enclosing graphs.
    public func validate(outerScope: Set<String> = []) throws {
        var definedBy: [String: [String]] = [:]
        for i in inputs { definedBy[i.name, default: []].append("graph input") }
        for k in initializers.keys where !inputs.contains(where: { $0.name == k }) {
            definedBy[k, default: []].append("initializer")
        }
        for n in nodes {
            for o in n.outputs where !o.isEmpty { definedBy[o, default: []].append("node '\(n.name)'") }
        }
        if let dup = definedBy.filter({ $0.value.count > 1 }).min(by: { $0.key < $1.key }) {
            throw ModelIRError.duplicateDefinition(value: dup.key, definedBy: dup.value)
        }
        var names: Set<String> = []
        for n in nodes where !names.insert(n.name).inserted && !n.name.isEmpty {
            throw ModelIRError.invalidNode(node: n.name, detail: "two nodes share this name; node names must be unique")
        }
        let visible = outerScope.union(definedBy.keys)
        for n in nodes {
            for v in n.inputs where !v.isEmpty && !visible.contains(v) {
                throw ModelIRError.undefinedValue(value: v, node: n.name)
            }
            for g in n.subgraphs { try g.validate(outerScope: visible) }
        }
        for o in outputs where !visible.contains(o.name) {
            throw ModelIRError.graphOutputUndefined(o.name)
        }
        _ = try topologicallySortedNodes()
        for (name, type) in valueTypes {
            if let q = type.quantization {
                do { try q.validate(for: type.elementType, shape: type.shape) } catch let e as ModelIRError {
                    throw ModelIRError.invalidQuantization("value '\(name)': \(e)")
                }
            }
        }
    }
}
