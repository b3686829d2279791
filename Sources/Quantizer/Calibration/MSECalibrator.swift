/// Chooses the symmetric clipping threshold t minimizing the quantization mean squared error
/// over the histogram: for every candidate t = k bin widths of |x| (k from 1 to bins/2), the
/// range [max(min, −t), min(max, t)] is turned into the target type's (scale, zero point)
/// exactly as `ActivationQuantization` will, and each signed bin contributes
/// count × (center − dequantize(quantize(center)))². Clipping error (beyond t) and rounding
/// error (inside) are both counted. Ties go to the larger t.
public struct MSECalibrator: Calibrator {
    public let target: HardwareClass.ActivationType
    public private(set) var histogram: Histogram

    public init(target: HardwareClass.ActivationType = .int8Symmetric, bins: Int = Histogram.defaultBinCount) {
        self.target = target
        histogram = Histogram(binCount: bins)
    }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) { histogram.observe(values) }
    public var retainedBytes: Int { histogram.retainedBytes + 8 }
    public var nonFiniteCount: Int { histogram.nonFiniteCount }

    public func range(tensor: String) throws -> TensorRange {
        try histogram.requireData(tensor)
        let h = histogram
        guard h.halfRange > 0 else { return TensorRange(min: 0, max: 0) }
        let n = h.binCount
        let occupied = h.counts.indices.filter { h.counts[$0] > 0 }
        let centers = occupied.map { h.edge($0) + h.binWidth / 2 }
        var best = h.clipped(at: h.halfRange), bestError = Double.infinity
        for k in 1...(n / 2) {
            let candidate = h.clipped(at: Double(k) * h.binWidth)
            let p = try ActivationQuantization.parameters(for: candidate, type: target, tensor: tensor)
            var error = 0.0
            for (j, i) in occupied.enumerated() {
                let x = Float(centers[j])
                let d = Double(x - p.dequantize(p.quantize(x)))
                error += Double(h.counts[i]) * d * d
            }
            if error <= bestError {
                bestError = error
                best = candidate
            }
        }
        return best
    }
}
