public import ModelIR

/// One tensor's affine quantization, `real = scale · (q − zeroPoint)`, with the storage range
/// q takes. What docs/int8-numerics.md calls s and z.
public struct AffineParameters: Sendable, Hashable, CustomStringConvertible {
    public var scale: Float
    public var zeroPoint: Int32
    public var qmin: Int32
    public var qmax: Int32
    public var elementType: ElementType

    /// The quantized value of `x`: round half to even, saturated to [qmin, qmax].
    public func quantize(_ x: Float) -> Int32 {
        let q = (Double(x) / Double(scale)).rounded(.toNearestOrEven) + Double(zeroPoint)
        return Int32(Swift.min(Swift.max(q, Double(qmin)), Double(qmax)))
    }

    public func dequantize(_ q: Int32) -> Float { scale * Float(q - zeroPoint) }

    /// The ModelIR annotation for a per-tensor value.
    public func quantParameters() throws -> QuantParameters {
        try QuantParameters(scale: scale, zeroPoint: zeroPoint)
    }

    public var description: String { "\(elementType) scale=\(scale) zp=\(zeroPoint)" }
}

/// Activation parameters from a calibrated range (docs/quantization.md "Parameter rules").
public enum ActivationQuantization {
    /// Ranges narrower than this per quantization step are widened: a smaller scale would make
    /// the requantization multipliers s_x·s_w/s_y exceed what the contract accepts (< 2³⁰).
    public static let minimumScale: Float = 1e-8

    /// Clips a calibrated range by the activation fused into (or following) its producer:
    /// Relu → [0, ∞), Clip(a, b) → [a, b]. Both ends are clipped, so a range entirely below
    /// 0 becomes [0, 0]. Other activations do not bound the range (their outputs are
    /// calibrated directly).
    public static func fold(_ r: TensorRange, into activation: Activation?) -> TensorRange {
        switch activation {
        case .relu?: return TensorRange(min: Swift.max(r.min, 0), max: Swift.max(r.max, 0))
        case .clip(let a, let b)?:
            return TensorRange(min: Swift.min(Swift.max(r.min, a), b), max: Swift.min(Swift.max(r.max, a), b))
        default: return r
        }
    }

    /// (scale, zero point) for a range and activation type. The range is first widened to
    /// include 0 (so zero padding and ReLU zeros are exact); a range of [0, 0] gets scale 1.
    /// uint8 / int8 asymmetric: scale = (hi − lo)/255, z = round(qmin − lo/scale) clamped to the
    /// type; int8 symmetric: scale = max(|lo|, |hi|)/127, z = 0.
    public static func parameters(
        for range: TensorRange, type: HardwareClass.ActivationType, tensor: String = "<tensor>"
    ) throws -> AffineParameters {
        guard range.min.isFinite, range.max.isFinite, range.min <= range.max else {
            throw QuantizerError.parameters(
                tensor: tensor, detail: "range \(range) is not a finite interval; check the calibration data for NaN/∞")
        }
        let lo = Double(Swift.min(range.min, 0)), hi = Double(Swift.max(range.max, 0))
        let elementType: ElementType = type.isSigned ? .int8 : .uint8
        let qmin = type.qmin, qmax = type.qmax
        if type.isSymmetric {
            let a = Swift.max(-lo, hi)
            let scale = a == 0 ? 1 : Swift.max(Float(a / 127), minimumScale)
            return AffineParameters(scale: scale, zeroPoint: 0, qmin: qmin, qmax: qmax, elementType: elementType)
        }
        guard hi > lo else {
            return AffineParameters(scale: 1, zeroPoint: type.isSigned ? 0 : 0, qmin: qmin, qmax: qmax, elementType: elementType)
        }
        let scale = Swift.max(Float((hi - lo) / 255), minimumScale)
        let z = (Double(qmin) - lo / Double(scale)).rounded(.toNearestOrEven)
        let zeroPoint = Int32(Swift.min(Swift.max(z, Double(qmin)), Double(qmax)))
        return AffineParameters(scale: scale, zeroPoint: zeroPoint, qmin: qmin, qmax: qmax, elementType: elementType)
    }
}
