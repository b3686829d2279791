import CKernels
import TestSupport
import XCTest

/// The SIMD Add, global average pooling and QuantizeLinear kernels of every runnable optimized
/// path, bytes identical to the reference on seeded random data with edge values (the C test
/// program tests/arm64/q8_test.c covers the same kernels on the ARM64 paths under qemu).
final class Q8SIMDElementwiseTests: XCTestCase {
    private func randomType(_ rng: inout SplitMix64) -> flotilla_q8_type {
        Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
    }

    private func typeRange(_ t: flotilla_q8_type) -> ClosedRange<Int32> { t == FLOTILLA_Q8_U8 ? 0...255 : -128...127 }

    private func bytes(_ n: Int, _ rng: inout SplitMix64) -> [UInt8] {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: return [UInt8](repeating: 0, count: n)
        case 1: return [UInt8](repeating: 255, count: n)
        case 2: return [UInt8](repeating: 0x80, count: n)
        default: return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
    }

    func testAddIsBitExactOnEveryPath() {
        var rng = SplitMix64(seed: 0xADD5)
        for i in 0..<300 {
            let n = Int.random(in: 1...(i % 4 == 0 ? 40 : 2000), using: &rng)
            let at = randomType(&rng), bt = randomType(&rng), yt = randomType(&rng)
            let ra = typeRange(at), rb = typeRange(bt), ry = typeRange(yt)
            let za = Bool.random(using: &rng) ? Int32.random(in: ra, using: &rng) : ra.lowerBound
            let zb = Bool.random(using: &rng) ? Int32.random(in: rb, using: &rng) : rb.upperBound
            let sa = pow(10, Double.random(in: -3...3, using: &rng)) * 0.01
            let sb = sa * pow(10, Double.random(in: -2...2, using: &rng))
            let sy = (sa + sb) * pow(10, Double.random(in: -1...1, using: &rng))
            let qmin = Bool.random(using: &rng) ? ry.lowerBound : Int32.random(in: ry, using: &rng)
            let qmax = Bool.random(using: &rng) ? ry.upperBound : Int32.random(in: qmin...ry.upperBound, using: &rng)
            var p = flotilla_q8_binary_params()
            let zy = Int32.random(in: ry, using: &rng)
            guard flotilla_q8_add_params_init(&p, at, sa, za, bt, sb, zb, yt, sy, zy, qmin, qmax) == FLOTILLA_Q8_OK else {
                continue
            }
            let a = bytes(n, &rng), b = bytes(n, &rng)
            var expected = [UInt8](repeating: 0x5A, count: n + 1)
            q8Reference().pointee.add(n, a, b, &expected, &p)
            for table in optimizedQ8Tables() {
                var got = [UInt8](repeating: 0x5A, count: n + 1)
                table.pointee.add(n, a, b, &got, &p)
                XCTAssertEqual(got, expected, "\(q8PathName(table)) case \(i): n \(n)")
            }
        }
    }

    func testGlobalAveragePoolIsBitExactOnEveryPath() {
        var rng = SplitMix64(seed: 0x6A9)
        for i in 0..<150 {
            let h = Int.random(in: 1...12, using: &rng), w = Int.random(in: 1...12, using: &rng)
            let c = Int.random(in: 1...600, using: &rng), taps = h * w
            var g = flotilla_f32_conv2d_geometry(
                channels: c, in_h: h, in_w: w, kernel_h: h, kernel_w: w, stride_h: 1, stride_w: 1,
                dilation_h: 1, dilation_w: 1, pad_top: 0, pad_left: 0, pad_bottom: 0, pad_right: 0)
            let t = randomType(&rng), r = typeRange(t)
            var mult = [Int32](repeating: 0, count: taps), shift = [Int32](repeating: 0, count: taps)
            let sx = 0.02 * pow(10, Double.random(in: -1...1, using: &rng))
            let sy = sx * pow(10, Double.random(in: -1...1, using: &rng))
            XCTAssertEqual(flotilla_q8_avgpool_multipliers(sx, sy, taps, &mult, &shift), FLOTILLA_Q8_OK)
            let x = bytes(c * taps, &rng)
            let zx = Bool.random(using: &rng) ? r.lowerBound : Int32.random(in: r, using: &rng)
            let zy = Int32.random(in: r, using: &rng)
            let run = { (table: UnsafePointer<flotilla_q8_kernels>) -> [UInt8] in
                mult.withUnsafeBufferPointer { m in
                    shift.withUnsafeBufferPointer { s in
                        var p = flotilla_q8_avgpool_params(
                            type: t, x_zero_point: zx, y_zero_point: zy, count_include_pad: i % 2 == 0,
                            multiplier: m.baseAddress, shift: s.baseAddress, qmin: r.lowerBound, qmax: r.upperBound)
                        var y = [UInt8](repeating: 0x5A, count: c + 1)
                        table.pointee.avgpool(&g, &p, x, &y)
                        return y
                    }
                }
            }
            let expected = run(q8Reference())
            for table in optimizedQ8Tables() {
                XCTAssertEqual(run(table), expected, "\(q8PathName(table)) case \(i): \(c)×\(h)×\(w)")
            }
        }
    }

    func testQuantizeRoundsHalfToEvenAndIsBitExactOnEveryPath() {
        // Ties to even, NaN → zero point, ±∞ and large values saturate.
        let xs: [Float] = [2.5, 3.5, -2.5, .nan, 1e9, -.infinity, 0.49999997]
        for table in runnableQ8Tables() {
            var y = [UInt8](repeating: 0, count: xs.count)
            table.pointee.quantize(xs.count, xs, 1, 10, 0, 255, &y)
            XCTAssertEqual(y, [12, 14, 8, 10, 255, 0, 10], q8PathName(table))
        }
        var rng = SplitMix64(seed: 0x0_0A17)
        for i in 0..<300 {
            let n = Int.random(in: 1...700, using: &rng)
            let t = randomType(&rng), r = typeRange(t)
            let scale = Float(pow(10, Double.random(in: -6...2, using: &rng)))
            let zp = Int32.random(in: r, using: &rng)
            let x: [Float] = (0..<n).map { _ in
                switch Int.random(in: 0..<8, using: &rng) {
                case 0: return (Float(Int.random(in: -300...300, using: &rng)) + 0.5) * scale
                case 1: return Float(Int.random(in: -300...300, using: &rng)) * scale
                case 2: return [Float.nan, .infinity, -.infinity][Int.random(in: 0..<3, using: &rng)]
                case 3: return (4_194_304 + Float(Int.random(in: -3...3, using: &rng))) * scale
                case 4: return Float(Int.random(in: -1000...1000, using: &rng)) * Float.leastNonzeroMagnitude
                default: return Float.random(in: -300...300, using: &rng) * scale
                }
            }
            var expected = [UInt8](repeating: 0x5A, count: n + 1)
            q8Reference().pointee.quantize(n, x, scale, zp, r.lowerBound, r.upperBound, &expected)
            for table in optimizedQ8Tables() {
                var got = [UInt8](repeating: 0x5A, count: n + 1)
                table.pointee.quantize(n, x, scale, zp, r.lowerBound, r.upperBound, &got)
                XCTAssertEqual(got, expected, "\(q8PathName(table)) case \(i): n \(n) scale \(scale)")
            }
        }
    }
}
