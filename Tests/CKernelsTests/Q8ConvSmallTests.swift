import CKernels
import TestSupport
import XCTest

/// The tables' banded small-Cin conv (`conv`) against the reference im2col followed by the
/// reference GEMM: bytes must be IDENTICAL, including the untouched bytes between OH·OW and ldc.
/// Every path that has one runs it (avx512vnni; the others keep im2col + gemm).
final class Q8ConvSmallTests: XCTestCase {
    /// The tables with a `conv`; avx512vnni must have one wherever it runs.
    static func convTables() -> [UnsafePointer<flotilla_q8_kernels>] {
        runnableQ8Tables().filter { $0.pointee.conv != nil && $0.pointee.conv_workspace_size != nil }
    }

    func testAVX512VNNIHasConv() {
        for table in runnableQ8Tables() where q8PathName(table) == "avx512vnni" {
            XCTAssertNotNil(table.pointee.conv)
            XCTAssertNotNil(table.pointee.conv_workspace_size)
        }
    }

    /// A conv problem: geometry, the GEMM parameters (weights M×K, zero points, requant) and
    /// an input image of exactly C·H·W bytes (so a read past its end is a read past the buffer).
    struct ConvCase {
        var geometry: flotilla_f32_conv2d_geometry
        var gemm: Q8GemmCase
        var image: [UInt8]
    }

    static func randomCase(
        channels: Int, h: Int, w: Int, kh: Int, kw: Int, stride: (Int, Int), dilation: (Int, Int),
        pads: (Int, Int, Int, Int), M: Int, using rng: inout SplitMix64
    ) -> ConvCase? {
        var g = flotilla_f32_conv2d_geometry(
            channels: channels, in_h: h, in_w: w, kernel_h: kh, kernel_w: kw, stride_h: stride.0, stride_w: stride.1,
            dilation_h: dilation.0, dilation_w: dilation.1, pad_top: pads.0, pad_left: pads.1, pad_bottom: pads.2,
            pad_right: pads.3)
        guard flotilla_f32_conv2d_geometry_check(&g) == FLOTILLA_F32_GEOMETRY_OK else { return nil }
        let oh = flotilla_f32_conv2d_out_h(&g), ow = flotilla_f32_conv2d_out_w(&g)
        guard oh > 0, ow > 0 else { return nil }
        let K = channels * kh * kw, N = oh * ow
        var c = Q8GemmTests.randomCase(M: M, N: N, K: K, using: &rng)
        c.ldb = N
        c.ldc = N + Int.random(in: 0...3, using: &rng)
        let pattern = Int.random(in: 0..<5, using: &rng)
        let image = (0..<(channels * h * w)).map { _ -> UInt8 in
            switch pattern {
            case 0: return 255
            case 1: return 0x80
            default: return UInt8.random(in: 0...255, using: &rng)
            }
        }
        return ConvCase(geometry: g, gemm: c, image: image)
    }

    /// Reference: im2col (padding = the zero point's byte) and the reference GEMM.
    func expected(_ c: ConvCase) -> [UInt8]? {
        var g = c.geometry
        let N = flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g)
        var columns = [UInt8](repeating: 0, count: c.gemm.K * N)
        let pad = UInt8(truncatingIfNeeded: c.gemm.xZero)
        guard let im2col = q8Reference().pointee.im2col else {
            XCTFail("reference table has no im2col")
            return nil
        }
        c.image.withUnsafeBufferPointer { src in
            columns.withUnsafeMutableBufferPointer { dst in im2col(&g, src.baseAddress, pad, dst.baseAddress) }
        }
        var gc = c.gemm
        gc.activations = columns
        let result = runQ8Gemm(q8Reference(), gc)
        XCTAssertEqual(result.status, FLOTILLA_Q8_OK)
        return result.status == FLOTILLA_Q8_OK ? result.output : nil
    }

    func runConv(_ table: UnsafePointer<flotilla_q8_kernels>, _ c: ConvCase) -> (flotilla_q8_status, [UInt8]) {
        let t = table.pointee, gc = c.gemm
        guard let packSize = t.gemm_pack_size, let pack = t.gemm_pack, let wsSize = t.conv_workspace_size, let conv = t.conv
        else {
            XCTFail("\(q8PathName(table)): no conv entry")
            return (FLOTILLA_Q8_EMPTY, [])
        }
        var g = c.geometry
        var packed = [UInt8](repeating: 0, count: packSize(gc.M, gc.K))
        var params = flotilla_q8_gemm_pack_params(M: gc.M, K: gc.K, x_type: gc.xType, x_zero_point: gc.xZero, seven_bit: gc.sevenBit)
        let packStatus = gc.weights.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBytes { out in
                if let bias = gc.bias {
                    return bias.withUnsafeBufferPointer { pack(&params, w.baseAddress, gc.ldw, $0.baseAddress, out.baseAddress) }
                }
                return pack(&params, w.baseAddress, gc.ldw, nil, out.baseAddress)
            }
        }
        guard packStatus == FLOTILLA_Q8_OK else { return (packStatus, []) }
        var output = [UInt8](repeating: 0xA5, count: gc.M * gc.ldc)
        // Workspace filled with garbage: the kernel must not depend on its contents.
        var workspace = [UInt8](repeating: 0x5B, count: max(1, wsSize(&g)))
        // The image in a buffer of exactly its size.
        let image = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, c.image.count))
        defer { image.deallocate() }
        _ = image.initialize(from: c.image)
        let status = gc.multiplier.withUnsafeBufferPointer { m in
            gc.shift.withUnsafeBufferPointer { s in
                var rq = flotilla_q8_requant(
                    multiplier: m.baseAddress, shift: s.baseAddress, per_channel: gc.perChannel, type: gc.yType,
                    zero_point: gc.yZero, qmin: gc.qmin, qmax: gc.qmax)
                return packed.withUnsafeBytes { pk in
                    output.withUnsafeMutableBytes { o in
                        workspace.withUnsafeMutableBytes { ws in
                            conv(&g, gc.M, pk.baseAddress, image.baseAddress, &rq, o.baseAddress, gc.ldc, ws.baseAddress)
                        }
                    }
                }
            }
        }
        return (status, output)
    }

    func assertConvIdentical(_ c: ConvCase, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let want = expected(c) else { return }
        for table in Self.convTables() {
            let (status, got) = runConv(table, c)
            XCTAssertEqual(status, FLOTILLA_Q8_OK, "\(q8PathName(table)) \(label)", file: file, line: line)
            XCTAssertEqual(got, want, "\(q8PathName(table)) \(label)", file: file, line: line)
        }
    }

    /// The MobileNet stem (3 → 16, 3×3, stride 2, pad 1, 96×96) and its neighbours: other
    /// channel counts, odd sizes, stride 1, M across 8-row tiles.
    func testStemShapesAreBitExact() {
        var rng = SplitMix64(seed: 0x57E_3)
        for (cin, h, w, stride, M) in [
            (3, 96, 96, 2, 16), (3, 95, 97, 2, 16), (1, 64, 64, 2, 8), (4, 33, 50, 1, 24), (8, 20, 70, 2, 17),
            (3, 224, 224, 2, 32), (2, 7, 200, 2, 5),
        ] {
            guard
                let c = Self.randomCase(
                    channels: cin, h: h, w: w, kh: 3, kw: 3, stride: (stride, stride), dilation: (1, 1), pads: (1, 1, 1, 1),
                    M: M, using: &rng)
            else {
                XCTFail("stem geometry \(cin)×\(h)×\(w) rejected")
                continue
            }
            assertConvIdentical(c, "stem C=\(cin) \(h)×\(w) s\(stride) M=\(M) x=\(c.gemm.xType.rawValue)/\(c.gemm.xZero)")
        }
    }

    /// Random small-Cin geometries: kernels 1…7, strides 1…3, dilation 1…2, asymmetric pads up
    /// to 3 (wider than the kernel's reach included), tiny and wide images (OW past 256 takes the
    /// portable band builder on AVX-512), u8 and s8 inputs, every requant mode of the GEMM tests.
    func testRandomGeometriesAreBitExact() {
        var rng = SplitMix64(seed: 0xC0_5A11)
        var ran = 0
        while ran < 160 {
            let kh = Int.random(in: 1...5, using: &rng), kw = Int.random(in: 1...7, using: &rng)
            let stride = (Int.random(in: 1...3, using: &rng), Int.random(in: 1...3, using: &rng))
            let dilation = (Int.random(in: 1...2, using: &rng), Int.random(in: 1...2, using: &rng))
            let pads = (
                Int.random(in: 0...3, using: &rng), Int.random(in: 0...3, using: &rng), Int.random(in: 0...3, using: &rng),
                Int.random(in: 0...3, using: &rng)
            )
            let h = Int.random(in: 1...40, using: &rng)
            let w = [1, 2, 5, 17, 33, 48, 64, 65, 130, 300, 600].randomElement(using: &rng) ?? 5
            let cin = Int.random(in: 1...8, using: &rng), M = Int.random(in: 1...40, using: &rng)
            guard
                let c = Self.randomCase(
                    channels: cin, h: h, w: w, kh: kh, kw: kw, stride: stride, dilation: dilation, pads: pads, M: M,
                    using: &rng)
            else { continue }
            ran += 1
            assertConvIdentical(
                c,
                "C=\(cin) \(h)×\(w) k\(kh)×\(kw) s\(stride) d\(dilation) p\(pads) M=\(M) x=\(c.gemm.xType.rawValue)/\(c.gemm.xZero)")
        }
    }

    /// Weights packed by another path are refused, as gemm refuses them.
    func testForeignPackIsRefused() {
        var rng = SplitMix64(seed: 7)
        guard
            let c = Self.randomCase(
                channels: 3, h: 10, w: 10, kh: 3, kw: 3, stride: (2, 2), dilation: (1, 1), pads: (1, 1, 1, 1), M: 4,
                using: &rng)
        else { return XCTFail("geometry rejected") }
        for table in Self.convTables() {
            guard let conv = table.pointee.conv, let wsSize = table.pointee.conv_workspace_size,
                let refPack = q8Reference().pointee.gemm_pack, let refSize = q8Reference().pointee.gemm_pack_size
            else { return XCTFail("incomplete table") }
            var g = c.geometry
            var packed = [UInt8](repeating: 0, count: refSize(4, 27))
            var params = flotilla_q8_gemm_pack_params(M: 4, K: 27, x_type: FLOTILLA_Q8_U8, x_zero_point: 0, seven_bit: false)
            let weights = [Int8](repeating: 1, count: 4 * 27)
            XCTAssertEqual(weights.withUnsafeBufferPointer { refPack(&params, $0.baseAddress, 27, nil, &packed) }, FLOTILLA_Q8_OK)
            var out = [UInt8](repeating: 0, count: 4 * 25)
            var ws = [UInt8](repeating: 0, count: wsSize(&g))
            let mult: [Int32] = [1 << 30], shift: [Int32] = [0]
            let status = mult.withUnsafeBufferPointer { m in
                shift.withUnsafeBufferPointer { s in
                    var rq = flotilla_q8_requant(
                        multiplier: m.baseAddress, shift: s.baseAddress, per_channel: false, type: FLOTILLA_Q8_U8,
                        zero_point: 0, qmin: 0, qmax: 255)
                    return c.image.withUnsafeBufferPointer { conv(&g, 4, packed, $0.baseAddress, &rq, &out, 25, &ws) }
                }
            }
            XCTAssertEqual(status, FLOTILLA_Q8_PACK_MISMATCH, q8PathName(table))
        }
    }
}
