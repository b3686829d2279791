/// Clips the tails: the range runs from the (100 − p)-th to the p-th percentile of what was
/// seen (two-sided), or, for symmetric targets, to ±(p-th percentile of |x|). Percentiles come
/// from the streaming histogram with linear interpolation inside the crossing bin, so the
/// result is within one bin width (2R / bins) of the exact sample percentile.
public struct PercentileCalibrator: Calibrator {
    public let percentile: Double
    public let symmetric: Bool
    public private(set) var histogram: Histogram

    public init(percentile: Double = 99.99, symmetric: Bool = false, bins: Int = Histogram.defaultBinCount) {
        self.percentile = Swift.min(Swift.max(percentile, 50), 100)
        self.symmetric = symmetric
        histogram = Histogram(binCount: bins)
    }

    /// Continues from statistics already gathered (`CalibrationCache`).
    init(percentile: Double, symmetric: Bool, histogram: Histogram) {
        self.percentile = Swift.min(Swift.max(percentile, 50), 100)
        self.symmetric = symmetric
        self.histogram = histogram
    }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) { histogram.observe(values) }
    public var retainedBytes: Int { histogram.retainedBytes + 16 }
    public var nonFiniteCount: Int { histogram.nonFiniteCount }

    public func range(tensor: String) throws -> TensorRange {
        try histogram.requireData(tensor)
        let h = histogram
        guard h.halfRange > 0 else { return TensorRange(min: 0, max: 0) }
        let p = percentile / 100
        if symmetric {
            let t = Histogram.quantile(h.foldedAbsoluteCounts, edge0: 0, width: h.binWidth, fraction: p)
            return h.clipped(at: t)
        }
        let lo = Histogram.quantile(h.counts, edge0: -h.halfRange, width: h.binWidth, fraction: 1 - p)
        let hi = Histogram.quantile(h.counts, edge0: -h.halfRange, width: h.binWidth, fraction: p)
        return TensorRange(min: Swift.max(h.minimum, Float(lo)), max: Swift.min(h.maximum, Float(hi)))
    }
}
