import TestSupport

// Deterministic random data for the kernel tests (SplitMix64), so every run sees the same
// shapes and values and a failure reproduces exactly.
extension SplitMix64 {
    /// `count` floats uniform in [-1, 1).
    mutating func floats(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float.random(in: -1..<1, using: &self) }
    }
}
