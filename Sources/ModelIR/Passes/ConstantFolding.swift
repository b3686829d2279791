/// Replaces nodes whose inputs are all constants with initializers holding their results,
/// using a `ConstantEvaluator` (ModelIR's built-in one for shape arithmetic, or the Runtime's).
/// `Shape` and `Size` fold as soon as their input's shape is concrete, even when the input
/// itself is not constant, which is what collapses exporters' Shape → Gather → Concat →
/// Reshape chains for fixed-size models.
///
/// Nodes producing a graph output are left in place (the output stays computed by a node),
/// as are nodes with subgraphs and nodes with a fused activation.
public struct ConstantFolding: Pass {
    public let name = "constant-folding"
    public var evaluator: any ConstantEvaluator
    /// Results larger than this (elements) are not folded, to keep models small.
    public var maxFoldedElements: Int

    public init(evaluator: any ConstantEvaluator = BuiltinConstantEvaluator(), maxFoldedElements: Int = 1 << 20) {
        self.evaluator = evaluator
        self.maxFoldedElements = maxFoldedElements
    }

    public func run(on model: inout Model) throws -> PassReport {
        var report = PassReport(pass: name)
        var graph = model.graph
        try ShapeInference().run(on: &graph)
        var constants: [String: Tensor] = [:]
        for name in graph.initializers.keys { if let t = graph.constant(name) { constants[name] = t } }
        var kept: [Node] = []
        for node in graph.nodes {
            guard let outputs = try fold(node, graph: graph, constants: constants) else {
                kept.append(node)
                continue
            }
            for (name, t) in zip(node.outputs, outputs) where !name.isEmpty {
                constants[name] = t
                graph.initializers[name] = t
                graph.valueTypes[name] = nil
                report.addedInitializers.append(name)
            }
            report.removedNodes.append(node.name)
        }
        graph.nodes = kept
        model.graph = graph
        return report
    }

    private func fold(_ node: Node, graph: Graph, constants: [String: Tensor]) throws -> [Tensor]? {
        guard node.subgraphs.isEmpty, node.fusedActivation == nil,
            !node.outputs.contains(where: { graph.isGraphOutput($0) })
        else { return nil }
        if node.domain.isEmpty, node.opType == "Shape" || node.opType == "Size", let x = node.input(0),
            constants[x] == nil, let dims = graph.type(of: x)?.shape?.concrete
        {
            if node.opType == "Size" { return [Tensor.scalar(Int64(Shape.checkedProduct(dims) ?? 0))] }
            let start = ShapeValuePropagation.clampAxis(node.int("start") ?? 0, dims.count)
            let end = ShapeValuePropagation.clampAxis(node.int("end") ?? dims.count, dims.count)
            return [Tensor.vector(start < end ? dims[start..<end].map(Int64.init) : [])]
        }
        var inputs: [Tensor?] = []
        for name in node.inputs {
            if name.isEmpty {
                inputs.append(nil)
                continue
            }
            guard let t = constants[name] else { return nil }
            inputs.append(t)
        }
        guard let outputs = try evaluator.evaluate(node, inputs: inputs) else { return nil }
        guard outputs.count >= node.outputs.filter({ !$0.isEmpty }).count,
            outputs.allSatisfy({ $0.elementCount <= maxFoldedElements })
        else { return nil }
        return outputs
    }
}
