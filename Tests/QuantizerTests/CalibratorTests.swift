import Foundation
import Quantizer
import TestSupport
import XCTest

/// Calibrators on known distributions (100 000 samples fed in batches of 1000).
///
/// The entropy thresholds were computed by this numpy 2.4.6 script, which generates the same
/// samples (SplitMix64 + Box–Muller, float32) and implements pytorch-quantization's
/// `_compute_amax_entropy` over `np.histogram(|x|, 1024, (0, R))`, R being the first batch's
/// max |x| doubled until it covers the data (the calibrator's histogram, folded):
///
///     def entropy_amax(data, bins=2048, unsigned=False, batch=1000):
///         R = float(np.max(np.abs(data[:batch]))); mx = float(np.max(np.abs(data)))
///         while mx > R: R *= 2
///         h, _ = np.histogram(np.abs(data.astype(np.float64)), bins=bins//2, range=(0, R))
///         b = h.astype(np.float64); b[0] = b[1]; nb = 256 if unsigned else 128
///         best = None; bestd = np.inf
///         for i in range(nb, len(b) + 1):
///             dig = np.digitize(range(i), np.linspace(0, i, num=nb + 1)) - 1; dig[b[:i] == 0] = -1
///             tot = np.zeros(nb); cnt = np.zeros(nb)
///             for k in range(i):
///                 if dig[k] != -1: tot[dig[k]] += b[k]; cnt[dig[k]] += 1
///             q = np.array([tot[dig[k]] / cnt[dig[k]] if dig[k] != -1 else 0 for k in range(i)])
///             p = b[:i].copy(); p[-1] += b[i:].sum(); p /= p.sum(); q = q / q.sum(); m = p > 0
///             d = np.inf if np.any(q[m] == 0) else np.sum(p[m] * np.log(p[m] / q[m]))
///             if d <= bestd: bestd = d; best = i
///         return best, best * (2 * R / bins), R
///
/// Output: uniform seed 1 → (591, 3.453321718610823, R 5.983420372009277);
/// gaussian+outliers seed 2 → (288, 14.568873167037964, R 51.800437927246094);
/// relu seed 3, unsigned → (534, 4.295473504811525, R 8.23701286315918).
/// The same script printed min/max (uniform −0.9999899864196777 / 2.9999871253967285).
final class CalibratorTests: XCTestCase {
    static let n = 100_000

    func feed<C: Calibrator>(_ c: inout C, _ data: [Float], batch: Int = 1000) {
        var i = 0
        while i < data.count {
            let end = min(i + batch, data.count)
            data[i..<end].withUnsafeBufferPointer { c.observe($0) }
            i = end
        }
    }

    func testMinMaxIsExact() throws {
        var c = MinMaxCalibrator()
        feed(&c, Distribution.uniform.samples(Self.n, seed: 1) + [.nan, .infinity])
        let r = try c.range(tensor: "u")
        XCTAssertEqual(r.min, -0.9999899864196777)
        XCTAssertEqual(r.max, 2.9999871253967285)
        XCTAssertEqual(c.nonFiniteCount, 2)
        XCTAssertThrowsError(try MinMaxCalibrator().range(tensor: "empty"))
    }

    func testPercentileMatchesSortedSamplesWithinOneBin() throws {
        for (dist, seed) in [(Distribution.uniform, UInt64(1)), (.gaussianWithOutliers, 2), (.reluHalfNormal, 3)] {
            let data = dist.samples(Self.n, seed: seed)
            var c = PercentileCalibrator(percentile: 99.99)
            feed(&c, data)
            let r = try c.range(tensor: "x")
            // Independent: the exact order statistics (numpy's linear-interpolation percentile).
            let sorted = data.sorted()
            func percentile(_ p: Double) -> Double {
                let pos = p / 100 * Double(sorted.count - 1)
                let lo = Int(pos.rounded(.down)), frac = pos - Double(lo)
                return Double(sorted[lo]) * (1 - frac) + Double(sorted[min(lo + 1, sorted.count - 1)]) * frac
            }
            let width = c.histogram.binWidth
            XCTAssertEqual(Double(r.max), percentile(99.99), accuracy: width, "\(dist) upper")
            XCTAssertEqual(Double(r.min), percentile(0.01), accuracy: width, "\(dist) lower")
            print("percentile \(dist): \(r) vs sorted [\(percentile(0.01)), \(percentile(99.99))], bin \(width)")
        }
        // Gaussian with outliers: the 99.99th percentile is far inside the outliers' max.
        var c = PercentileCalibrator(percentile: 99.99)
        feed(&c, Distribution.gaussianWithOutliers.samples(Self.n, seed: 2))
        XCTAssertEqual(Double(try c.range(tensor: "g").max), 27.516834259033203, accuracy: c.histogram.binWidth)
    }

    func testEntropyMatchesNumpyReference() throws {
        let cases: [(Distribution, UInt64, HardwareClass.ActivationType, Double, Double)] = [
            (.uniform, 1, .int8Symmetric, 3.453321718610823, 5.983420372009277),
            (.gaussianWithOutliers, 2, .int8Symmetric, 14.568873167037964, 51.800437927246094),
            (.reluHalfNormal, 3, .uint8Asymmetric, 4.295473504811525, 8.23701286315918),
        ]
        for (dist, seed, target, threshold, halfRange) in cases {
            let data = dist.samples(Self.n, seed: seed)
            var c = EntropyCalibrator(target: target)
            feed(&c, data)
            XCTAssertEqual(c.histogram.halfRange, halfRange, accuracy: 1e-6, "\(dist) histogram range")
            let r = try c.range(tensor: "x")
            let width = c.histogram.binWidth
            let expected = TensorRange(min: max(data.min() ?? 0, Float(-threshold)), max: min(data.max() ?? 0, Float(threshold)))
            XCTAssertEqual(Double(r.max), Double(expected.max), accuracy: width, "\(dist)")
            XCTAssertEqual(Double(r.min), Double(expected.min), accuracy: width, "\(dist)")
            print("entropy \(dist): \(r), numpy threshold \(threshold)")
        }
    }

    /// MSE: the calibrator's threshold must achieve (on the raw samples) a quantization MSE
    /// within 2% of the best threshold found by brute force over 400 candidates.
    func testMSEIsNearTheBruteForceOptimum() throws {
        for (dist, seed) in [(Distribution.gaussianWithOutliers, UInt64(2)), (.uniform, 1), (.reluHalfNormal, 3)] {
            let data = dist.samples(20_000, seed: seed)
            let target = HardwareClass.ActivationType.int8Symmetric
            var c = MSECalibrator(target: target)
            feed(&c, data)
            let chosen = try c.range(tensor: "x")
            func mse(_ r: TensorRange) throws -> Double {
                let p = try ActivationQuantization.parameters(for: r, type: target)
                return data.reduce(0.0) { acc, x in
                    let d = Double(x - p.dequantize(p.quantize(x)))
                    return acc + d * d
                } / Double(data.count)
            }
            let top = Double(data.map { abs($0) }.max() ?? 1)
            var best = Double.infinity
            for k in 1...400 {
                let t = Float(top * Double(k) / 400)
                best = min(best, try mse(TensorRange(min: max(data.min() ?? 0, -t), max: min(data.max() ?? 0, t))))
            }
            let got = try mse(chosen)
            XCTAssertLessThanOrEqual(got, best * 1.02, "\(dist): MSE \(got) at \(chosen), brute force \(best)")
            let full = try mse(TensorRange(min: data.min() ?? 0, max: data.max() ?? 0))
            print("mse \(dist): range \(chosen) mse \(got), brute-force best \(best), min/max range mse \(full)")
        }
    }

    /// Retained storage after 100 and after 10 000 batches is identical for every calibrator.
    func testMemoryDoesNotGrowWithBatches() throws {
        for kind in HardwareClass.CalibratorKind.allCases {
            var few = CalibratorFactory.make(kind, target: .uint8Asymmetric)
            var many = CalibratorFactory.make(kind, target: .uint8Asymmetric)
            var rng = SplitMix64(seed: 7)
            let batch = (0..<64).map { _ in Float(rng.gaussian()) }
            var grown = batch.map { $0 * 1000 }  // forces histogram growth late in the run
            for _ in 0..<100 { batch.withUnsafeBufferPointer { few.observe($0) } }
            for i in 0..<10_000 {
                if i == 9_000 { grown.withUnsafeBufferPointer { many.observe($0) } }
                batch.withUnsafeBufferPointer { many.observe($0) }
            }
            grown.removeAll()
            XCTAssertEqual(few.retainedBytes, many.retainedBytes, "\(kind)")
            XCTAssertLessThan(many.retainedBytes, 64 * 1024, "\(kind)")
            XCTAssertNoThrow(try many.range(tensor: "x"))
            print("\(kind): \(few.retainedBytes) bytes after 100 batches, \(many.retainedBytes) after 10 000")
        }
    }

    func testHistogramGrowthIsExact() {
        var h = Histogram(binCount: 8)
        [Float(0.5), -0.5, 1.0].withUnsafeBufferPointer { h.observe($0) }  // R = 1: bins of 0.25
        XCTAssertEqual(h.counts, [0, 0, 1, 0, 0, 0, 1, 1])
        [Float(3.0)].withUnsafeBufferPointer { h.observe($0) }  // R = 2, then 4: pairs merge twice
        XCTAssertEqual(h.halfRange, 4)
        XCTAssertEqual(h.counts.reduce(0, +), 4)
        XCTAssertEqual(h.counts, [0, 0, 0, 1, 2, 0, 0, 1])
    }
}
