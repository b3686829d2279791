import CKernels
import TestSupport
import XCTest

/// The GEMM epilogues per output row over the whole shift range: the AVX-512 VNNI and AVX2
/// paths requantize rows with shift ≥ 2 in 32-bit lanes (only the products' high dwords) and
/// the rest in 64-bit lanes, so every row of these GEMMs gets its own shift in [-30, 31] and a
/// multiplier at an end of [2³⁰, 2³¹) or 0, at the MobileNet 1×1 and stem shapes (low K on and
/// off the quad grid, full 32-column tiles, tails, N = 9) and with accumulators near ±2³¹.
final class Q8GemmRequantSweepTests: XCTestCase {
    /// Rows cycle through every shift; multipliers 2³⁰, 2³¹ − 1, random, or 0 (shift 0).
    static func sweepCase(M: Int, N: Int, K: Int, extreme: Bool, using rng: inout SplitMix64) -> Q8GemmCase {
        var c = Q8GemmCase(M: M, N: N, K: K)
        c.xType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        c.yType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        let (xmin, xmax): (Int32, Int32) = c.xType == FLOTILLA_Q8_U8 ? (0, 255) : (-128, 127)
        let (ymin, ymax): (Int32, Int32) = c.yType == FLOTILLA_Q8_U8 ? (0, 255) : (-128, 127)
        c.xZero = extreme ? xmin : Int32.random(in: xmin...xmax, using: &rng)
        c.yZero = Int32.random(in: ymin...ymax, using: &rng)
        c.ldw = K
        c.ldb = N
        c.ldc = N
        // Extreme: rows alternate all +127 and all −127 against the type's largest byte, biases
        // ±2³⁰ of the same sign, so long K drives the accumulator to within 2 % of ±2³¹.
        c.weights = (0..<(M * K)).map { i in
            extreme ? ((i / K) % 2 == 1 ? 127 : -127) : Int8.random(in: -127...127, using: &rng)
        }
        let top: UInt8 = c.xType == FLOTILLA_Q8_U8 ? 255 : 127
        c.activations = (0..<(K * N)).map { _ in extreme ? top : UInt8.random(in: 0...255, using: &rng) }
        c.bias = (0..<M).map { m in
            extreme ? (m % 2 == 1 ? 1 << 30 : -(1 << 30)) : Int32.random(in: -(1 << 30)...(1 << 30), using: &rng)
        }
        c.perChannel = true
        c.multiplier = []
        c.shift = []
        for m in 0..<M {
            let multiplier: Int32
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: multiplier = 1 << 30
            case 1: multiplier = Int32.max
            case 2: multiplier = Int32.random(in: (1 << 30)...Int32.max, using: &rng)
            default: multiplier = 0
            }
            c.multiplier.append(multiplier)
            c.shift.append(multiplier == 0 ? 0 : Int32(m % 62) - 30)
        }
        c.qmin = Bool.random(using: &rng) ? ymin : Int32.random(in: ymin...ymax, using: &rng)
        c.qmax = Bool.random(using: &rng) ? ymax : Int32.random(in: c.qmin...ymax, using: &rng)
        return c
    }

    /// Low K (1…33, incl. 4, 8, 12, 16, 27 and odd K) × N across tiles and tails, all shifts.
    func testEveryShiftAtLowKIsBitExact() {
        var rng = SplitMix64(seed: 0x5E_E9_01)
        for K in [1, 3, 4, 5, 8, 12, 16, 27, 33] {
            for N in [1, 9, 31, 32, 33, 47, 48, 64, 144, 576] {
                let c = Self.sweepCase(M: 62 + K % 3, N: N, K: K, extreme: false, using: &rng)
                assertIdentical(c, "sweep M=\(c.M) N=\(N) K=\(K) x=\(c.xType.rawValue)/\(c.xZero) y=\(c.yType.rawValue)/\(c.yZero)")
            }
        }
    }

    /// The MobileNet shapes the 1×1 convs and the stem run: 48×2304×8, 8×2304×16, 16×2304×27,
    /// 96×144×16, 1280×9×112.
    func testMobileNetShapesAreBitExact() {
        var rng = SplitMix64(seed: 0x3B_11_E7)
        for (M, N, K) in [(48, 2304, 8), (8, 2304, 16), (16, 2304, 27), (96, 144, 16), (1280, 9, 112), (48, 576, 8)] {
            let c = Self.sweepCase(M: M, N: N, K: K, extreme: false, using: &rng)
            assertIdentical(c, "MobileNet M=\(M) N=\(N) K=\(K)")
        }
    }

    /// Accumulators within 2 % of ±2³¹ (K = 32768) on a full tile plus a tail, every shift.
    func testExtremeAccumulatorsAtEveryShift() {
        var rng = SplitMix64(seed: 0xE7_7E_11)
        for N in [48, 9] {
            let c = Self.sweepCase(M: 62, N: N, K: Int(FLOTILLA_Q8_MAX_K), extreme: true, using: &rng)
            assertIdentical(c, "extreme N=\(N) x=\(c.xType.rawValue) y=\(c.yType.rawValue)/\(c.yZero)")
        }
    }
}
