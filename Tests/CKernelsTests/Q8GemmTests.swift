import CKernels
import TestSupport
import XCTest

/// Every optimized int8 GEMM path against the reference on seeded random problems: bytes must be
/// IDENTICAL (including the untouched bytes between N and ldc).
final class Q8GemmTests: XCTestCase {
    static let dims = [1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 257]
    static let u8Zeros: [Int32] = [0, 1, 127, 128, 255]
    static let s8Zeros: [Int32] = [-128, 0, 127]

    /// Weight patterns: random, all 0, all +max, all −max (max = 127, or 63 in 7-bit mode).
    static func randomCase(M: Int, N: Int, K: Int, using rng: inout SplitMix64) -> Q8GemmCase {
        var c = Q8GemmCase(M: M, N: N, K: K)
        c.xType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        c.yType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        c.xZero = (c.xType == FLOTILLA_Q8_U8 ? u8Zeros : s8Zeros).randomElement(using: &rng) ?? 0
        c.yZero = (c.yType == FLOTILLA_Q8_U8 ? u8Zeros : s8Zeros).randomElement(using: &rng) ?? 0
        c.sevenBit = Int.random(in: 0..<4, using: &rng) == 0
        let wmax: Int8 = c.sevenBit ? 63 : 127
        c.ldw = K + Int.random(in: 0...3, using: &rng)
        c.ldb = N + Int.random(in: 0...5, using: &rng)
        c.ldc = N + Int.random(in: 0...5, using: &rng)
        let wPattern = Int.random(in: 0..<6, using: &rng)
        c.weights = (0..<(M * c.ldw)).map { _ in
            switch wPattern {
            case 0: return 0
            case 1: return wmax
            case 2: return -wmax
            default: return Int8.random(in: -wmax...wmax, using: &rng)
            }
        }
        // Activation patterns: all 0x00, all 0xFF (u8 255 / s8 −1), all 0x80 (s8 −128), random.
        let bPattern = Int.random(in: 0..<6, using: &rng)
        c.activations = (0..<(K * c.ldb)).map { _ in
            switch bPattern {
            case 0: return 0
            case 1: return 255
            case 2: return 0x80
            default: return UInt8.random(in: 0...255, using: &rng)
            }
        }
        c.bias =
            Bool.random(using: &rng)
            ? nil
            : (0..<M).map { _ in
                Int.random(in: 0..<8, using: &rng) == 0
                    ? Int32.random(in: -(1 << 30)...(1 << 30), using: &rng)
                    : Int32.random(in: -100_000...100_000, using: &rng)
            }
        // Multipliers: typical (1e-4…1e-2), ≥ 1 (1…200), tiny (1e-11: quantizes to 0), or mixed.
        let mode = Int.random(in: 0..<4, using: &rng)
        c.perChannel = Bool.random(using: &rng)
        c.multiplier = []
        c.shift = []
        for _ in 0..<M {
            let real: Double
            switch mode {
            case 0: real = Double.random(in: 1e-4...1e-2, using: &rng)
            case 1: real = Double.random(in: 1...200, using: &rng)
            case 2: real = Double.random(in: 1e-11...2e-11, using: &rng)
            default: real = Double.random(in: 1e-9...4, using: &rng)
            }
            var m: Int32 = 0, s: Int32 = 0
            XCTAssertEqual(flotilla_q8_quantize_multiplier(real, &m, &s), FLOTILLA_Q8_OK)
            c.multiplier.append(m)
            c.shift.append(s)
        }
        let tmin: Int32 = c.yType == FLOTILLA_Q8_U8 ? 0 : -128, tmax: Int32 = c.yType == FLOTILLA_Q8_U8 ? 255 : 127
        c.qmin = tmin
        c.qmax = tmax
        if Int.random(in: 0..<3, using: &rng) == 0 {
            c.qmin = Int32.random(in: tmin...tmax, using: &rng)
            c.qmax = Int32.random(in: c.qmin...tmax, using: &rng)
        }
        return c
    }

    /// Every M × N pair from the set with a random K from the set, then every K.
    func testRandomShapesAreBitExact() {
        var rng = SplitMix64(seed: 0x51_8A7E)
        for M in Self.dims {
            for N in Self.dims {
                let K = Self.dims.randomElement(using: &rng) ?? 1
                let c = Self.randomCase(M: M, N: N, K: K, using: &rng)
                assertIdentical(c, "M=\(M) N=\(N) K=\(K) x=\(c.xType.rawValue)/\(c.xZero) y=\(c.yType.rawValue)/\(c.yZero)")
            }
        }
        for K in Self.dims + [1000, 4099] {
            let M = Self.dims.randomElement(using: &rng) ?? 1, N = Self.dims.randomElement(using: &rng) ?? 1
            let c = Self.randomCase(M: min(M, 33), N: min(N, 33), K: K, using: &rng)
            assertIdentical(c, "K sweep M=\(c.M) N=\(c.N) K=\(K)")
        }
    }

    /// Batch-1 shapes: N = 1 (Gemm on one row), 3×3 and 6×6 planes and N mod 32 tails of 1…17
    /// columns (the AVX-512 VNNI path vectorizes tails of ≤ 16 over rows instead of columns), M
    /// odd and across two-panel steps, K off the 4-k grid.
    func testBatchOneColumnTailsAreBitExact() {
        var rng = SplitMix64(seed: 0xB1_7A11)
        for N in [1, 9, 36, 41, 48, 49, 63, 65, 144] {
            for M in [1, 7, 9, 16, 17, 23, 24, 100] {
                let K = [1, 3, 5, 27, 64, 146, 1001].randomElement(using: &rng) ?? 1
                let c = Self.randomCase(M: M, N: N, K: K, using: &rng)
                assertIdentical(c, "tail M=\(M) N=\(N) K=\(K) x=\(c.xType.rawValue)/\(c.xZero) y=\(c.yType.rawValue)/\(c.yZero)")
            }
        }
    }

    /// K ≤ 16 with N ≥ 32 (the AVX-512 VNNI path builds the activation quads of full 32-column
    /// panels in registers instead of repacking B): every K from 1 to 17, N on and off the panel
    /// grid (remainders going to the packed tile or the row-vectorized tail), M across 8-row
    /// tiles and 64-row blocks, padded ldb/ldc.
    func testSmallKRegisterPanelsAreBitExact() {
        var rng = SplitMix64(seed: 0x5A_11_4B)
        for K in 1...17 {
            for N in [32, 33, 48, 64, 95, 144, 2304] {
                let M = [1, 5, 8, 23, 48, 71].randomElement(using: &rng) ?? 8
                let c = Self.randomCase(M: M, N: N, K: K, using: &rng)
                assertIdentical(c, "small K M=\(M) N=\(N) K=\(K) x=\(c.xType.rawValue)/\(c.xZero) y=\(c.yType.rawValue)/\(c.yZero)")
            }
        }
    }

    /// The worst accumulators the contract allows: K = 32768 with every product at its extreme.
    func testExtremeAccumulatorsAtMaximumK() {
        let K = Int(FLOTILLA_Q8_MAX_K)
        for (xType, xZero, byte, w) in [
            (FLOTILLA_Q8_U8, Int32(0), UInt8(255), Int8(127)),
            (FLOTILLA_Q8_U8, Int32(255), UInt8(0), Int8(127)),
            (FLOTILLA_Q8_S8, Int32(127), UInt8(0x80), Int8(-127)),
        ] {
            var c = Q8GemmCase(M: 2, N: 3, K: K, xType: xType, xZero: xZero)
            c.weights = [Int8](repeating: w, count: 2 * K)
            c.ldw = K
            c.activations = [UInt8](repeating: byte, count: 3 * K)
            c.ldb = 3
            c.ldc = 3
            c.bias = [1 << 30, -(1 << 30)]
            c.multiplier = [1 << 30]
            c.shift = [20]
            assertIdentical(c, "extreme x=\(xType.rawValue)/\(xZero)")
        }
    }
}
