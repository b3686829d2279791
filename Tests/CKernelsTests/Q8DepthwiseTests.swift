import CKernels
import TestSupport
import XCTest

/// Depthwise convolution and im2col, every path against the reference, bytes identical.
final class Q8DepthwiseTests: XCTestCase {
    private func randomGeometry(using rng: inout SplitMix64) -> flotilla_f32_conv2d_geometry {
        while true {
            let k = Int.random(in: 0..<3, using: &rng) == 0 ? Int.random(in: 1...5, using: &rng) : 3
            var g = flotilla_f32_conv2d_geometry(
                channels: Int.random(in: 1...10, using: &rng), in_h: Int.random(in: 1...20, using: &rng),
                in_w: Int.random(in: 1...40, using: &rng), kernel_h: k, kernel_w: k,
                stride_h: Int.random(in: 1...2, using: &rng), stride_w: Int.random(in: 1...3, using: &rng),
                dilation_h: Int.random(in: 1...2, using: &rng), dilation_w: Int.random(in: 1...2, using: &rng),
                pad_top: Int.random(in: 0...2, using: &rng), pad_left: Int.random(in: 0...2, using: &rng),
                pad_bottom: Int.random(in: 0...2, using: &rng), pad_right: Int.random(in: 0...2, using: &rng))
            if flotilla_f32_conv2d_geometry_check(&g) == FLOTILLA_F32_GEOMETRY_OK { return g }
        }
    }

    private func dwconv(
        _ table: UnsafePointer<flotilla_q8_kernels>, _ g: flotilla_f32_conv2d_geometry,
        input: [UInt8], weights: [Int8], bias: [Int32]?, multiplier: [Int32], shift: [Int32],
        perChannel: Bool, xType: flotilla_q8_type, xZero: Int32, yZero: Int32,
        yType: flotilla_q8_type = FLOTILLA_Q8_U8, qmin: Int32 = 0, qmax: Int32 = 255
    ) -> [UInt8] {
        var g = g
        let count = g.channels * flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g)
        var output = [UInt8](repeating: 0x5A, count: count + 1)  // + 1: must stay untouched
        weights.withUnsafeBufferPointer { w in
            multiplier.withUnsafeBufferPointer { m in
                shift.withUnsafeBufferPointer { s in
                    withOptionalInt32Pointer(bias) { b in
                        var p = flotilla_q8_dwconv_params(
                            x_type: xType, x_zero_point: xZero, weights: w.baseAddress, bias: b,
                            requant: flotilla_q8_requant(
                                multiplier: m.baseAddress, shift: s.baseAddress,
                                per_channel: perChannel, type: yType,
                                zero_point: yZero, qmin: qmin, qmax: qmax))
                        table.pointee.dwconv(&g, &p, input, &output)
                        checkPacked(table, g, p, input: input, plain: output)
                    }
                }
            }
        }
        return output
    }

    /// The plan-time pack on the same call: packed where the path packs for g (its run then reads
    /// weights and bias only from the pack: the params it gets point at zeroed copies), else the
    /// NULL-pack entry; either way the bytes `dwconv` wrote.
    private func checkPacked(
        _ table: UnsafePointer<flotilla_q8_kernels>, _ g: flotilla_f32_conv2d_geometry, _ p: flotilla_q8_dwconv_params,
        input: [UInt8], plain: [UInt8]
    ) {
        var g = g, p = p
        var output = [UInt8](repeating: 0x5A, count: plain.count)
        let size = table.pointee.dwconv_pack_size(&g)
        if size == 0 {
            XCTAssertEqual(table.pointee.dwconv_packed(&g, &p, nil, input, &output), FLOTILLA_Q8_OK)
            XCTAssertEqual(output, plain, "\(q8PathName(table)) unpacked entry: \(g)")
            return
        }
        let packed = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { packed.deallocate() }
        XCTAssertEqual(table.pointee.dwconv_pack(&g, &p, packed), FLOTILLA_Q8_OK, "\(q8PathName(table)) pack: \(g)")
        let taps = g.kernel_h * g.kernel_w
        let noWeights = [Int8](repeating: 0, count: g.channels * taps), noBias = [Int32](repeating: 0, count: g.channels)
        noWeights.withUnsafeBufferPointer { w in
            noBias.withUnsafeBufferPointer { b in
                p.weights = w.baseAddress
                p.bias = p.bias == nil ? nil : b.baseAddress
                XCTAssertEqual(table.pointee.dwconv_packed(&g, &p, packed, input, &output), FLOTILLA_Q8_OK)
            }
        }
        XCTAssertEqual(output, plain, "\(q8PathName(table)) packed entry: \(g)")
    }

    func testRandomDepthwiseIsBitExact() {
        var rng = SplitMix64(seed: 0xD3_9C0E)
        for i in 0..<300 {
            let g = randomGeometry(using: &rng)
            let taps = g.kernel_h * g.kernel_w
            let input = (0..<(g.channels * g.in_h * g.in_w)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let weights = (0..<(g.channels * taps)).map { _ in Int8.random(in: -127...127, using: &rng) }
            let bias: [Int32]? =
                Bool.random(using: &rng)
                ? nil
                : (0..<g.channels).map { _ in Int32.random(in: -50_000...50_000, using: &rng) }
            var multiplier: [Int32] = [], shift: [Int32] = []
            for _ in 0..<g.channels {
                var m: Int32 = 0, s: Int32 = 0
                _ = flotilla_q8_quantize_multiplier(Double.random(in: 1e-3...(i % 4 == 0 ? 3 : 0.05), using: &rng), &m, &s)
                multiplier.append(m)
                shift.append(s)
            }
            let xType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
            let xZero = xType == FLOTILLA_Q8_U8 ? Int32.random(in: 0...255, using: &rng) : Int32.random(in: -128...127, using: &rng)
            let perChannel = Bool.random(using: &rng), yZero = Int32.random(in: 0...255, using: &rng)
            let expected = dwconv(
                q8Reference(), g, input: input, weights: weights, bias: bias, multiplier: multiplier,
                shift: shift, perChannel: perChannel, xType: xType, xZero: xZero, yZero: yZero)
            for table in optimizedQ8Tables() {
                let got = dwconv(
                    table, g, input: input, weights: weights, bias: bias, multiplier: multiplier,
                    shift: shift, perChannel: perChannel, xType: xType, xZero: xZero, yZero: yZero)
                XCTAssertEqual(got, expected, "\(q8PathName(table)) case \(i): \(g)")
            }
        }
    }

    /// The channels-last path (small planes, many channels: the entry points choose it there):
    /// channel counts on and off every block size (16, 32, 64), strides 1–2, dilation 2,
    /// asymmetric padding, u8/s8 in and out, per-tensor and per-channel requant, extreme zero
    /// points and multipliers, clamps. The smallest channel counts exercise the planar side.
    func testManyChannelSmallPlanesAreBitExact() {
        var rng = SplitMix64(seed: 0xC1A5_7C0D)
        let channelCounts = [1, 3, 16, 17, 32, 33, 48, 63, 64, 65, 96, 144, 192, 336]
        for i in 0..<160 {
            var g: flotilla_f32_conv2d_geometry
            repeat {
                let side = Int.random(in: 1...14, using: &rng)
                let k = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 1...5, using: &rng) : 3
                g = flotilla_f32_conv2d_geometry(
                    channels: channelCounts[i % channelCounts.count], in_h: side,
                    in_w: Bool.random(using: &rng) ? side : Int.random(in: 1...16, using: &rng),
                    kernel_h: k, kernel_w: Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 1...4, using: &rng) : k,
                    stride_h: Int.random(in: 1...2, using: &rng), stride_w: Int.random(in: 1...2, using: &rng),
                    dilation_h: Int.random(in: 1...2, using: &rng), dilation_w: Int.random(in: 1...2, using: &rng),
                    pad_top: Int.random(in: 0...2, using: &rng), pad_left: Int.random(in: 0...2, using: &rng),
                    pad_bottom: Int.random(in: 0...2, using: &rng), pad_right: Int.random(in: 0...2, using: &rng))
            } while flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK
            let d = Q8DepthwiseData.random(i, g, edges: 5, using: &rng)
            let expected = dwconv(
                q8Reference(), g, input: d.input, weights: d.weights, bias: d.bias, multiplier: d.multiplier,
                shift: d.shift, perChannel: d.perChannel, xType: d.xType, xZero: d.xZero, yZero: d.yZero,
                yType: d.yType, qmin: d.qmin, qmax: d.qmax)
            for table in optimizedQ8Tables() {
                let got = dwconv(
                    table, g, input: d.input, weights: d.weights, bias: d.bias, multiplier: d.multiplier,
                    shift: d.shift, perChannel: d.perChannel, xType: d.xType, xZero: d.xZero, yZero: d.yZero,
                    yType: d.yType, qmin: d.qmin, qmax: d.qmax)
                XCTAssertEqual(got, expected, "\(q8PathName(table)) case \(i): \(g)")
            }
        }
    }

    /// MobileNet's large planes (16–52 pixels a side, 3×3): the entry points run them
    /// channels-last in bands, with the row-run transposes (16-pixel runs, a moved-back last run)
    /// and partial channel blocks' tile stores, or planar with its inline row copies.
    func testLargePlanesAreBitExact() {
        var rng = SplitMix64(seed: 0x1A_46E5)
        let channelCounts = [16, 17, 24, 32, 33, 48, 64, 65, 96]
        for i in 0..<36 {
            var g: flotilla_f32_conv2d_geometry
            repeat {
                let side = Int.random(in: 16...52, using: &rng)
                g = flotilla_f32_conv2d_geometry(
                    channels: channelCounts[i % channelCounts.count], in_h: side,
                    in_w: Bool.random(using: &rng) ? side : Int.random(in: 16...52, using: &rng),
                    kernel_h: 3, kernel_w: 3,
                    stride_h: Int.random(in: 1...2, using: &rng), stride_w: Int.random(in: 1...2, using: &rng),
                    dilation_h: 1, dilation_w: i % 6 == 5 ? 2 : 1,
                    pad_top: Int.random(in: 0...1, using: &rng), pad_left: Int.random(in: 0...2, using: &rng),
                    pad_bottom: Int.random(in: 0...1, using: &rng), pad_right: Int.random(in: 0...2, using: &rng))
            } while flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK
            let input = (0..<(g.channels * g.in_h * g.in_w)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let weights = (0..<(g.channels * 9)).map { _ in Int8.random(in: -127...127, using: &rng) }
            let bias = (0..<g.channels).map { _ in Int32.random(in: -(1 << 20)...(1 << 20), using: &rng) }
            var multiplier: [Int32] = [], shift: [Int32] = []
            for _ in 0..<g.channels {
                var m: Int32 = 0, s: Int32 = 0
                let real = i % 4 == 0 ? Double.random(in: 0.5...4, using: &rng) : Double.random(in: 1e-4...0.02, using: &rng)
                _ = flotilla_q8_quantize_multiplier(real, &m, &s)
                multiplier.append(m)
                shift.append(s)
            }
            let xType = i % 2 == 0 ? FLOTILLA_Q8_U8 : FLOTILLA_Q8_S8
            let xZero: Int32 = xType == FLOTILLA_Q8_U8 ? Int32.random(in: 0...255, using: &rng) : Int32.random(in: -128...127, using: &rng)
            let yZero = Int32.random(in: 0...255, using: &rng)
            let qmin: Int32 = i % 3 == 0 ? 20 : 0, qmax: Int32 = i % 3 == 0 ? 230 : 255
            let expected = dwconv(
                q8Reference(), g, input: input, weights: weights, bias: bias, multiplier: multiplier,
                shift: shift, perChannel: true, xType: xType, xZero: xZero, yZero: yZero, qmin: qmin, qmax: qmax)
            for table in optimizedQ8Tables() {
                let got = dwconv(
                    table, g, input: input, weights: weights, bias: bias, multiplier: multiplier,
                    shift: shift, perChannel: true, xType: xType, xZero: xZero, yZero: yZero, qmin: qmin, qmax: qmax)
                XCTAssertEqual(got, expected, "\(q8PathName(table)) case \(i): \(g)")
            }
        }
    }

    /// im2col pads with the zero point's byte, on every path, identically.
    func testIm2colPadsWithZeroPoint() {
        var g = flotilla_f32_conv2d_geometry(
            channels: 1, in_h: 2, in_w: 2, kernel_h: 3, kernel_w: 3,
            stride_h: 1, stride_w: 1, dilation_h: 1, dilation_w: 1,
            pad_top: 1, pad_left: 1, pad_bottom: 1, pad_right: 1)
        for table in runnableQ8Tables() {
            var columns = [UInt8](repeating: 0, count: 9 * 4)
            table.pointee.im2col(&g, [1, 2, 3, 4], 77, &columns)
            // Tap (0,0) of output (0,0) reads input (−1,−1): padding → 77; centre tap row 4 is the input.
            XCTAssertEqual(Array(columns[0..<4]), [77, 77, 77, 1], q8PathName(table))
            XCTAssertEqual(Array(columns[16..<20]), [1, 2, 3, 4], q8PathName(table))
        }
        var rng = SplitMix64(seed: 0x1A2C01)
        for _ in 0..<200 {
            var rg = randomGeometry(using: &rng)
            let input = (0..<(rg.channels * rg.in_h * rg.in_w)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let count = rg.channels * rg.kernel_h * rg.kernel_w * flotilla_f32_conv2d_out_h(&rg) * flotilla_f32_conv2d_out_w(&rg)
            var expected = [UInt8](repeating: 0, count: count)
            q8Reference().pointee.im2col(&rg, input, 128, &expected)
            for table in optimizedQ8Tables() {
                var got = [UInt8](repeating: 1, count: count)
                table.pointee.im2col(&rg, input, 128, &got)
                XCTAssertEqual(got, expected, q8PathName(table))
            }
        }
    }
}

func withOptionalInt32Pointer<R>(_ array: [Int32]?, _ body: (UnsafePointer<Int32>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
