/// A fixed-size histogram of signed values over [−R, R] that grows by doubling R.
///
/// Bins are `binCount` (a multiple of 4) equal slots of width 2R / binCount. When a value
/// beyond ±R arrives, R doubles and every pair of adjacent bins merges into one bin of the
/// middle half: the old edges are a subset of the new ones, so re-binning is exact (no count
/// is moved across an edge it did not cross). R starts at the first batch's largest |x|, so
/// the resolution follows the data instead of a guessed range; memory never grows.
public struct Histogram: Sendable {
    public static let defaultBinCount = 2048

    public private(set) var counts: [Int]
    /// Half-width of the covered range; 0 until a non-zero value arrives.
    public private(set) var halfRange: Double = 0
    public private(set) var minimum = Float.infinity
    public private(set) var maximum = -Float.infinity
    public private(set) var total = 0
    public private(set) var nonFiniteCount = 0
    /// Exact zeros seen while `halfRange` was still 0 (placed once a range exists).
    private var pendingZeros = 0

    public init(binCount: Int = Histogram.defaultBinCount) {
        let n = Swift.max(8, (binCount + 3) / 4 * 4)
        counts = [Int](repeating: 0, count: n)
    }

    public var binCount: Int { counts.count }
    public var binWidth: Double { 2 * halfRange / Double(counts.count) }
    /// The left edge of bin `i`.
    public func edge(_ i: Int) -> Double { -halfRange + Double(i) * binWidth }
    public var retainedBytes: Int { counts.count * MemoryLayout<Int>.stride + MemoryLayout<Self>.size }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) {
        var maxAbs: Float = 0
        var lo = minimum, hi = maximum
        for v in values where v.isFinite {
            maxAbs = Swift.max(maxAbs, Swift.abs(v))
            if v < lo { lo = v }
            if v > hi { hi = v }
        }
        minimum = lo
        maximum = hi
        if halfRange == 0 && maxAbs > 0 {
            halfRange = Double(maxAbs)
            if pendingZeros > 0 {
                counts[counts.count / 2] += pendingZeros
                pendingZeros = 0
            }
        }
        while halfRange > 0 && Double(maxAbs) > halfRange { grow() }
        let n = counts.count
        let scale = Double(n) / (2 * halfRange)
        for v in values {
            guard v.isFinite else {
                nonFiniteCount += 1
                continue
            }
            total += 1
            if halfRange == 0 {
                pendingZeros += 1
                continue
            }
            let i = Int(((Double(v) + halfRange) * scale).rounded(.down))
            counts[Swift.min(Swift.max(i, 0), n - 1)] += 1
        }
    }

    /// Doubles R: bins 2j, 2j+1 of the old range become bin n/4 + j of the new one.
    private mutating func grow() {
        let n = counts.count
        var merged = [Int](repeating: 0, count: n)
        for j in 0..<(n / 2) { merged[n / 4 + j] = counts[2 * j] + counts[2 * j + 1] }
        counts = merged
        halfRange *= 2
    }

    /// Counts of |x| over [0, R] in binCount / 2 bins: bin j holds bins n/2 + j and n/2 − 1 − j.
    public var foldedAbsoluteCounts: [Int] {
        let h = counts.count / 2
        return (0..<h).map { counts[h + $0] + counts[h - 1 - $0] }
    }

    /// The value below which `fraction` of the counts lie, interpolating linearly inside the
    /// bin where the cumulative count crosses it (values are assumed uniform within a bin).
    static func quantile(_ counts: [Int], edge0: Double, width: Double, fraction: Double) -> Double {
        let total = counts.reduce(0, +)
        guard total > 0 else { return edge0 }
        let target = fraction * Double(total)
        var cumulative = 0.0
        for (i, c) in counts.enumerated() where c > 0 {
            let next = cumulative + Double(c)
            if next >= target {
                let within = (target - cumulative) / Double(c)
                return edge0 + (Double(i) + within) * width
            }
            cumulative = next
        }
        return edge0 + Double(counts.count) * width
    }

    /// Throws the calibrators' shared "nothing seen" error.
    func requireData(_ tensor: String) throws {
        guard minimum <= maximum else {
            throw QuantizerError.calibration(
                tensor: tensor, detail: "no finite value observed (\(nonFiniteCount) NaN/∞); feed calibration batches first")
        }
    }

    /// [max(min, −t), min(max, t)]: a symmetric clipping threshold applied to what was seen.
    func clipped(at t: Double) -> TensorRange {
        TensorRange(min: Swift.max(minimum, Float(-t)), max: Swift.min(maximum, Float(t)))
    }
}
