import CKernels
import TestSupport
import XCTest

/// Channels-last depthwise (dwconv_nhwc): every path, with and without its plan-time pack,
/// writes the reference's bytes; the NHWC reference is the NCHW reference on transposed data;
/// packs are refused (PACK_MISMATCH, nothing written) off their path, geometry and zero point.
final class Q8DepthwiseNHWCTests: XCTestCase {
    /// One NHWC depthwise problem with its seeded data.
    private struct Case {
        var g: flotilla_f32_conv2d_geometry
        var input: [UInt8], weights: [Int8], bias: [Int32]?
        var multiplier: [Int32], shift: [Int32], perChannel: Bool
        var xType: flotilla_q8_type, xZero: Int32
        var yType: flotilla_q8_type, yZero: Int32, qmin: Int32, qmax: Int32

        var outputCount: Int {
            var g = g
            return g.channels * flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g)
        }
    }

    private static let channelCounts = [1, 2, 3, 8, 15, 16, 17, 24, 32, 33, 48, 63, 64, 65, 96, 129, 144, 192, 200]

    private func randomCase(_ i: Int, using rng: inout SplitMix64) -> Case {
        var g: flotilla_f32_conv2d_geometry
        repeat {
            let shape = Int.random(in: 0..<6, using: &rng)
            let kh = shape == 0 ? 3 : shape == 1 ? Int.random(in: 1...5, using: &rng) : 3
            let kw = shape == 0 ? 1 : shape == 1 ? Int.random(in: 1...5, using: &rng) : 3
            let side = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 16...50, using: &rng) : Int.random(in: 1...14, using: &rng)
            let wide = Int.random(in: 0..<5, using: &rng) == 0
            g = flotilla_f32_conv2d_geometry(
                channels: Int.random(in: 0..<3, using: &rng) == 0
                    ? Int.random(in: 1...200, using: &rng)
                    : Self.channelCounts[i % Self.channelCounts.count],
                in_h: side, in_w: Bool.random(using: &rng) ? side : Int.random(in: 1...50, using: &rng),
                kernel_h: kh, kernel_w: kw,
                stride_h: Int.random(in: 1...3, using: &rng), stride_w: Int.random(in: 1...3, using: &rng),
                dilation_h: Int.random(in: 1...2, using: &rng), dilation_w: Int.random(in: 1...2, using: &rng),
                pad_top: Int.random(in: 0...(wide ? 6 : 2), using: &rng), pad_left: Int.random(in: 0...(wide ? 6 : 2), using: &rng),
                pad_bottom: Int.random(in: 0...2, using: &rng), pad_right: Int.random(in: 0...(wide ? 6 : 2), using: &rng))
        } while flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK
        let d = Q8DepthwiseData.random(i, g, edges: 6, using: &rng)
        return Case(
            g: g, input: d.input, weights: d.weights, bias: d.bias, multiplier: d.multiplier, shift: d.shift,
            perChannel: d.perChannel, xType: d.xType, xZero: d.xZero, yType: d.yType, yZero: d.yZero, qmin: d.qmin, qmax: d.qmax)
    }

    /// Runs `body` with the case's params (weights and bias optionally replaced by zeros).
    private func withParams<R>(
        _ c: Case, zeroedWeights: Bool = false, xZero: Int32? = nil, _ body: (inout flotilla_q8_dwconv_params) -> R
    ) -> R {
        let weights = zeroedWeights ? [Int8](repeating: 0, count: c.weights.count) : c.weights
        let bias = zeroedWeights ? c.bias.map { [Int32](repeating: 0, count: $0.count) } : c.bias
        return weights.withUnsafeBufferPointer { w in
            c.multiplier.withUnsafeBufferPointer { m in
                c.shift.withUnsafeBufferPointer { s in
                    withOptionalInt32Pointer(bias) { b in
                        var p = flotilla_q8_dwconv_params(
                            x_type: c.xType, x_zero_point: xZero ?? c.xZero, weights: w.baseAddress, bias: b,
                            requant: flotilla_q8_requant(
                                multiplier: m.baseAddress, shift: s.baseAddress, per_channel: c.perChannel,
                                type: c.yType, zero_point: c.yZero, qmin: c.qmin, qmax: c.qmax))
                        return body(&p)
                    }
                }
            }
        }
    }

    /// dwconv_nhwc with no pack; the output has a guard byte past the tensor (0x5A).
    private func run(_ table: UnsafePointer<flotilla_q8_kernels>, _ c: Case) -> (flotilla_q8_status, [UInt8]) {
        var g = c.g
        var output = [UInt8](repeating: 0x5A, count: c.outputCount + 1)
        let status = withParams(c) { p in table.pointee.dwconv_nhwc(&g, &p, nil, c.input, &output) }
        return (status, output)
    }

    /// With the path's own plan-time pack, read with zeroed weights and bias in the params (so
    /// the run can only have taken them from the pack); nil when the path packs nothing for g.
    private func runPacked(_ table: UnsafePointer<flotilla_q8_kernels>, _ c: Case) -> (flotilla_q8_status, [UInt8])? {
        var g = c.g
        let size = table.pointee.dwconv_nhwc_pack_size(&g)
        guard size > 0 else { return nil }
        let packed = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { packed.deallocate() }
        let packStatus = withParams(c) { p in table.pointee.dwconv_nhwc_pack(&g, &p, packed) }
        XCTAssertEqual(packStatus, FLOTILLA_Q8_OK, "\(q8PathName(table)) pack: \(c.g)")
        var output = [UInt8](repeating: 0x5A, count: c.outputCount + 1)
        let status = withParams(c, zeroedWeights: true) { p in table.pointee.dwconv_nhwc(&g, &p, packed, c.input, &output) }
        return (status, output)
    }

    /// The NCHW reference on the transposed input, its output transposed back.
    private func nchwReference(_ c: Case) -> [UInt8] {
        var g = c.g
        let hw = g.in_h * g.in_w, ohw = flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g)
        var planar = [UInt8](repeating: 0, count: c.input.count), y = [UInt8](repeating: 0, count: c.outputCount)
        var back = [UInt8](repeating: 0, count: c.outputCount)
        let ref = q8Reference().pointee
        ref.transpose8(hw, g.channels, c.input, g.channels, &planar, hw)
        withParams(c) { p in ref.dwconv(&g, &p, planar, &y) }
        ref.transpose8(g.channels, ohw, y, ohw, &back, g.channels)
        return back
    }

    func testRandomNHWCDepthwiseIsBitExact() {
        var rng = SplitMix64(seed: 0x4E_4843_0006)
        for i in 0..<240 {
            let c = randomCase(i, using: &rng)
            let (status, expected) = run(q8Reference(), c)
            XCTAssertEqual(status, FLOTILLA_Q8_OK)
            XCTAssertEqual(expected.last, 0x5A, "reference wrote past the tensor: \(c.g)")
            XCTAssertEqual(Array(expected.dropLast()), nchwReference(c), "NHWC reference ≠ NCHW reference, case \(i): \(c.g)")
            for table in optimizedQ8Tables() {
                let name = q8PathName(table)
                let got = run(table, c)
                XCTAssertEqual(got.0, FLOTILLA_Q8_OK, "\(name) case \(i)")
                XCTAssertEqual(got.1, expected, "\(name) case \(i): \(c.g)")
                if let packed = runPacked(table, c) {
                    XCTAssertEqual(packed.0, FLOTILLA_Q8_OK, "\(name) packed case \(i)")
                    XCTAssertEqual(packed.1, expected, "\(name) packed case \(i): \(c.g)")
                }
            }
        }
    }

    /// MobileNetV2's depthwise layers (3×3 pad 1), each channel count in u8 and s8.
    func testMobileNetShapesAreBitExact() {
        var rng = SplitMix64(seed: 0x3B_1E7)
        let shapes: [(c: Int, side: Int, stride: Int)] = [
            (16, 48, 1), (48, 48, 2), (48, 24, 1), (48, 24, 2), (96, 12, 1), (96, 12, 2), (144, 6, 1),
            (192, 6, 1), (192, 6, 2), (336, 3, 1),
        ]
        for (i, s) in shapes.enumerated() {
            var c = randomCase(2 + 4 * i, using: &rng)
            c.g = flotilla_f32_conv2d_geometry(
                channels: s.c, in_h: s.side, in_w: s.side, kernel_h: 3, kernel_w: 3, stride_h: s.stride, stride_w: s.stride,
                dilation_h: 1, dilation_w: 1, pad_top: 1, pad_left: 1, pad_bottom: 1, pad_right: 1)
            c.input = (0..<(s.c * s.side * s.side)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            c.weights = (0..<(s.c * 9)).map { _ in Int8.random(in: -127...127, using: &rng) }
            c.bias = (0..<s.c).map { _ in Int32.random(in: -50_000...50_000, using: &rng) }
            c.multiplier = (0..<s.c).map { _ in c.multiplier[0] }
            c.shift = (0..<s.c).map { _ in c.shift[0] }
            let (_, expected) = run(q8Reference(), c)
            for table in optimizedQ8Tables() {
                XCTAssertEqual(run(table, c).1, expected, "\(q8PathName(table)) \(s)")
                if let packed = runPacked(table, c) {
                    XCTAssertEqual(packed.1, expected, "\(q8PathName(table)) packed \(s)")
                } else {
                    XCTFail("\(q8PathName(table)) packs nothing for MobileNet's \(s)")
                }
            }
        }
    }

    /// Packs run only on their own path, geometry, zero point and entry (not the NCHW one).
    func testPackMismatchWritesNothing() {
        var rng = SplitMix64(seed: 0x9AC5)
        var c = randomCase(5, using: &rng)
        c.g = flotilla_f32_conv2d_geometry(
            channels: 40, in_h: 7, in_w: 9, kernel_h: 3, kernel_w: 3, stride_h: 1, stride_w: 1,
            dilation_h: 1, dilation_w: 1, pad_top: 1, pad_left: 1, pad_bottom: 1, pad_right: 1)
        c.input = (0..<(40 * 63)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        c.weights = (0..<(40 * 9)).map { _ in Int8.random(in: -127...127, using: &rng) }
        c.bias = nil
        c.multiplier = [c.multiplier[0]]
        c.shift = [c.shift[0]]
        c.perChannel = false
        let untouched = [UInt8](repeating: 0x5A, count: c.outputCount)
        let tables = runnableQ8Tables()
        for table in tables {
            let name = q8PathName(table)
            var g = c.g
            let size = table.pointee.dwconv_nhwc_pack_size(&g)
            if name == "reference" {
                XCTAssertEqual(size, 0, "the reference packs nothing")
                let junk = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
                defer { junk.deallocate() }
                var out = untouched
                withParams(c) { p in
                    XCTAssertEqual(table.pointee.dwconv_nhwc_pack(&g, &p, junk), FLOTILLA_Q8_PACK_MISMATCH)
                    XCTAssertEqual(table.pointee.dwconv_nhwc(&g, &p, junk, c.input, &out), FLOTILLA_Q8_PACK_MISMATCH)
                }
                XCTAssertEqual(out, untouched)
                continue
            }
            XCTAssertGreaterThan(size, 0, "\(name) packs a 40-channel 7×9 NHWC depthwise")
            guard size > 0 else { continue }
            let packed = UnsafeMutableRawPointer.allocate(byteCount: size + 64, alignment: 64)
            defer { packed.deallocate() }
            withParams(c) { p in
                XCTAssertEqual(table.pointee.dwconv_nhwc_pack(&g, &p, packed + 1), FLOTILLA_Q8_PACK_MISMATCH, "\(name) misaligned")
                XCTAssertEqual(table.pointee.dwconv_nhwc_pack(&g, &p, packed), FLOTILLA_Q8_OK, name)
            }
            var out = untouched
            withParams(c, xZero: c.xZero == 0 ? 1 : c.xZero - 1) { p in
                XCTAssertEqual(table.pointee.dwconv_nhwc(&g, &p, packed, c.input, &out), FLOTILLA_Q8_PACK_MISMATCH, name)
            }
            var fewer = c.g, tall = c.g
            fewer.channels = 39
            tall.kernel_h = 2
            withParams(c) { p in
                XCTAssertEqual(table.pointee.dwconv_nhwc(&fewer, &p, packed, c.input, &out), FLOTILLA_Q8_PACK_MISMATCH, name)
                XCTAssertEqual(table.pointee.dwconv_nhwc(&tall, &p, packed, c.input, &out), FLOTILLA_Q8_PACK_MISMATCH, name)
                // The NCHW entry refuses an NHWC pack, and every other path refuses this one.
                XCTAssertEqual(table.pointee.dwconv_packed(&g, &p, packed, c.input, &out), FLOTILLA_Q8_PACK_MISMATCH, name)
                for other in tables where q8PathName(other) != name {
                    XCTAssertEqual(
                        other.pointee.dwconv_nhwc(&g, &p, packed, c.input, &out), FLOTILLA_Q8_PACK_MISMATCH,
                        "\(q8PathName(other)) ran \(name)'s pack")
                }
            }
            XCTAssertEqual(out, untouched, "\(name) wrote on a refused pack")
            withParams(c) { p in
                XCTAssertEqual(table.pointee.dwconv_nhwc(&g, &p, packed, c.input, &out), FLOTILLA_Q8_OK, name)
            }
            XCTAssertEqual(out, Array(run(q8Reference(), c).1.dropLast()), name)
        }
    }

    /// Rows wider than a 64-channel scratch band (AVX-512 then takes its narrower blocks: 16×4
    /// at stride 1, the 32-channel blocks at stride 2), wider than every band, and more taps than
    /// the scratch holds (the reference): all give the reference's bytes.
    func testGeometriesOutsideTheScratchRunExactly() {
        var rng = SplitMix64(seed: 0x0B16)
        let geometries = [
            (70, 1, 600, 1, 3), (70, 1, 300, 2, 3), (33, 2, 650, 1, 3), (70, 1, 1100, 2, 3), (20, 12, 12, 1, 9),
        ].map { (c: Int, h: Int, w: Int, s: Int, k: Int) in
            flotilla_f32_conv2d_geometry(
                channels: c, in_h: h + k - 1, in_w: w, kernel_h: k, kernel_w: k, stride_h: 1, stride_w: s,
                dilation_h: 1, dilation_w: 1, pad_top: k / 2, pad_left: k / 2, pad_bottom: k / 2, pad_right: k / 2)
        }
        for (i, g) in geometries.enumerated() {
            var c = randomCase(i, using: &rng)
            c.g = g
            let taps = c.g.kernel_h * c.g.kernel_w
            c.input = (0..<(c.g.channels * c.g.in_h * c.g.in_w)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            c.weights = (0..<(c.g.channels * taps)).map { _ in Int8.random(in: -127...127, using: &rng) }
            c.bias = (0..<c.g.channels).map { _ in Int32.random(in: -50_000...50_000, using: &rng) }
            c.multiplier = (0..<c.g.channels).map { _ in c.multiplier[0] }
            c.shift = (0..<c.g.channels).map { _ in c.shift[0] }
            let (_, expected) = run(q8Reference(), c)
            for table in optimizedQ8Tables() {
                XCTAssertEqual(run(table, c).1, expected, "\(q8PathName(table)) \(c.g)")
                _ = runPacked(table, c).map { XCTAssertEqual($0.1, expected, "\(q8PathName(table)) packed \(c.g)") }
            }
        }
    }
}
