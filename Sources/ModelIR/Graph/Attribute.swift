/// A node attribute, in the same shapes ONNX uses (`AttributeProto` without the sparse and
/// type-proto variants, which no supported op takes).
public indirect enum Attribute: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case float(Float)
    case string(String)
    case tensor(Tensor)
    case graph(Graph)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensors([Tensor])
    case graphs([Graph])

    public var intValue: Int? { if case .int(let v) = self { return v } else { return nil } }
    public var floatValue: Float? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Float(v)
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let v) = self { return v } else { return nil } }
    public var intsValue: [Int]? { if case .ints(let v) = self { return v } else { return nil } }
    public var floatsValue: [Float]? { if case .floats(let v) = self { return v } else { return nil } }
    public var tensorValue: Tensor? { if case .tensor(let v) = self { return v } else { return nil } }
    public var graphValue: Graph? { if case .graph(let v) = self { return v } else { return nil } }

    /// Subgraphs held by this attribute (If branches, Loop bodies).
    public var subgraphs: [Graph] {
        switch self {
        case .graph(let g): return [g]
        case .graphs(let gs): return gs
        default: return []
        }
    }

    public var description: String {
        switch self {
        case .int(let v): return "\(v)"
        case .float(let v): return "\(v)"
        case .string(let v): return "\"\(v)\""
        case .tensor(let t): return t.description
        case .graph(let g): return "graph(\(g.name), \(g.nodes.count) nodes)"
        case .ints(let v): return "\(v)"
        case .floats(let v): return "\(v)"
        case .strings(let v): return "\(v)"
        case .tensors(let v): return "\(v.count) tensors"
        case .graphs(let v): return "\(v.count) graphs"
        }
    }
}
