import Foundation
import TestSupport

/// Uniform and Box–Muller samples over SplitMix64, written identically in the Python script
/// quoted in CalibratorTests, so both sides generate the same float32 samples from a seed.
extension SplitMix64 {
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    mutating func gaussian() -> Double {
        let u1 = uniform(), u2 = uniform()
        return (-2 * log(1 - u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

enum Distribution {
    case uniform, gaussianWithOutliers, reluHalfNormal

    /// uniform: U(−1, 3); gaussianWithOutliers: N(0, 1) with every 1000th sample × 20;
    /// reluHalfNormal: |N(0, 1)|.
    func samples(_ n: Int, seed: UInt64) -> [Float] {
        var r = SplitMix64(seed: seed)
        return (0..<n).map { i in
            switch self {
            case .uniform: return Float(r.uniform() * 4 - 1)
            case .gaussianWithOutliers:
                let v = r.gaussian()
                return Float(i % 1000 == 0 ? v * 20 : v)
            case .reluHalfNormal: return Float(abs(r.gaussian()))
            }
        }
    }
}

enum TestPaths {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let repository = fixtures.deletingLastPathComponent().deletingLastPathComponent()
    static let profiles = repository.appendingPathComponent("deploy/hardware-classes")
}
