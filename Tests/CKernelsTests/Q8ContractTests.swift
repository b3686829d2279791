import CKernels
import XCTest

/// The numeric contract itself (docs/int8-numerics.md), with hand-computed values.
final class Q8ContractTests: XCTestCase {
    private func quantize(_ m: Double) -> (flotilla_q8_status, Int32, Int32) {
        var multiplier: Int32 = -1, shift: Int32 = -99
        let status = flotilla_q8_quantize_multiplier(m, &multiplier, &shift)
        return (status, multiplier, shift)
    }

    func testQuantizeMultiplierExactPowersAndFractions() {
        XCTAssertTrue(quantize(0.5) == (FLOTILLA_Q8_OK, 1 << 30, 0))
        XCTAssertTrue(quantize(0.75) == (FLOTILLA_Q8_OK, 0x6000_0000, 0))
        XCTAssertTrue(quantize(1.0) == (FLOTILLA_Q8_OK, 1 << 30, -1))
        XCTAssertTrue(quantize(3.0) == (FLOTILLA_Q8_OK, 0x6000_0000, -2))
        XCTAssertTrue(quantize(0.25) == (FLOTILLA_Q8_OK, 1 << 30, 1))
        // 2⁻³² is the smallest non-zero multiplier (shift 31 = total right shift 62).
        XCTAssertTrue(quantize(0x1p-32) == (FLOTILLA_Q8_OK, 1 << 30, 31))
        XCTAssertTrue(quantize(0x1p-33) == (FLOTILLA_Q8_OK, 0, 0))
        // Largest allowed: just below 2³⁰ (total right shift 1).
        let (s, m, sh) = quantize(0x1p30 * 0.75)
        XCTAssertEqual(s, FLOTILLA_Q8_OK)
        XCTAssertEqual(m, 0x6000_0000)
        XCTAssertEqual(sh, -30)
    }

    func testQuantizeMultiplierRoundsMantissaAndRenormalizes() {
        // 1 − 2⁻⁴⁰: the mantissa rounds up to 2³¹, which becomes 2³⁰ with one less shift.
        XCTAssertTrue(quantize(1.0 - 0x1p-40) == (FLOTILLA_Q8_OK, 1 << 30, -1))
        // 0.1 = 0.8 · 2⁻³: multiplier round(0.8 · 2³¹) = 1717986918, shift 3.
        XCTAssertTrue(quantize(0.1) == (FLOTILLA_Q8_OK, 1_717_986_918, 3))
    }

    func testQuantizeMultiplierRefusesBadScales() {
        for bad in [0.0, -1.0, .nan, .infinity, 0x1p30, 1e12] {
            XCTAssertEqual(quantize(bad).0, FLOTILLA_Q8_BAD_SCALE, "\(bad)")
        }
        XCTAssertTrue(String(cString: flotilla_q8_status_message(FLOTILLA_Q8_BAD_SCALE)).contains("scale"))
    }

    func testRoundingTiesGoTowardPlusInfinity() {
        XCTAssertEqual(flotilla_q8_round_shift(5, 1), 3)  // 2.5 → 3
        XCTAssertEqual(flotilla_q8_round_shift(-5, 1), -2)  // −2.5 → −2
        XCTAssertEqual(flotilla_q8_round_shift(-7, 1), -3)  // −3.5 → −3
        XCTAssertEqual(flotilla_q8_round_shift(-6, 2), -1)  // −1.5 → −1
        XCTAssertEqual(flotilla_q8_round_shift(6, 2), 2)  // 1.5 → 2
        XCTAssertEqual(flotilla_q8_round_shift(-9, 2), -2)  // −2.25 → −2
        XCTAssertEqual(flotilla_q8_round_shift(Int64(1) << 61, 62), 1)  // 0.5 → 1
    }

    func testRequantizeClampsAndHandlesLargeMultipliers() {
        // m = 0.5: 3 → 1.5 → 2, −3 → −1.5 → −1, plus zero point 10.
        XCTAssertEqual(flotilla_q8_requantize(3, 1 << 30, 0, 10, 0, 255), 12)
        XCTAssertEqual(flotilla_q8_requantize(-3, 1 << 30, 0, 10, 0, 255), 9)
        // m = 3 (shift −2): 40 → 120 + 5 = 125; 100 → 300 + 5 clamps to 255.
        XCTAssertEqual(flotilla_q8_requantize(40, 0x6000_0000, -2, 5, 0, 255), 125)
        XCTAssertEqual(flotilla_q8_requantize(100, 0x6000_0000, -2, 5, 0, 255), 255)
        // Extreme accumulators with the largest multiplier saturate instead of wrapping.
        XCTAssertEqual(flotilla_q8_requantize(Int32.min, Int32.max, -30, 0, -128, 127), -128)
        XCTAssertEqual(flotilla_q8_requantize(Int32.max, Int32.max, -30, 0, -128, 127), 127)
        XCTAssertEqual(flotilla_q8_requantize(Int32.max, 0, 0, -7, -128, 127), -7)
    }

    func testClampRangeQuantizesReluAndRelu6() {
        var lo: Int32 = 0, hi: Int32 = 0
        XCTAssertEqual(flotilla_q8_clamp_range(FLOTILLA_Q8_U8, 0.05, 20, 0, .infinity, &lo, &hi), FLOTILLA_Q8_OK)
        XCTAssertEqual([lo, hi], [20, 255])
        XCTAssertEqual(flotilla_q8_clamp_range(FLOTILLA_Q8_U8, 0.05, 20, 0, 6, &lo, &hi), FLOTILLA_Q8_OK)
        XCTAssertEqual([lo, hi], [20, 140])
        // 0.125 / 0.25 = 0.5 ties to even 0; 0.375 / 0.25 = 1.5 ties to even 2.
        XCTAssertEqual(flotilla_q8_clamp_range(FLOTILLA_Q8_S8, 0.25, 0, 0.125, 0.375, &lo, &hi), FLOTILLA_Q8_OK)
        XCTAssertEqual([lo, hi], [0, 2])
        XCTAssertEqual(flotilla_q8_clamp_range(FLOTILLA_Q8_S8, 0.25, 0, 1, -1, &lo, &hi), FLOTILLA_Q8_BAD_CLAMP)
    }

    /// acc = 5 + (10−2)·3 + (4−2)·(−2) = 25; · 0.5 = 12.5 → 13; + 100 = 113. And the mirror −25 → 88.
    func testHandComputedTinyGemmOnEveryPath() {
        for table in runnableQ8Tables() {
            var c = Q8GemmCase(
                M: 2, N: 1, K: 2, xZero: 2, weights: [3, -2, -3, 2], ldw: 2,
                activations: [10, 4], bias: [5, -5], yZero: 100)
            XCTAssertEqual(runQ8Gemm(table, c).output, [113, 88], q8PathName(table))
            // s8 activations, s8 output, per-channel m = 1 and m = 0.25.
            c.xType = FLOTILLA_Q8_S8
            c.xZero = -3
            c.activations = [UInt8(bitPattern: -10), 7]
            c.yType = FLOTILLA_Q8_S8
            c.yZero = 1
            c.qmin = -128
            c.qmax = 127
            c.perChannel = true
            c.multiplier = [1 << 30, 1 << 30]
            c.shift = [-1, 1]
            // Row 0: (−7)·3 + 10·(−2) + 5 = −36, · 1 + 1 = −35. Row 1: (−7)(−3) + 10·2 − 5 = 36, · 0.25 + 1 = 10.
            XCTAssertEqual(runQ8Gemm(table, c).output.map { Int8(bitPattern: $0) }, [-35, 10], q8PathName(table))
        }
    }

    func testPackRefusesInputsOutsideTheContract() {
        for table in runnableQ8Tables() {
            let name = q8PathName(table)
            var c = Q8GemmCase(M: 1, N: 1, K: 2, weights: [-128, 0], ldw: 2, activations: [0, 0])
            XCTAssertEqual(runQ8Gemm(table, c).status, FLOTILLA_Q8_WEIGHT_OUT_OF_RANGE, name)
            c.weights = [64, 0]
            c.sevenBit = true
            XCTAssertEqual(runQ8Gemm(table, c).status, FLOTILLA_Q8_WEIGHT_OUT_OF_RANGE, name)
            c.sevenBit = false
            XCTAssertEqual(runQ8Gemm(table, c).status, FLOTILLA_Q8_OK, name)
            c.bias = [(1 << 30) + 1]
            XCTAssertEqual(runQ8Gemm(table, c).status, FLOTILLA_Q8_BIAS_OUT_OF_RANGE, name)
            c.bias = nil
            c.xZero = 256
            XCTAssertEqual(runQ8Gemm(table, c).status, FLOTILLA_Q8_BAD_ZERO_POINT, name)
            c = Q8GemmCase(M: 1, N: 1, K: Int(FLOTILLA_Q8_MAX_K) + 1)
            c.weights = [Int8](repeating: 1, count: c.K)
            c.ldw = c.K
            c.activations = [UInt8](repeating: 1, count: c.K)
            XCTAssertEqual(runQ8Gemm(table, c).status, FLOTILLA_Q8_K_TOO_LARGE, name)
        }
    }

    /// A buffer packed by one path is refused by every other path, never misread.
    func testMismatchedPackIsRefused() {
        let c = Q8GemmCase(
            M: 3, N: 5, K: 7, weights: [Int8](repeating: 1, count: 21), ldw: 7,
            activations: [UInt8](repeating: 2, count: 35), ldb: 5, ldc: 5)
        for runner in runnableQ8Tables() {
            for packer in runnableQ8Tables() where q8PathName(packer) != q8PathName(runner) {
                XCTAssertEqual(
                    runQ8Gemm(runner, c, packedBy: packer).status, FLOTILLA_Q8_PACK_MISMATCH,
                    "\(q8PathName(packer)) → \(q8PathName(runner))")
            }
        }
    }
}
