/// Chooses the symmetric clipping threshold t minimizing the quantization mean squared error
/// over the histogram: for every candidate t = k bin widths of |x| (k from 1 to bins/2), the
/// range [max(min, −t), min(max, t)] is turned into the target type's (scale, zero point)
/// exactly as `ActivationQuantization` will, and each signed bin contributes count × the mean
/// of (x − dequantize(quantize(x)))² over the bin, values taken as uniform within it (in closed
/// form: rounding error inside the representable range, clipping error beyond it). Bin
/// centers alone misjudge the rounding error when a bin is not much narrower than a step.
/// Ties go to the larger t.
public struct MSECalibrator: Calibrator {
    public let target: HardwareClass.ActivationType
    public private(set) var histogram: Histogram

    public init(target: HardwareClass.ActivationType = .int8Symmetric, bins: Int = Histogram.defaultBinCount) {
        self.target = target
        histogram = Histogram(binCount: bins)
    }

    /// Continues from statistics already gathered (`CalibrationCache`).
    init(target: HardwareClass.ActivationType, histogram: Histogram) {
        self.target = target
        self.histogram = histogram
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
        var best = h.clipped(at: h.halfRange), bestError = Double.infinity
        for k in 1...(n / 2) {
            let candidate = h.clipped(at: Double(k) * h.binWidth)
            let p = try ActivationQuantization.parameters(for: candidate, type: target, tensor: tensor)
            var error = 0.0
            for i in occupied {
                error += Double(h.counts[i]) * Self.meanSquaredError(from: h.edge(i), to: h.edge(i + 1), p)
            }
            if error <= bestError {
                bestError = error
                best = candidate
            }
        }
        return best
    }

    /// Mean over x uniform in [a, b] of (x − s·(clamp(round(x/s) + z, qmin, qmax) − z))².
    static func meanSquaredError(from a: Double, to b: Double, _ p: AffineParameters) -> Double {
        guard b > a else { return 0 }
        let s = Double(p.scale)
        let lo = s * Double(p.qmin - p.zeroPoint), hi = s * Double(p.qmax - p.zeroPoint)
        var integral = 0.0
        // Clipped below lo: error x − lo.
        if a < lo {
            let e = Swift.min(b, lo)
            integral += (pow3(e - lo) - pow3(a - lo)) / 3
        }
        if b > hi {
            let start = Swift.max(a, hi)
            integral += (pow3(b - hi) - pow3(start - hi)) / 3
        }
        let ia = Swift.max(a, lo), ib = Swift.min(b, hi)
        if ib > ia { integral += s * s * s * (sawtooth(ib / s) - sawtooth(ia / s)) }
        return integral / (b - a)
    }

    @inline(__always) static func pow3(_ x: Double) -> Double { x * x * x }

    /// ∫ from −½ to u of (t − round(t))² dt: 1/12 per whole period plus the partial one.
    static func sawtooth(_ u: Double) -> Double {
        let n = (u + 0.5).rounded(.down)
        let r = u - n
        return n / 12 + (r * r * r + 0.125) / 3
    }
}
