/// What a shape function sees: the node, its input types, and constant or symbolic values of
/// its inputs when known.
public struct InferenceContext: Sendable {
    public let node: Node
    /// One entry per input; nil for an omitted input or one whose type is unknown.
    public let inputTypes: [TensorType?]
    let state: PropagationState
    private var unknownCounter = 0
    /// Extra type facts a shape function learned about values other than its outputs (e.g.
    /// the quantization of a DequantizeLinear's input initializer).
    public internal(set) var annotations: [String: TensorType] = [:]

    init(node: Node, inputTypes: [TensorType?], state: PropagationState) {
        self.node = node
        self.inputTypes = inputTypes
        self.state = state
    }

    public func type(_ i: Int) -> TensorType? { i < inputTypes.count ? inputTypes[i] : nil }
    public func shape(_ i: Int) -> Shape? { type(i)?.shape }
    public func elementType(_ i: Int) -> ElementType? { type(i)?.elementType }
    public func hasInput(_ i: Int) -> Bool { node.input(i) != nil }

    /// The constant value of input `i` (an initializer or a value already propagated).
    public func constant(_ i: Int) -> Tensor? { node.input(i).flatMap { state.constants[$0] } }

    /// The largest dimension inference accepts (2^40). Larger sizes are implausible for any
    /// model Flotilla runs, and bounding them keeps every shape computation overflow-free.
    public static let maxDimension = 1 << 40

    /// Input `i` as integers if it is a constant, clamped to ±`maxDimension` (so INT64_MAX
    /// "to the end" sentinels in Slice keep their meaning and arithmetic cannot overflow).
    public func constantInts(_ i: Int) -> [Int]? {
        constant(i)?.asInt64s?.map { Int(clamping: min(max($0, -Int64(Self.maxDimension)), Int64(Self.maxDimension))) }
    }

    /// An integer attribute bounded to `0...limit` (sizes, strides, groups); throws otherwise.
    public func boundedInt(_ name: String, default value: Int, limit: Int = 1 << 24) throws -> Int {
        let v = node.int(name) ?? value
        guard (0...limit).contains(v) else { throw badAttribute(name, "\(v) is outside 0...\(limit)") }
        return v
    }

    /// The contents of a 1-D integer input as dimensions: from a constant, or from the symbolic
    /// propagation of Shape/Gather/Concat chains.
    public func shapeValue(_ i: Int) -> [Dimension]? {
        if let c = constantInts(i) { return c.map(Dimension.fixed) }
        return node.input(i).flatMap { state.shapeValues[$0] }
    }

    /// A fresh inferred-unknown dimension, named after the node so messages can point at it.
    public mutating func unknown() -> Dimension {
        unknownCounter += 1
        return .symbolic("?\(node.name):\(unknownCounter)")
    }

    public mutating func unknownShape(rank: Int) -> Shape { Shape((0..<rank).map { _ in unknown() }) }

    public mutating func annotate(_ value: String, _ type: TensorType) { annotations[value] = type }

    /// The error for a real mismatch, naming the node and what disagrees.
    public func mismatch(_ detail: String) -> ModelIRError {
        .shapeMismatch(node: node.name, opType: node.qualifiedOpType, detail: detail)
    }

    public func badAttribute(_ name: String, _ detail: String) -> ModelIRError {
        .invalidAttribute(node: node.name, attribute: name, detail: detail)
    }

    /// An axis attribute (or value) normalized against `rank`; throws if out of range.
    public func axis(_ value: Int, rank: Int, attribute: String = "axis") throws -> Int {
        guard let a = Shape.normalize(axis: value, rank: rank) else {
            throw badAttribute(attribute, "axis \(value) is out of range for rank \(rank); use -\(rank)...\(rank - 1)")
        }
        return a
    }
}

public typealias ShapeFunction = @Sendable (inout InferenceContext) throws -> [TensorType?]

/// Shape functions by (domain, opType). `standard` covers every op the importer accepts;
/// new ops register here (see docs/model-ir.md, "Adding an op").
public struct ShapeInferenceRegistry: Sendable {
    private var functions: [String: ShapeFunction] = [:]

    public init() {}

    public mutating func register(_ opType: String, domain: String = "", _ function: @escaping ShapeFunction) {
        functions["\(domain)\u{1}\(opType)"] = function
    }

    public func function(opType: String, domain: String) -> ShapeFunction? {
        functions["\(domain)\u{1}\(opType)"]
    }

    public func supports(opType: String, domain: String) -> Bool { function(opType: opType, domain: domain) != nil }

    public static let standard: ShapeInferenceRegistry = {
        var r = ShapeInferenceRegistry()
        r.registerElementwise()
        r.registerNN()
        r.registerTensorOps()
        r.registerQuantized()
        r.registerControlFlow()
        r.registerLoops()
        r.registerIndexing()
        r.registerLayout()
        r.registerVision()
        r.registerAttention()
        r.registerSignal()
        r.registerML()
        return r
    }()
}
