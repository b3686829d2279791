/// Affine quantization of a tensor: `real = scale * (q - zeroPoint)`, either one scale for the
/// whole tensor or one per slice along `axis` (per-channel weights).
///
/// Attached to a `TensorType`, so an int8 value carries the parameters the runtime needs to
/// requantize without looking them up elsewhere.
public struct QuantParameters: Sendable, Hashable, CustomStringConvertible {
    public let scales: [Float]
    public let zeroPoints: [Int32]
    /// `nil` for per-tensor quantization; the channel axis (non-negative) for per-axis.
    public let axis: Int?

    /// Per-tensor parameters. Throws if the scale is not a positive finite number.
    public init(scale: Float, zeroPoint: Int32) throws {
        try self.init(scales: [scale], zeroPoints: [zeroPoint], axis: nil)
    }

    /// Per-axis (or, with `axis == nil`, per-tensor) parameters, validated: at least one scale,
    /// every scale positive and finite, one zero point per scale, per-tensor means exactly one.
    public init(scales: [Float], zeroPoints: [Int32], axis: Int?) throws {
        guard !scales.isEmpty else {
            throw ModelIRError.invalidQuantization("no scales given; pass one scale per tensor or per channel")
        }
        if let bad = scales.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw ModelIRError.invalidQuantization(
                "scale[\(bad)] = \(scales[bad]) is not a positive finite number; scales must be > 0")
        }
        guard zeroPoints.count == scales.count else {
            throw ModelIRError.invalidQuantization(
                "\(scales.count) scales but \(zeroPoints.count) zero points; give one zero point per scale")
        }
        if axis == nil, scales.count != 1 {
            throw ModelIRError.invalidQuantization(
                "\(scales.count) scales without an axis; per-tensor quantization takes one scale, per-axis needs `axis`")
        }
        if let axis, axis < 0 {
            throw ModelIRError.invalidQuantization("axis \(axis) is negative; normalize it against the tensor's rank first")
        }
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
    }

    public var isPerTensor: Bool { axis == nil }

    /// Checks the parameters against the tensor type they are attached to: zero points within
    /// the storage type's range and, per-axis, one scale per slice of a fixed axis dimension.
    public func validate(for elementType: ElementType, shape: Shape?) throws {
        guard let range = elementType.quantizedRange else {
            throw ModelIRError.invalidQuantization(
                "quantization parameters on a \(elementType) tensor; only int8/uint8/int16/uint16/int32 are quantized types")
        }
        if let bad = zeroPoints.firstIndex(where: { !range.contains(Int64($0)) }) {
            throw ModelIRError.invalidQuantization(
                "zero point[\(bad)] = \(zeroPoints[bad]) is outside the \(elementType) range \(range)")
        }
        if let axis, let shape {
            guard axis < shape.rank else {
                throw ModelIRError.invalidQuantization("axis \(axis) is out of range for shape \(shape)")
            }
            if case .fixed(let n) = shape[axis], n != scales.count {
                throw ModelIRError.invalidQuantization(
                    "\(scales.count) scales for axis \(axis) of size \(n) in shape \(shape); give one scale per channel")
            }
        }
    }

    public var description: String {
        if let axis { return "per-axis(\(axis), \(scales.count) channels)" }
        return "scale=\(scales[0]) zp=\(zeroPoints[0])"
    }
}
