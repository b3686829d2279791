/// Binding symbolic dimensions to numbers, for the runtime's memory planning.
extension Graph {
    /// Every symbol used by the graph inputs' shapes (e.g. ["N"]), in order.
    public var inputSymbols: [String] {
        var seen: Set<String> = []
        return inputs.flatMap { $0.type.shape?.symbols ?? [] }.filter { seen.insert($0).inserted }
    }

    /// Substitutes `bindings` (e.g. ["N": 1]) into the graph inputs, re-runs shape inference
    /// and returns the concrete shape of every value of this graph: inputs, initializers and
    /// node outputs. Throws `ModelIRError.unboundShape` naming the first value whose shape is
    /// still not concrete (an unbound symbol, or a size that depends on non-constant data).
    public func bindShapes(_ bindings: [String: Int], inference: ShapeInference = ShapeInference()) throws -> [String: [Int]] {
        for (symbol, value) in bindings where value < 0 {
            throw ModelIRError.unboundShape(value: symbol, shape: "\(value)", detail: "a dimension cannot be negative")
        }
        var g = self
        for i in g.inputs.indices { g.inputs[i].type.shape = g.inputs[i].type.shape?.substituting(bindings) }
        g.valueTypes = g.valueTypes.mapValues { t in
            var t = t
            t.shape = t.shape?.substituting(bindings)
            return t
        }
        try inference.run(on: &g)
        var result: [String: [Int]] = [:]
        func record(_ name: String, _ type: TensorType?) throws {
            guard let shape = type?.shape else {
                throw ModelIRError.unboundShape(
                    value: name, shape: "[?]", detail: "its rank is unknown; check that the ops producing it are supported")
            }
            guard let dims = shape.concrete else {
                let symbols = shape.symbols
                let user = symbols.filter { !$0.hasPrefix("?") }
                let detail =
                    user.isEmpty
                    ? "its size depends on values computed at run time (\(symbols.joined(separator: ", ")))"
                    : "bind \(user.joined(separator: ", ")) (graph input symbols: \(g.inputSymbols.joined(separator: ", ")))"
                throw ModelIRError.unboundShape(value: name, shape: shape.description, detail: detail)
            }
            result[name] = dims
        }
        for i in g.inputs { try record(i.name, i.type) }
        for (name, t) in g.initializers { result[name] = t.shape }
        for n in g.nodes {
            for o in n.outputs where !o.isEmpty { try record(o, g.type(of: o)) }
        }
        return result
    }
}
