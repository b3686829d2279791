/// Everything the runtime can reject, at plan time or at run time. Each description names the
/// node, op, value or file involved, says what is wrong and how to fix it.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One problem found while planning a node.
    public struct NodeProblem: Sendable, Equatable, CustomStringConvertible {
        public var node: String
        public var opType: String
        public var detail: String

        public init(node: String, opType: String, detail: String) {
            self.node = node
            self.opType = opType
            self.detail = detail
        }

        public var description: String { "\(opType) node '\(node)': \(detail)" }
    }

    /// Planning found problems in one or more nodes (every unsupported op or type is listed,
    /// not only the first).
    case planFailed([NodeProblem])
    /// A graph input has a symbolic dimension with no binding, or a binding is invalid.
    case unboundDimension(value: String, shape: String, detail: String)
    /// The model itself is malformed for execution (undefined values, output never produced).
    case invalidModel(String)
    /// A run-time input is missing, unknown, or of the wrong type or shape.
    case invalidInput(name: String, detail: String)
    /// A caller-provided output buffer is missing or of the wrong size.
    case invalidOutput(name: String, detail: String)
    /// A kernel rejected data it only sees at run time (an out-of-range index, say).
    case executionFailed(node: String, opType: String, detail: String)
    /// An .npy/.npz file could not be read or written.
    case npy(path: String, detail: String)

    public var description: String {
        switch self {
        case .planFailed(let problems):
            let head = problems.count == 1 ? "cannot plan the model: " : "cannot plan the model (\(problems.count) problems):\n  "
            return head + problems.map(\.description).joined(separator: "\n  ")
        case .unboundDimension(let v, let s, let d):
            return "graph input '\(v)' has shape \(s): \(d)"
        case .invalidModel(let d): return "invalid model: \(d)"
        case .invalidInput(let n, let d): return "input '\(n)': \(d)"
        case .invalidOutput(let n, let d): return "output '\(n)': \(d)"
        case .executionFailed(let n, let op, let d): return "\(op) node '\(n)' failed at run time: \(d)"
        case .npy(let p, let d): return "\(p): \(d)"
        }
    }
}
