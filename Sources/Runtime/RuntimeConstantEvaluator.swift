public import ModelIR

/// ModelIR's `ConstantEvaluator` backed by the runtime: a node is evaluated by planning it
/// (with its constant inputs) and running it once, so constant folding can fold every op the
/// runtime supports. Ops it cannot run, and nodes with subgraphs, return nil (not folded).
public struct RuntimeConstantEvaluator: ConstantEvaluator {
    public var kernels: KernelPath

    public init(kernels: KernelPath = .automatic) { self.kernels = kernels }

    static let quantizationBorders: Set<String> = ["QuantizeLinear", "DequantizeLinear"]

    public func evaluate(_ node: Node, inputs: [Tensor?]) throws -> [Tensor]? {
        guard node.subgraphs.isEmpty, OpRegistry.standard.lookup(node.domain, node.opType) != nil else { return nil }
        // A DequantizeLinear of int8 weights is part of a QDQ pattern the runtime fuses into an
        // int8 op at plan time; folding it to fp32 here would lose the quantized model.
        if node.domain.isEmpty, Self.quantizationBorders.contains(node.opType) { return nil }
        if inputs.contains(where: { $0?.elementType == .string }) { return nil }
        // A one-node graph whose inputs are initializers: the planner folds it at plan time.
        var graph = Graph(name: "evaluate:\(node.name)", nodes: [node])
        for (i, t) in inputs.enumerated() {
            guard let t, i < node.inputs.count, !node.inputs[i].isEmpty else { continue }
            graph.initializers[node.inputs[i]] = t
        }
        graph.outputs = node.outputs.filter { !$0.isEmpty }.map { ValueInfo($0, TensorType(.float32, nil)) }
        let plan: ExecutionPlan
        do {
            plan = try ExecutionPlan(graph: graph, options: .init(kernels: kernels, threads: 1))
        } catch let RuntimeError.planFailed(problems) {
            throw ModelIRError.evaluationFailed(node: node.name, detail: problems.map(\.detail).joined(separator: "; "))
        }
        let values = try plan.makeSession().run(inputs: [:])
        return try node.outputs.map { name in
            // An omitted output keeps its position with an empty placeholder.
            if name.isEmpty { return try Tensor(floats: [], shape: [0]) }
            guard let t = values[name] else {
                throw ModelIRError.evaluationFailed(node: node.name, detail: "the runtime produced no value for output '\(name)'")
            }
            return t
        }
    }
}
