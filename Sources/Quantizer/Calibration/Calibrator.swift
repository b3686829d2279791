/// A real-valued range [min, max] chosen for one tensor.
public struct TensorRange: Sendable, Hashable, CustomStringConvertible {
    public var min: Float
    public var max: Float

    public init(min: Float, max: Float) {
        self.min = min
        self.max = max
    }

    public var description: String { "[\(min), \(max)]" }
}

/// Streaming statistics for one tensor: `observe` is called once per batch with that batch's
/// values, and `range` gives the chosen range at any time. Memory is fixed at creation
/// (`retainedBytes` does not grow with the number of batches). NaN and ±∞ are skipped and
/// counted, never folded into a range.
public protocol Calibrator: Sendable {
    mutating func observe(_ values: UnsafeBufferPointer<Float>)
    /// The range for `tensor` (named in errors); throws if no finite value was seen.
    func range(tensor: String) throws -> TensorRange
    /// Bytes this calibrator keeps, independent of how much it has seen.
    var retainedBytes: Int { get }
    /// Values skipped because they were NaN or infinite.
    var nonFiniteCount: Int { get }
}

extension Calibrator {
    public mutating func observe(_ values: [Float]) {
        values.withUnsafeBufferPointer { observe($0) }
    }
}

/// The exact minimum and maximum of every finite value seen.
public struct MinMaxCalibrator: Calibrator {
    public private(set) var minimum = Float.infinity
    public private(set) var maximum = -Float.infinity
    public private(set) var nonFiniteCount = 0

    public init() {}

    /// The exact extremes a `Histogram` tracked (it skips non-finite values the same way).
    init(histogram h: Histogram) {
        minimum = h.minimum
        maximum = h.maximum
        nonFiniteCount = h.nonFiniteCount
    }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) {
        var lo = minimum, hi = maximum, bad = 0
        for v in values {
            if !v.isFinite {
                bad += 1
                continue
            }
            if v < lo { lo = v }
            if v > hi { hi = v }
        }
        minimum = lo
        maximum = hi
        nonFiniteCount += bad
    }

    public func range(tensor: String) throws -> TensorRange {
        guard minimum <= maximum else {
            throw QuantizerError.calibration(
                tensor: tensor, detail: "no finite value observed (\(nonFiniteCount) NaN/∞); feed calibration batches first")
        }
        return TensorRange(min: minimum, max: maximum)
    }

    public var retainedBytes: Int { MemoryLayout<Self>.size }
}

/// Makes the calibrator a profile names, configured for the class's activation type.
public enum CalibratorFactory {
    public static func make(_ kind: HardwareClass.CalibratorKind, for hardwareClass: HardwareClass) -> any Calibrator {
        make(kind, target: hardwareClass.activationType, percentile: hardwareClass.percentile)
    }

    public static func make(
        _ kind: HardwareClass.CalibratorKind, target: HardwareClass.ActivationType, percentile: Double = 99.99,
        bins: Int = Histogram.defaultBinCount
    ) -> any Calibrator {
        switch kind {
        case .minmax: return MinMaxCalibrator()
        case .percentile: return PercentileCalibrator(percentile: percentile, symmetric: target.isSymmetric, bins: bins)
        case .entropy: return EntropyCalibrator(target: target, bins: bins)
        case .mse: return MSECalibrator(target: target, bins: bins)
        }
    }
}
