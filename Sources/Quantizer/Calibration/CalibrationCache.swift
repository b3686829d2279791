public import ModelIR
import Synchronization

/// Calibration statistics gathered once and reused: every calibrator kind is a pure function of
/// the same streaming `Histogram` (MinMax of its exact extremes, Percentile/Entropy/MSE of its
/// bins), so one pass of the calibration data through a float graph serves every calibrator,
/// every activation type and every hardware class that calibrates that graph. Without it, the
/// tuner streams the data again for each calibrator and each fallback trial, and a release
/// build again for each class.
///
/// Entries are keyed by the graph calibrated (compared with `==`, so a graph rewritten by a
/// recipe such as cross-layer equalization gets its own entry) and hold one histogram per
/// captured value; values not seen yet are captured in an extra pass over the data and added.
/// Memory is one histogram per value (16 KiB at the default 2048 bins), independent of the
/// number of calibration samples.
///
/// A cache belongs to one calibration data set: give it only the data it was first filled
/// from. Thread-safe; a pass runs outside the lock (two threads missing the same value both
/// compute it, with identical results).
public final class CalibrationCache: Sendable {
    struct Entry {
        var graph: Graph
        var histograms: [String: Histogram]
    }

    private let entries = Mutex<[Entry]>([])
    /// Histogram resolution; equal to what `CalibratorFactory` gives a profile's calibrators, so
    /// cached and fresh ranges are identical.
    public let bins: Int

    public init(bins: Int = Histogram.defaultBinCount) {
        self.bins = bins
    }

    /// Passes over the calibration data so far (for tests and reports).
    public var passes: Int { passCount.withLock { $0 } }
    private let passCount = Mutex(0)

    /// The range of every value in `values` as `calibrator` (configured for `profile`) would
    /// choose it after seeing `data` — exactly the same range, since it sees the same histogram.
    public func ranges(
        graph: Graph, values: [String], data: some Sequence<Result<[String: Tensor], QuantizerError>>,
        calibrator kind: HardwareClass.CalibratorKind, profile: HardwareClass
    ) throws -> [String: TensorRange] {
        let known = entries.withLock { list in list.first { $0.graph == graph }?.histograms } ?? [:]
        let missing = values.filter { known[$0] == nil }
        var histograms = known
        if !missing.isEmpty {
            let fresh = try Self.histograms(graph: graph, values: missing, data: data, bins: bins)
            passCount.withLock { $0 += 1 }
            histograms.merge(fresh) { old, _ in old }
            entries.withLock { list in
                if let i = list.firstIndex(where: { $0.graph == graph }) {
                    list[i].histograms.merge(fresh) { old, _ in old }
                } else {
                    list.append(Entry(graph: graph, histograms: fresh))
                }
            }
        }
        var ranges: [String: TensorRange] = [:]
        for v in values {
            guard let h = histograms[v] else {
                throw QuantizerError.calibration(tensor: v, detail: "no statistics were gathered; the value was never computed")
            }
            ranges[v] = try Self.calibrator(kind, profile: profile, histogram: h).range(tensor: v)
        }
        return ranges
    }

    static func calibrator(_ kind: HardwareClass.CalibratorKind, profile: HardwareClass, histogram: Histogram) -> any Calibrator {
        switch kind {
        case .minmax: return MinMaxCalibrator(histogram: histogram)
        case .percentile:
            return PercentileCalibrator(
                percentile: profile.percentile, symmetric: profile.activationType.isSymmetric, histogram: histogram)
        case .entropy: return EntropyCalibrator(target: profile.activationType, histogram: histogram)
        case .mse: return MSECalibrator(target: profile.activationType, histogram: histogram)
        }
    }

    /// One streaming pass: a histogram per value, fed batch by batch.
    static func histograms(
        graph: Graph, values: [String], data: some Sequence<Result<[String: Tensor], QuantizerError>>, bins: Int
    ) throws -> [String: Histogram] {
        var capture = try ActivationCapture(graph: graph, values: values)
        var histograms: [String: Histogram] = [:]
        for v in values { histograms[v] = Histogram(binCount: bins) }
        var batches = 0
        for item in data {
            let captured = try capture.run(try item.get())
            for (name, t) in captured {
                guard let floats = t.floats else {
                    throw QuantizerError.calibration(tensor: name, detail: "is \(t.elementType); only float32 values are calibrated")
                }
                floats.withUnsafeBufferPointer { histograms[name]?.observe($0) }
            }
            batches += 1
        }
        guard batches > 0 else {
            throw QuantizerError.calibrationData(path: "<data>", detail: "no batches; give at least one calibration sample")
        }
        return histograms
    }
}
