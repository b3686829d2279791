/// The type of a value in the graph: element type, shape (nil when even the rank is unknown),
/// and, for quantized integer values, the quantization parameters.
public struct TensorType: Sendable, Hashable, CustomStringConvertible {
    public var elementType: ElementType
    public var shape: Shape?
    public var quantization: QuantParameters?

    public init(_ elementType: ElementType, _ shape: Shape?, quantization: QuantParameters? = nil) {
        self.elementType = elementType
        self.shape = shape
        self.quantization = quantization
    }

    public init(_ elementType: ElementType, _ dims: [Int]) {
        self.init(elementType, Shape(dims))
    }

    public var rank: Int? { shape?.rank }

    public var description: String {
        var s = "\(elementType)\(shape?.description ?? "[?]")"
        if let q = quantization { s += " {\(q)}" }
        return s
    }
}

/// A named, typed value at a graph boundary (graph input or output).
public struct ValueInfo: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var type: TensorType

    public init(_ name: String, _ type: TensorType) {
        self.name = name
        self.type = type
    }

    public var description: String { "\(name): \(type)" }
}
