public import ModelIR

/// Everything the runtime can reject, at plan time or at run time. Each description names the
/// node, op, value or file involved, says what is wrong and how to fix it.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One problem found while planning a node.
    public struct NodeProblem: Sendable, Equatable, CustomStringConvertible {
        /// Why a node cannot be planned, for tools that sort problems without reading
        /// `detail` (the conformance runner's skips, `flotilla inspect`).
        public enum Kind: Sendable, Equatable {
            /// The node is malformed for its op (shapes, attribute values, missing inputs):
            /// fix or re-export the model.
            case invalid
            /// No kernel is registered for the op.
            case unsupportedOp
            /// The op runs, but not on this element type.
            case unsupportedElementType(ElementType)
            /// An attribute value (a mode, a policy, an option) the runtime does not implement.
            case unsupportedAttribute(String)
            /// A rank the runtime does not run (3-D and higher spatial windows).
            case unsupportedRank(Int)
            /// Training-only behaviour (training_mode = 1).
            case trainingMode
            /// The named input must be known at plan time (shapes are planned statically), or
            /// the output shape depends on run-time data.
            case dataDependentShape(value: String)
        }

        public var node: String
        public var opType: String
        public var detail: String
        public var kind: Kind

        public init(node: String, opType: String, detail: String, kind: Kind = .invalid) {
            self.node = node
            self.opType = opType
            self.detail = detail
            self.kind = kind
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
