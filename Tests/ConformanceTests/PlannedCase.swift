import ModelIR
import Runtime

/// A case's graph planned for one data set: symbolic input dimensions bound to the data's
/// shapes, and graph inputs the runtime must know at plan time (Reshape's shape, Slice's
/// starts, TopK's k... which ONNX's node tests feed as inputs but deployed models carry as
/// initializers) turned into initializers holding the data set's values. The runtime still
/// computes every node itself: plan-time folding runs its own kernels.
struct PlannedCase {
    let plan: ExecutionPlan
    /// Graph inputs that became initializers, in the order they were bound.
    let boundInputs: [String]

    static func make(_ original: Graph, inputs: [String: Tensor]) -> Result<PlannedCase, OutcomeBox> {
        var graph = original
        var bound: [String] = []
        var bindings: [String: Int] = [:]
        for k in graph.inputs.indices where graph.constant(graph.inputs[k].name) == nil {
            let input = graph.inputs[k]
            guard let data = inputs[input.name] else { continue }
            guard let shape = input.type.shape else {
                graph.inputs[k].type.shape = Shape(data.shape)
                continue
            }
            guard shape.rank == data.rank else {
                return failure(.plan, "input '\(input.name)' is declared \(shape) but the data set holds \(data.shape)")
            }
            for (d, v) in zip(shape.dims, data.shape) {
                if case .symbolic(let s) = d { bindings[s] = v }
            }
        }
        // Each round binds the graph inputs the planner named as needed at plan time; binding
        // one can make the next node plannable and reveal the next need.
        while true {
            do {
                let plan = try ExecutionPlan(graph: graph, bindings: bindings)
                return .success(PlannedCase(plan: plan, boundInputs: bound))
            } catch RuntimeError.planFailed(let problems) {
                let needed = planTimeInputs(graph, problems, available: inputs)
                if needed.isEmpty { return .failure(OutcomeBox(PlanProblemClassifier(graph: graph).classify(problems))) }
                for i in needed {
                    graph.initializers[i.name] = inputs[i.name]
                    graph.inputs.removeAll { $0.name == i.name }
                    bound.append(i.name)
                }
            } catch {
                return failure(.plan, "\(error)")
            }
        }
    }

    /// The graph inputs a plan-time value needs: inputs the problems name directly, and
    /// integer inputs (shapes, pads, axes) the named values are computed from.
    private static func planTimeInputs(_ graph: Graph, _ problems: [RuntimeError.NodeProblem], available: [String: Tensor]) -> [ValueInfo] {
        var producers: [String: Node] = [:]
        for n in graph.nodes { for o in n.outputs where !o.isEmpty { producers[o] = n } }
        var needed: Set<String> = []
        for p in problems {
            guard case .dataDependentShape(let value) = p.kind, !value.isEmpty else { continue }
            let quoted = [value]
            var stack = quoted
            var seen: Set<String> = []
            while let v = stack.popLast() {
                guard seen.insert(v).inserted else { continue }
                if available[v] != nil, graph.inputs.contains(where: { $0.name == v }) {
                    let direct = quoted.contains(v)
                    if direct || (available[v]?.elementType.isInteger ?? false) { needed.insert(v) }
                } else if let n = producers[v] {
                    stack += n.inputs.filter { !$0.isEmpty }
                }
            }
        }
        return graph.inputs.filter { needed.contains($0.name) }
    }

    private static func failure(_ stage: NodeTestFailure.Stage, _ detail: String) -> Result<PlannedCase, OutcomeBox> {
        .failure(OutcomeBox(.fail(NodeTestFailure(stage: stage, detail: detail))))
    }
}
