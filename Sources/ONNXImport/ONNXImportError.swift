public import ModelIR

/// Everything the importer rejects. Each description names the file, tensor, node or opset
/// involved and says how to fix the model.
public enum ONNXImportError: Error, Sendable, CustomStringConvertible {
    /// The bytes are not an ONNX model (another format's signature, or no graph).
    case notONNX(String)
    /// The protobuf could not be decoded (truncated or garbled).
    case malformedProtobuf(String)
    case unsupportedOpset(domain: String, version: Int, supported: ClosedRange<Int>)
    /// A node uses a domain (ai.onnx, ai.onnx.ml) the model has no opset import for.
    case missingOpsetImport(node: String, opType: String, domain: String)
    case invalidTensor(name: String, detail: String)
    case unsupportedDataType(name: String, code: Int)
    case externalData(name: String, location: String, detail: String)
    case unsupportedValueType(name: String, detail: String)
    case invalidAttribute(node: String, attribute: String, detail: String)
    case invalidNode(node: String, detail: String)
    /// The graph is structurally broken (undefined input, duplicate definition, cycle…).
    case invalidGraph(ModelIRError)
    /// Every node the importer cannot run, in graph order.
    case unsupportedOps([UnsupportedOp])
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case .notONNX(let d): return "not an ONNX model: \(d)"
        case .malformedProtobuf(let d):
            return "the file is not a valid ONNX protobuf (truncated or corrupted?): \(d); re-export or re-download the model"
        case .unsupportedOpset(let domain, let v, let r):
            return
                "the model imports \(domain.isEmpty ? "ai.onnx" : domain) opset \(v), but Flotilla supports opsets \(r.lowerBound)...\(r.upperBound); "
                + "convert it with onnx.version_converter to a supported opset"
        case .missingOpsetImport(let n, let op, let d):
            let name = d.isEmpty ? "ai.onnx" : d
            return "node '\(n)' uses \(name)::\(op), but the model declares no \(name) opset import; "
                + "add one to opset_import (e.g. \(name) \(d == "ai.onnx.ml" ? "3" : "17")) when exporting"
        case .invalidTensor(let n, let d): return "tensor '\(n)': \(d)"
        case .unsupportedDataType(let n, let c):
            return
                "tensor '\(n)' has ONNX data type \(c) (\(ONNXDataType.name(c))), which Flotilla does not support; cast it to float32 before export"
        case .externalData(let n, let l, let d): return "external data of tensor '\(n)' (location '\(l)'): \(d)"
        case .unsupportedValueType(let n, let d): return "value '\(n)': \(d)"
        case .invalidAttribute(let n, let a, let d): return "node '\(n)', attribute '\(a)': \(d)"
        case .invalidNode(let n, let d): return "node '\(n)': \(d)"
        case .invalidGraph(let e): return "invalid graph: \(e)"
        case .unsupportedOps(let ops):
            return "\(ops.count) node\(ops.count == 1 ? "" : "s") use ops Flotilla does not support:\n"
                + ops.map { "  - \($0)" }.joined(separator: "\n")
                + "\nreplace them before export, or import with allowUnsupported to inspect the model"
        case .io(let p, let d): return "cannot read '\(p)': \(d)"
        }
    }
}

/// One node the importer keeps as an opaque node because no registered op handles it.
public struct UnsupportedOp: Sendable, Equatable, CustomStringConvertible {
    public var node: String
    public var opType: String
    public var domain: String
    public var opset: Int
    public var reason: String

    public var description: String {
        "node '\(node)': \(domain.isEmpty ? "ai.onnx" : domain)::\(opType) (opset \(opset)) — \(reason)"
    }
}
