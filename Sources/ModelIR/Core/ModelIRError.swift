/// Everything ModelIR can reject. Each description says what is wrong, names the node, value
/// or tensor involved, and says how to fix it.
public enum ModelIRError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidTensor(String)
    case invalidQuantization(String)
    /// A pre-packed weight whose layout id, element type or logical shape is unusable.
    case invalidPackedTensor(layout: String, elementType: ElementType, shape: [Int], detail: String)
    /// A node input names a value nothing defines.
    case undefinedValue(value: String, node: String)
    /// A value is defined more than once (two producers, or a producer and an initializer/input).
    case duplicateDefinition(value: String, definedBy: [String])
    /// The graph has a cycle; `nodes` are the nodes on it.
    case cycle(nodes: [String])
    case graphOutputUndefined(String)
    /// A shape or type mismatch found by shape inference.
    case shapeMismatch(node: String, opType: String, detail: String)
    case invalidAttribute(node: String, attribute: String, detail: String)
    case invalidNode(node: String, detail: String)
    /// Binding symbolic dimensions left a value without a concrete shape.
    case unboundShape(value: String, shape: String, detail: String)
    case evaluationFailed(node: String, detail: String)
    case passFailed(pass: String, detail: String)

    public var description: String {
        switch self {
        case .invalidTensor(let d): return "invalid tensor: \(d)"
        case .invalidQuantization(let d): return "invalid quantization parameters: \(d)"
        case .invalidPackedTensor(let layout, let type, let shape, let d):
            return "invalid packed tensor (layout \"\(layout)\", logical type \(type)\(shape)): \(d)"
        case .undefinedValue(let v, let n):
            return "node '\(n)' reads value '\(v)', which no node, graph input or initializer defines; "
                + "add the missing initializer or input, or fix the name"
        case .duplicateDefinition(let v, let by):
            return "value '\(v)' is defined more than once (by \(by.joined(separator: ", "))); "
                + "every value must have exactly one producer (SSA): rename one of them"
        case .cycle(let nodes):
            return "the graph has a cycle through nodes \(nodes.map { "'\($0)'" }.joined(separator: " → ")); "
                + "a dataflow graph must be acyclic (loops belong in a Loop/Scan subgraph)"
        case .graphOutputUndefined(let v):
            return "graph output '\(v)' is not produced by any node, input or initializer; fix the output name"
        case .shapeMismatch(let n, let op, let d): return "\(op) node '\(n)': \(d)"
        case .invalidAttribute(let n, let a, let d): return "node '\(n)', attribute '\(a)': \(d)"
        case .invalidNode(let n, let d): return "node '\(n)': \(d)"
        case .unboundShape(let v, let s, let d):
            return "value '\(v)' still has shape \(s) after binding: \(d)"
        case .evaluationFailed(let n, let d): return "cannot evaluate node '\(n)': \(d)"
        case .passFailed(let p, let d): return "pass \(p) failed: \(d)"
        }
    }
}
