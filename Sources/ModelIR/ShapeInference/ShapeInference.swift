/// Infers the type of every node output from its inputs' types, its attributes and any
/// constant inputs, through a registry of per-op functions keyed by (domain, opType).
///
/// Sizes that depend on data the graph does not hold as constants become inferred-unknown
/// symbols (`?node:k`), not errors; real mismatches (Conv channels, MatMul inner dimensions,
/// broadcasting) throw `ModelIRError.shapeMismatch` naming the node and both shapes.
///
/// Besides constant tensors, inference propagates *shape values*: the symbolic contents of the
/// small int64 vectors exporters compute with Shape → Gather → Concat, so that a batch "N"
/// flows through `Reshape(x, Concat(Shape(x)[0], -1))`.
public struct ShapeInference: Sendable {
    public var registry: ShapeInferenceRegistry
    /// Largest constant (in elements) inference evaluates to propagate values; bigger results
    /// are left to constant folding.
    public var maxPropagatedElements = 4096

    public init(registry: ShapeInferenceRegistry = .standard) { self.registry = registry }

    /// Sorts the graph topologically, then infers and records the types of all node outputs in `graph.valueTypes` (and in nested
    /// subgraphs). Declared types already present are kept where they say more than the
    /// inferred one (a named dimension instead of an inferred-unknown one).
    public func run(on graph: inout Graph, outerTypes: [String: TensorType] = [:]) throws {
        try graph.sortTopologically()
        var state = PropagationState()
        for (name, t) in graph.initializers where graph.constant(name) != nil { state.constants[name] = t }
        for i in graph.nodes.indices {
            var node = graph.nodes[i]
            // Subgraphs first: If's output types come from its branches.
            var outer = outerTypes
            if !node.subgraphs.isEmpty {
                for (k, t) in graph.valueTypes { outer[k] = t }
                for v in graph.inputs { outer[v.name] = v.type }
                for (k, t) in graph.initializers { outer[k] = t.tensorType }
            }
            for (key, attr) in node.attributes {
                switch attr {
                case .graph(var g):
                    try run(on: &g, outerTypes: outer)
                    node.attributes[key] = .graph(g)
                case .graphs(let gs):
                    node.attributes[key] = .graphs(
                        try gs.map { g in
                            var g = g
                            try run(on: &g, outerTypes: outer)
                            return g
                        })
                default: break
                }
            }
            graph.nodes[i] = node
            let inputTypes = node.inputs.map { $0.isEmpty ? nil : (graph.type(of: $0) ?? outerTypes[$0]) }
            var context = InferenceContext(node: node, inputTypes: inputTypes, state: state)
            guard let function = registry.function(opType: node.opType, domain: node.domain) else { continue }
            let outTypes = try function(&context)
            for (k, t) in outTypes.enumerated() {
                guard let shape = t?.shape else { continue }
                if let bad = shape.dims.first(where: { ($0.value ?? 0) < 0 || ($0.value ?? 0) > InferenceContext.maxDimension }) {
                    let name = k < node.outputs.count ? node.outputs[k] : "#\(k)"
                    throw context.mismatch(
                        "output '\(name)' would have dimension \(bad) in shape \(shape), outside 0...2^40; check the shape inputs")
                }
            }
            for (k, out) in node.outputs.enumerated() where !out.isEmpty && k < outTypes.count {
                guard let inferred = outTypes[k] else { continue }
                graph.valueTypes[out] = Self.merge(
                    declared: graph.valueTypes[out] ?? graph.outputs.first { $0.name == out }?.type, inferred: inferred)
            }
            for (value, type) in context.annotations { graph.valueTypes[value] = type }
            state.propagate(node: node, context: context, limit: maxPropagatedElements)
        }
    }

    /// Keeps the inferred type, but takes dimensions from the declared one where inference
    /// only knows an unknown, and keeps declared quantization parameters.
    static func merge(declared: TensorType?, inferred: TensorType) -> TensorType {
        guard let declared else { return inferred }
        var out = inferred
        if out.quantization == nil { out.quantization = declared.quantization }
        guard let ds = declared.shape else { return out }
        guard let inf = inferred.shape else {
            out.shape = ds
            return out
        }
        guard ds.rank == inf.rank else { return out }
        out.shape = Shape(zip(ds.dims, inf.dims).map { d, i in i.isInferredUnknown ? d : i })
        return out
    }
}

/// Values known while inferring one graph: constant tensors and symbolic shape vectors.
struct PropagationState: Sendable {
    var constants: [String: Tensor] = [:]
    var shapeValues: [String: [Dimension]] = [:]

    mutating func propagate(node: Node, context: InferenceContext, limit: Int) {
        let inputs = node.inputs.map { $0.isEmpty ? nil : constants[$0] }
        let allConstant = node.inputs.indices.allSatisfy { node.inputs[$0].isEmpty || inputs[$0] != nil }
        if allConstant, node.fusedActivation == nil,
            let outs = try? BuiltinConstantEvaluator(maxElements: limit).evaluate(node, inputs: inputs),
            outs.count <= node.outputs.count, outs.allSatisfy({ $0.elementCount <= limit })
        {
            for (name, t) in zip(node.outputs, outs) where !name.isEmpty { constants[name] = t }
            return
        }
        if let dims = ShapeValuePropagation.evaluate(node: node, context: context),
            let out = node.outputs.first, !out.isEmpty
        {
            shapeValues[out] = dims
        }
    }
}
