import Foundation

/// TensorRT's entropy calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017), as
/// NVIDIA's pytorch-quantization implements it: over the histogram of |x| (bins/2 bins on
/// [0, R]), for every candidate threshold bin i ≥ L (L = 128 quantized levels for a signed
/// 8-bit target, 256 for an unsigned one when the tensor is non-negative):
///
/// - P = the first i bins, with the counts of all bins beyond i added to bin i − 1 (clipping);
/// - Q = the first i bins merged into L equal groups, each group's total spread evenly over
///   its non-empty bins (empty bins stay empty);
/// - KL(P‖Q) on the normalized P and Q.
///
/// The threshold is the upper edge of bin i with the smallest divergence (the largest i on a
/// tie). Bin 0 is replaced by bin 1 first, so a ReLU's spike of exact zeros does not decide the
/// threshold. The range is [max(min, −t), min(max, t)].
public struct EntropyCalibrator: Calibrator {
    public let target: HardwareClass.ActivationType
    public private(set) var histogram: Histogram

    public init(target: HardwareClass.ActivationType = .int8Symmetric, bins: Int = Histogram.defaultBinCount) {
        self.target = target
        histogram = Histogram(binCount: bins)
    }

    /// Continues from statistics already gathered (`CalibrationCache` replays one pass for
    /// every calibrator kind).
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
        let unsigned = !target.isSymmetric && h.minimum >= 0
        let levels = unsigned ? 256 : 128
        let bins = Self.threshold(h.foldedAbsoluteCounts, levels: levels)
        return h.clipped(at: Double(bins) * h.binWidth)
    }

    /// The number of |x| bins kept (threshold = that many bin widths).
    static func threshold(_ absoluteCounts: [Int], levels: Int) -> Int {
        var bins = absoluteCounts.map(Double.init)
        let n = bins.count
        guard n > levels else { return n }
        bins[0] = bins[1]
        // suffix[i] = Σ bins[i...]
        var suffix = [Double](repeating: 0, count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + bins[i] }
        var best = n, bestDivergence = Double.infinity
        var q = [Double](repeating: 0, count: n)
        for i in levels...n {
            // Group g holds bins whose index k satisfies floor(k · L / i) == g, as
            // np.digitize(range(i), np.linspace(0, i, L + 1)) − 1 assigns them.
            var groupTotal = [Double](repeating: 0, count: levels)
            var groupNonEmpty = [Int](repeating: 0, count: levels)
            for k in 0..<i where bins[k] != 0 {
                let g = Self.group(k, bins: i, levels: levels)
                groupTotal[g] += bins[k]
                groupNonEmpty[g] += 1
            }
            var qSum = 0.0
            for k in 0..<i {
                if bins[k] == 0 {
                    q[k] = 0
                } else {
                    let g = Self.group(k, bins: i, levels: levels)
                    q[k] = groupTotal[g] / Double(groupNonEmpty[g])
                }
                qSum += q[k]
            }
            let pSum = suffix[0]
            var divergence = 0.0
            for k in 0..<i {
                let p = k == i - 1 ? bins[k] + suffix[i] : bins[k]
                guard p > 0 else { continue }
                guard q[k] > 0 else {
                    divergence = .infinity
                    break
                }
                let pn = p / pSum, qn = q[k] / qSum
                divergence += pn * Foundation.log(pn / qn)
            }
            if divergence <= bestDivergence {
                bestDivergence = divergence
                best = i
            }
        }
        return best
    }

    /// np.digitize semantics: the largest g with g · i / L ≤ k, computed in integers.
    @inline(__always) static func group(_ k: Int, bins i: Int, levels: Int) -> Int {
        Swift.min(k * levels / i, levels - 1)
    }
}
