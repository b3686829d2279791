/// One operation. Inputs and outputs are value names; an empty input name means an omitted
/// optional input (ONNX convention). The op is always in its canonical (newest-opset) form.
public struct Node: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var opType: String
    /// "" = ai.onnx, "com.microsoft", "ai.onnx.ml", "flotilla".
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]
    /// Set by the activation-fusion pass: applied to output 0 before it is stored.
    public var fusedActivation: Activation?

    public init(
        name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
        attributes: [String: Attribute] = [:], fusedActivation: Activation? = nil
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.fusedActivation = fusedActivation
    }

    /// The input at `i`, or nil if absent or omitted ("").
    public func input(_ i: Int) -> String? {
        i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil
    }

    public func int(_ name: String) -> Int? { attributes[name]?.intValue }
    public func float(_ name: String) -> Float? { attributes[name]?.floatValue }
    public func string(_ name: String) -> String? { attributes[name]?.stringValue }
    public func ints(_ name: String) -> [Int]? { attributes[name]?.intsValue }
    public func floats(_ name: String) -> [Float]? { attributes[name]?.floatsValue }
    public func tensor(_ name: String) -> Tensor? { attributes[name]?.tensorValue }

    /// Every subgraph held by this node's attributes.
    public var subgraphs: [Graph] { attributes.keys.sorted().flatMap { attributes[$0]?.subgraphs ?? [] } }

    /// "domain:opType" for error messages; ai.onnx ops print without a domain.
    public var qualifiedOpType: String { domain.isEmpty ? opType : "\(domain):\(opType)" }

    public var description: String {
        var s = "\(name) = \(qualifiedOpType)(\(inputs.joined(separator: ", "))) -> \(outputs.joined(separator: ", "))"
        if !attributes.isEmpty {
            s += " {" + attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "}"
        }
        if let a = fusedActivation { s += " +\(a)" }
        return s
    }
}
