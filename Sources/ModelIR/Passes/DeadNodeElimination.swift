/// Removes nodes none of whose outputs reach a graph output, initializers nothing reads, and
/// recorded types of values that no longer exist. Graph inputs are never removed (they are
/// the model's interface).
public struct DeadNodeElimination: Pass {
    public let name = "dead-node-elimination"

    public init() {}

    public func run(on model: inout Model) throws -> PassReport {
        var report = PassReport(pass: name)
        var graph = model.graph
        var live = Set(graph.outputNames)
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for i in graph.nodes.indices.reversed() {
            let node = graph.nodes[i]
            guard node.outputs.contains(where: { live.contains($0) }) else { continue }
            keep[i] = true
            live.formUnion(node.inputs.filter { !$0.isEmpty })
            for g in node.subgraphs { live.formUnion(g.capturedValues) }
        }
        report.removedNodes = graph.nodes.indices.filter { !keep[$0] }.map { graph.nodes[$0].name }
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
        for name in graph.initializers.keys.sorted() where !live.contains(name) && !graph.isGraphInput(name) {
            graph.initializers[name] = nil
            report.removedInitializers.append(name)
        }
        var defined = Set(graph.inputNames).union(graph.initializers.keys)
        for n in graph.nodes { defined.formUnion(n.outputs) }
        graph.valueTypes = graph.valueTypes.filter { defined.contains($0.key) }
        model.graph = graph
        return report
    }
}
