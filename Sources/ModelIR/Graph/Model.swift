/// A model: the main graph plus what ONNX carries around it.
public struct Model: Sendable, Equatable {
    public var graph: Graph
    /// Operator-set versions by domain ("" = ai.onnx). After import the nodes are in canonical
    /// form whatever the source opset; these record what the source model declared.
    public var opsetImports: [String: Int]
    public var producerName: String
    public var producerVersion: String
    public var metadata: [String: String]

    public init(
        graph: Graph, opsetImports: [String: Int] = ["": Model.canonicalOpset],
        producerName: String = "", producerVersion: String = "", metadata: [String: String] = [:]
    ) {
        self.graph = graph
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.metadata = metadata
    }

    /// The ai.onnx opset whose op definitions the IR uses for every node (ONNX 1.23.2, ai.onnx opset 28).
    public static let canonicalOpset = 28
}
