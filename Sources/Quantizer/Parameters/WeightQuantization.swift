public import ModelIR

/// Symmetric int8 weights (z = 0), per output channel or per tensor, with q in
/// [−qmax, qmax] (127, or 63 in 7-bit mode) as docs/int8-numerics.md requires: −128 is never
/// produced, so the packers accept every result.
public struct QuantizedWeights: Sendable, Equatable {
    public var values: [Int8]
    public var shape: [Int]
    /// One scale per channel along `axis`, or one scale (axis nil).
    public var scales: [Float]
    public var axis: Int?
    public var qmax: Int32

    /// The int8 tensor annotated with its parameters (zero points 0).
    public func tensor() throws -> (tensor: Tensor, parameters: QuantParameters) {
        let t = try Tensor(int8s: values, shape: shape)
        let p = try QuantParameters(scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count), axis: axis)
        return (t, p)
    }

    /// The dequantized weights, scale · q, as fp32 (for evaluating quantization error).
    public func dequantized() -> [Float] {
        guard let axis else { return values.map { scales[0] * Float($0) } }
        let (outer, channels, inner) = WeightQuantization.split(shape, axis: axis)
        var out = [Float](repeating: 0, count: values.count)
        for o in 0..<outer {
            for c in 0..<channels {
                let base = (o * channels + c) * inner
                for i in 0..<inner { out[base + i] = scales[c] * Float(values[base + i]) }
            }
        }
        return out
    }
}

public enum WeightQuantization {
    /// Quantizes fp32 weights. `axis` is the output-channel axis for per-channel granularity
    /// (0 for Conv OIHW and Gemm with transB = 1; 1 for MatMul [K, N] and Gemm transB = 0).
    /// scale_c = max|w_c| / qmax; an all-zero channel gets scale 1 (every q is 0 and the
    /// requantization multiplier stays finite).
    public static func quantize(
        _ weights: Tensor, name: String, granularity: HardwareClass.WeightGranularity, axis: Int, bits: Int
    ) throws -> QuantizedWeights {
        guard let w = weights.floats else {
            throw QuantizerError.parameters(tensor: name, detail: "weights are \(weights.elementType); only float32 weights are quantized")
        }
        guard bits == 8 || bits == 7 else {
            throw QuantizerError.parameters(tensor: name, detail: "\(bits)-bit weights are not supported; use 8 or 7")
        }
        if let bad = w.firstIndex(where: { !$0.isFinite }) {
            throw QuantizerError.parameters(tensor: name, detail: "weight at flat index \(bad) is \(w[bad]); fix the model's weights")
        }
        let qmax: Int32 = bits == 7 ? 63 : 127
        guard axis >= 0, axis < Swift.max(weights.rank, 1) else {
            throw QuantizerError.parameters(tensor: name, detail: "channel axis \(axis) is out of range for shape \(weights.shape)")
        }
        let (outer, channels, inner) = weights.rank == 0 ? (1, 1, 1) : split(weights.shape, axis: axis)
        let perChannel = granularity == .perChannel && weights.rank > 0
        var maxAbs = [Float](repeating: 0, count: perChannel ? channels : 1)
        for o in 0..<outer {
            for c in 0..<channels {
                let base = (o * channels + c) * inner
                let k = perChannel ? c : 0
                for i in 0..<inner { maxAbs[k] = Swift.max(maxAbs[k], Swift.abs(w[base + i])) }
            }
        }
        let scales = maxAbs.map { $0 > 0 ? $0 / Float(qmax) : 1 }
        var q = [Int8](repeating: 0, count: w.count)
        for o in 0..<outer {
            for c in 0..<channels {
                let base = (o * channels + c) * inner
                let s = Double(scales[perChannel ? c : 0])
                for i in 0..<inner {
                    let v = (Double(w[base + i]) / s).rounded(.toNearestOrEven)
                    q[base + i] = Int8(Swift.min(Swift.max(v, Double(-qmax)), Double(qmax)))
                }
            }
        }
        return QuantizedWeights(values: q, shape: weights.shape, scales: scales, axis: perChannel ? axis : nil, qmax: qmax)
    }

    /// (product of dims before axis, dim at axis, product after).
    static func split(_ shape: [Int], axis: Int) -> (Int, Int, Int) {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        return (outer, shape[axis], inner)
    }
}

/// One bias entry that did not fit the contract's |bias| ≤ 2³⁰ and was saturated.
public struct BiasSaturation: Sendable, Equatable, CustomStringConvertible {
    public var channel: Int
    /// round(b / (s_x · s_w)) before saturation.
    public var ideal: Double
    public var stored: Int32

    public var description: String { "channel \(channel): \(ideal) saturated to \(stored)" }
}

/// int32 bias with scale s_x · s_w[c] and zero point 0 (docs/int8-numerics.md "Tensors").
public struct QuantizedBias: Sendable, Equatable {
    public static let maxAbs: Int32 = 1 << 30

    public var values: [Int32]
    public var scales: [Float]
    public var saturated: [BiasSaturation]

    /// "bias 'name': 3 of 64 channels saturated (...)", or nil when nothing saturated.
    public func saturationReport(tensor: String) -> String? {
        guard !saturated.isEmpty else { return nil }
        let shown = saturated.prefix(4).map(\.description).joined(separator: "; ")
        return "bias '\(tensor)': \(saturated.count) of \(values.count) channels saturated at ±2^30 (\(shown)); "
            + "the input or weight scale is too small for this bias: widen the input range or keep the layer in fp32"
    }

    /// Quantizes `bias` (one value per output channel) for input scale `inputScale` and the
    /// weights' scales (one per channel, or one for all).
    public static func quantize(_ bias: [Float], inputScale: Float, weightScales: [Float], tensor: String) throws -> QuantizedBias {
        guard weightScales.count == 1 || weightScales.count == bias.count else {
            throw QuantizerError.parameters(
                tensor: tensor,
                detail: "\(bias.count) bias values but \(weightScales.count) weight scales; give one scale or one per channel")
        }
        guard inputScale > 0, inputScale.isFinite else {
            throw QuantizerError.parameters(tensor: tensor, detail: "input scale \(inputScale) is not positive and finite")
        }
        var values = [Int32](repeating: 0, count: bias.count)
        var scales = [Float](repeating: 0, count: bias.count)
        var saturated: [BiasSaturation] = []
        for c in bias.indices {
            guard bias[c].isFinite else {
                throw QuantizerError.parameters(tensor: tensor, detail: "bias[\(c)] is \(bias[c]); fix the model's bias")
            }
            let s = Double(inputScale) * Double(weightScales.count == 1 ? weightScales[0] : weightScales[c])
            scales[c] = Float(s)
            let ideal = (Double(bias[c]) / s).rounded(.toNearestOrEven)
            let limit = Double(maxAbs)
            if Swift.abs(ideal) > limit {
                values[c] = ideal > 0 ? maxAbs : -maxAbs
                saturated.append(BiasSaturation(channel: c, ideal: ideal, stored: values[c]))
            } else {
                values[c] = Int32(ideal)
            }
        }
        return QuantizedBias(values: values, scales: scales, saturated: saturated)
    }
}
