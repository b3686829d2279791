/// Fuses an activation (Relu, Clip with constant bounds, LeakyRelu, HardSigmoid, HardSwish,
/// Sigmoid, Tanh) into the Conv, ConvTranspose, Gemm, MatMul or Add that produces its input,
/// when the activation is that value's only reader. The producer takes the activation's output
/// name, so graph output names are kept.
public struct ActivationFusion: Pass {
    public let name = "activation-fusion"
    public static let fusableProducers: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add"]

    public init() {}

    public func run(on model: inout Model) throws -> PassReport {
        var report = PassReport(pass: name)
        var graph = model.graph
        // One index for the pass: a fusion pairs an activation with the producer whose output
        // only it reads, so pairs are disjoint and decisions do not depend on each other.
        let index = ValueIndex(graph)
        var removed: Set<Int> = []
        for i in graph.nodes.indices {
            let act = graph.nodes[i]
            guard act.domain.isEmpty, let activation = Self.activation(of: act, graph), let x = act.input(0),
                let p = index.producer[x], !removed.contains(p), Self.fusableProducers.contains(graph.nodes[p].opType),
                graph.nodes[p].domain.isEmpty, graph.nodes[p].fusedActivation == nil, graph.nodes[p].outputs.count == 1,
                index.consumers[x] == [i], !graph.isGraphOutput(x),
                graph.type(of: x).map({ $0.elementType.isFloatingPoint }) ?? true
            else { continue }
            graph.nodes[p].fusedActivation = activation
            graph.nodes[p].outputs[0] = act.outputs[0]
            graph.valueTypes[x] = nil
            removed.insert(i)
            report.modifiedNodes.append(graph.nodes[p].name)
            report.removedNodes.append(act.name)
        }
        graph.removeNodes(at: removed)
        model.graph = graph
        return report
    }

    /// The fused form of an activation node, or nil if it is not one (or Clip's bounds are not
    /// constants).
    public static func activation(of node: Node, _ graph: Graph) -> Activation? {
        switch node.opType {
        case "Relu": return .relu
        case "LeakyRelu": return .leakyRelu(alpha: node.float("alpha") ?? 0.01)
        case "HardSigmoid": return .hardSigmoid(alpha: node.float("alpha") ?? 0.2, beta: node.float("beta") ?? 0.5)
        case "HardSwish": return .hardSwish
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "Clip":
            // A bound is usable when absent (±infinity) or a one-element constant.
            func bound(_ i: Int, _ fallback: Float) -> [Float] {
                guard let name = node.input(i) else { return [fallback] }
                guard let t = graph.constant(name), t.elementCount == 1, let v = t.asDoubles?.first else { return [] }
                return [Float(v)]
            }
            guard let lo = bound(1, -.infinity).first, let hi = bound(2, .infinity).first else { return nil }
            return .clip(min: lo, max: hi)
        default: return nil
        }
    }
}
