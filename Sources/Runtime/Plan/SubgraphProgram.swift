import ModelIR

/// A subgraph (an If branch) planned against its enclosing scope, in an arena of its own.
/// Memory is assigned when the enclosing step's buffers are known (`finalize`).
final class SubgraphProgram: @unchecked Sendable {
    // Sendable proof: used only while the enclosing plan is built, on the planning thread.
    let planner: GraphPlanner

    init(planner: GraphPlanner) { self.planner = planner }

    static func plan(
        _ graph: Graph, registry: OpRegistry, kernels: KernelTable, pool: ConstantPool, arenaCounter: ArenaCounter,
        threads: Int = 1, outerTypes: [String: ValueType], outerConstants: [String: Tensor]
    ) throws -> SubgraphProgram {
        guard graph.inputs.isEmpty else {
            throw RuntimeError.invalidModel("subgraph '\(graph.name)' has inputs; only input-less bodies (If branches) are supported")
        }
        let planner = GraphPlanner(
            graph: graph, arenaIndex: arenaCounter.next(), registry: registry, kernels: kernels,
            pool: pool, arenaCounter: arenaCounter, inputTypes: [:], threads: threads, outerTypes: outerTypes,
            outerConstants: outerConstants)
        planner.planNodes()
        if !planner.problems.isEmpty {
            throw RuntimeError.planFailed(
                planner.problems.map {
                    .init(node: "\(graph.name)/\($0.node)", opType: $0.opType, detail: $0.detail, kind: $0.kind)
                })
        }
        return SubgraphProgram(planner: planner)
    }

    /// The bound types of the subgraph's outputs.
    func outputTypes() throws -> [ValueType] {
        try planner.graph.outputs.map { o in
            guard let t = planner.type(of: o.name) else {
                throw RuntimeError.invalidModel("subgraph '\(planner.graph.name)' output '\(o.name)' is never produced")
            }
            return t
        }
    }

    /// Every output's value when all of them are known at plan time, else nil.
    func constantOutputs() -> [Tensor]? {
        var values: [Tensor] = []
        for o in planner.graph.outputs {
            guard let t = planner.constant(of: o.name) else { return nil }
            values.append(t)
        }
        return values
    }

    func finalize(outer: [String: Buffer]) throws -> Program { try planner.finalize(outer: outer) }
}
