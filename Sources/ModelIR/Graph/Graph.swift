/// A dataflow graph in SSA form: every value is defined exactly once, by a graph input, an
/// initializer or one node output. Nodes are kept in topological order (`sortTopologically`
/// restores it after a rewrite).
///
/// Subgraphs (If branches, Loop bodies) live in node attributes and may read values of the
/// enclosing graph by name.
public struct Graph: Sendable, Equatable {
    public var name: String
    public var nodes: [Node]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Constant values by name. An initializer that is also listed in `inputs` is an
    /// overridable default (ONNX semantics); otherwise it is a constant.
    public var initializers: [String: Tensor]
    /// Known types of intermediate values, filled by the importer and by shape inference.
    public var valueTypes: [String: TensorType]

    public init(
        name: String = "main", nodes: [Node] = [], inputs: [ValueInfo] = [], outputs: [ValueInfo] = [],
        initializers: [String: Tensor] = [:], valueTypes: [String: TensorType] = [:]
    ) {
        self.name = name
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.valueTypes = valueTypes
    }

    /// The type of a value from wherever it is known: graph inputs/outputs, initializers,
    /// then inferred intermediate types.
    public func type(of value: String) -> TensorType? {
        if let t = valueTypes[value] { return t }
        if let i = inputs.first(where: { $0.name == value }) { return i.type }
        if let t = initializers[value] { return t.tensorType }
        return outputs.first(where: { $0.name == value })?.type
    }

    public var inputNames: [String] { inputs.map(\.name) }
    public var outputNames: [String] { outputs.map(\.name) }

    /// Initializers that are not overridable by a same-named graph input: true constants.
    public func constant(_ value: String) -> Tensor? {
        guard let t = initializers[value], !inputs.contains(where: { $0.name == value }) else { return nil }
        return t
    }
}
