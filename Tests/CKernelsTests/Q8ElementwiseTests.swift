import CKernels
import XCTest

/// Add, Mul, rescale, LUT, sign flip and average pooling: hand-computed values, and every path
/// identical to the reference on seeded random data.
final class Q8ElementwiseTests: XCTestCase {
    func testAddOfTwoScalesHandComputed() {
        var p = flotilla_q8_binary_params()
        // a: 0.5·(x − 0), b: 0.25·(x − 10), y: 0.5·(q − 3). a = 4 (2.0), b = 14 (1.0) → 3.0 → 6 + 3 = 9.
        XCTAssertEqual(
            flotilla_q8_add_params_init(
                &p, FLOTILLA_Q8_U8, 0.5, 0, FLOTILLA_Q8_U8, 0.25, 10,
                FLOTILLA_Q8_U8, 0.5, 3, 0, 255), FLOTILLA_Q8_OK)
        let a: [UInt8] = [4, 0, 255], b: [UInt8] = [14, 10, 255]
        for table in runnableQ8Tables() {
            var y = [UInt8](repeating: 0, count: 3)
            table.pointee.add(3, a, b, &y, &p)
            // 255·0.5 + 245·0.25 = 188.75 → /0.5 = 377.5 → clamps to 255.
            XCTAssertEqual(y, [9, 3, 255], q8PathName(table))
        }
    }

    func testMulHandComputed() {
        var p = flotilla_q8_binary_params()
        // s8: (6 − 2)·0.5 × (−3 − 1)·0.25 = 2 × −1 = −2 → /0.125 = −16 + 0.
        XCTAssertEqual(
            flotilla_q8_mul_params_init(
                &p, FLOTILLA_Q8_S8, 0.5, 2, FLOTILLA_Q8_S8, 0.25, 1,
                FLOTILLA_Q8_S8, 0.125, 0, -128, 127), FLOTILLA_Q8_OK)
        let a: [UInt8] = [6], b: [UInt8] = [UInt8(bitPattern: -3)]
        var y: [UInt8] = [0]
        q8Reference().pointee.mul(1, a, b, &y, &p)
        XCTAssertEqual(Int8(bitPattern: y[0]), -16)
    }

    func testFlipSignIsExactBothWays() {
        let x = (0...255).map { UInt8($0) }
        for table in runnableQ8Tables() {
            var s8 = [UInt8](repeating: 0, count: 256), back = [UInt8](repeating: 0, count: 256)
            table.pointee.flip_sign(256, x, &s8)
            table.pointee.flip_sign(256, s8, &back)
            XCTAssertEqual(back, x)
            // u8 value v with zero point z is s8 value v − 128 with zero point z − 128.
            XCTAssertEqual(s8.map { Int(Int8(bitPattern: $0)) }, (0...255).map { $0 - 128 })
        }
    }

    func testLookupTablesHitKnownPoints() {
        var t = [UInt8](repeating: 0, count: 256)
        // Sigmoid(0) = 0.5 → 0.5 · 256 = 128 with s_y = 1/256, z_y = 0.
        XCTAssertEqual(
            flotilla_q8_lut_build(
                FLOTILLA_Q8_LUT_SIGMOID, 0, 0, FLOTILLA_Q8_U8, 0.1, 128,
                FLOTILLA_Q8_U8, 1.0 / 256, 0, &t), FLOTILLA_Q8_OK)
        XCTAssertEqual(t[128], 128)
        XCTAssertEqual(t[255], 255)  // sigmoid(12.7) · 256 = 255.999… → 256 clamps to 255
        XCTAssertEqual(t[0], 0)
        // Tanh is odd: with symmetric s8 scales the table is antisymmetric.
        XCTAssertEqual(
            flotilla_q8_lut_build(
                FLOTILLA_Q8_LUT_TANH, 0, 0, FLOTILLA_Q8_S8, 0.05, 0,
                FLOTILLA_Q8_S8, 1.0 / 127, 0, &t), FLOTILLA_Q8_OK)
        for v in 1...127 {
            XCTAssertEqual(Int8(bitPattern: t[v]), -Int8(bitPattern: t[256 - v]), "tanh at \(v)")
        }
        // HardSwish(3) = 3 · min(1, 1) = 3; x = 0.5 · (6 − 0), y scale 0.5 → 6.
        XCTAssertEqual(
            flotilla_q8_lut_build(
                FLOTILLA_Q8_LUT_HARD_SWISH, 0, 0, FLOTILLA_Q8_S8, 0.5, 0,
                FLOTILLA_Q8_S8, 0.5, 0, &t), FLOTILLA_Q8_OK)
        XCTAssertEqual(Int8(bitPattern: t[6]), 6)
        // HardSwish(−1.5) = −1.5 · 0.25 = −0.375 → /0.5 = −0.75 → −1; (−0.5)·(5/12) → −0.4167 → 0.
        XCTAssertEqual(Int8(bitPattern: t[Int(UInt8(bitPattern: -3))]), -1)
        XCTAssertEqual(Int8(bitPattern: t[Int(UInt8(bitPattern: -1))]), 0)
        // LeakyRelu(α = 0.1) at −2.5 = −0.25 → /0.5 = −0.5, ties to even → 0; at −7.5 → −1.5 → −2.
        XCTAssertEqual(
            flotilla_q8_lut_build(
                FLOTILLA_Q8_LUT_LEAKY_RELU, 0.1, 0, FLOTILLA_Q8_S8, 0.5, 0,
                FLOTILLA_Q8_S8, 0.5, 0, &t), FLOTILLA_Q8_OK)
        XCTAssertEqual(Int8(bitPattern: t[Int(UInt8(bitPattern: -5))]), 0)
        XCTAssertEqual(Int8(bitPattern: t[Int(UInt8(bitPattern: -15))]), -2)
    }

    func testRescaleAndAverageMultipliers() {
        var p = flotilla_q8_rescale_params()
        // u8 (0.5, 128) → s8 (0.25, −5): 130 → 1.0 → 4 − 5 = −1; 0 → −64 → −256 − 5 clamps to −128.
        XCTAssertEqual(
            flotilla_q8_rescale_params_init(&p, FLOTILLA_Q8_U8, 0.5, 128, FLOTILLA_Q8_S8, 0.25, -5),
            FLOTILLA_Q8_OK)
        var y: [UInt8] = [0, 0]
        let x: [UInt8] = [130, 0]
        q8Reference().pointee.rescale(2, x, &y, &p)
        XCTAssertEqual(y.map { Int8(bitPattern: $0) }, [-1, -128])

        // 2×2 average pool of [1, 2, 3, 5] (same scales, z = 0): 11 / 4 = 2.75 → 3.
        var mult = [Int32](repeating: 0, count: 4), shift = [Int32](repeating: 0, count: 4)
        XCTAssertEqual(flotilla_q8_avgpool_multipliers(1, 1, 4, &mult, &shift), FLOTILLA_Q8_OK)
        var g = flotilla_f32_conv2d_geometry(
            channels: 1, in_h: 2, in_w: 2, kernel_h: 2, kernel_w: 2,
            stride_h: 1, stride_w: 1, dilation_h: 1, dilation_w: 1,
            pad_top: 0, pad_left: 0, pad_bottom: 0, pad_right: 0)
        let out: [UInt8] = mult.withUnsafeBufferPointer { m in
            shift.withUnsafeBufferPointer { s in
                var ap = flotilla_q8_avgpool_params(
                    type: FLOTILLA_Q8_U8, x_zero_point: 0, y_zero_point: 0,
                    count_include_pad: false, multiplier: m.baseAddress,
                    shift: s.baseAddress, qmin: 0, qmax: 255)
                var o: [UInt8] = [0]
                let x: [UInt8] = [1, 2, 3, 5]
                q8Reference().pointee.avgpool(&g, &ap, x, &o)
                return o
            }
        }
        XCTAssertEqual(out, [3])
    }
}
