import Foundation

/// SplitMix64 and Box–Muller, written identically in the Python script quoted in
/// CalibratorTests, so both sides generate the same float32 samples from a seed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

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

    static func temporaryDirectory() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("quantizer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
