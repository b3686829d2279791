public import ModelIR

/// The concrete type of a value in a bound plan: element type and shape with every dimension
/// known.
public struct ValueType: Sendable, Hashable, CustomStringConvertible {
    public var elementType: ElementType
    public var shape: [Int]

    public init(_ elementType: ElementType, _ shape: [Int]) {
        self.elementType = elementType
        self.shape = shape
    }

    public var rank: Int { shape.count }
    public var elementCount: Int { Shape.checkedProduct(shape) ?? 0 }
    /// Bytes of the dense row-major layout (0 for string, which the runtime never stores).
    public var byteCount: Int { elementCount * (elementType.byteSize ?? 0) }

    public var description: String { "\(elementType)\(shape)" }
}

/// Row-major strides (in elements) of a shape.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}
