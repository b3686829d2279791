/// Removes Identity nodes and inference-mode Dropout nodes by wiring their input straight to
/// their consumers. Graph output names never change: when the removed node produced a graph
/// output, the *input* value is renamed to the output's name instead (unless it is itself a
/// graph input, initializer or another output, in which case the node stays).
public struct IdentityElimination: Pass {
    public let name = "identity-elimination"

    public init() {}

    public func run(on model: inout Model) throws -> PassReport {
        var report = PassReport(pass: name)
        var graph = model.graph
        var i = 0
        while i < graph.nodes.count {
            let node = graph.nodes[i]
            guard node.domain.isEmpty, node.opType == "Identity" || node.opType == "Dropout",
                let x = node.input(0), let y = node.outputs.first, !y.isEmpty
            else {
                i += 1
                continue
            }
            if node.opType == "Dropout" {
                if let skip = dropoutBlocker(node, graph) {
                    report.notes.append("kept Dropout '\(node.name)': \(skip)")
                    i += 1
                    continue
                }
            }
            if graph.isGraphOutput(y) {
                if graph.isGraphInput(x) || graph.initializers[x] != nil || graph.isGraphOutput(x) || graph.producer(of: x) == nil {
                    report.notes.append("kept '\(node.name)': it copies '\(x)' to graph output '\(y)'")
                    i += 1
                    continue
                }
                graph.nodes.remove(at: i)
                graph.valueTypes[y] = nil
                graph.renameValue(x, to: y)
            } else {
                graph.nodes.remove(at: i)
                graph.valueTypes[y] = nil
                graph.replaceUses(of: y, with: x)
            }
            report.removedNodes.append(node.name)
        }
        model.graph = graph
        return report
    }

    /// Why a Dropout cannot be removed, or nil: its mask is used, or training mode may be on.
    private func dropoutBlocker(_ node: Node, _ graph: Graph) -> String? {
        if node.outputs.count > 1, !node.outputs[1].isEmpty {
            let mask = node.outputs[1]
            if graph.isGraphOutput(mask) || !graph.consumers(of: mask).isEmpty { return "its mask output '\(mask)' is used" }
        }
        if let t = node.input(2) {
            guard let mode = graph.constant(t)?.asInt64s, mode.allSatisfy({ $0 == 0 }) else {
                return "training_mode '\(t)' is not a constant false"
            }
        }
        return nil
    }
}
