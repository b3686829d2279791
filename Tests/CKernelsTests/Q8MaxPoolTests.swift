import CKernels
import TestSupport
import XCTest

/// int8 max pooling: every optimized path byte for byte against the reference on random
/// geometries (including all-padding windows and strides with no vector path), MNIST-sized
/// planes and whole-plane windows, u8 and s8, edge-valued bytes.
final class Q8MaxPoolTests: XCTestCase {
    private func run(_ table: UnsafePointer<flotilla_q8_kernels>, _ g: flotilla_f32_conv2d_geometry, _ type: flotilla_q8_type, _ x: [UInt8])
        -> [UInt8]
    {
        var geo = g
        let count = g.channels * flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        var y = [UInt8](repeating: 0x5A, count: count + 1)
        x.withUnsafeBytes { xb in y.withUnsafeMutableBytes { table.pointee.maxpool?(&geo, type, xb.baseAddress, $0.baseAddress) } }
        return y
    }

    /// The reference against a direct statement: max over in-bounds taps, type minimum if none.
    private func expected(_ g: flotilla_f32_conv2d_geometry, _ type: flotilla_q8_type, _ x: [UInt8]) -> [UInt8] {
        var geo = g
        let oh = flotilla_f32_conv2d_out_h(&geo), ow = flotilla_f32_conv2d_out_w(&geo)
        var y: [UInt8] = []
        let value = { (b: UInt8) in type == FLOTILLA_Q8_U8 ? Int(b) : Int(Int8(bitPattern: b)) }
        for c in 0..<g.channels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best: UInt8 = type == FLOTILLA_Q8_U8 ? 0 : 0x80
                    for ky in 0..<g.kernel_h {
                        for kx in 0..<g.kernel_w {
                            let iy = oy * g.stride_h + ky * g.dilation_h - g.pad_top, ix = ox * g.stride_w + kx * g.dilation_w - g.pad_left
                            guard iy >= 0, iy < g.in_h, ix >= 0, ix < g.in_w else { continue }
                            let b = x[(c * g.in_h + iy) * g.in_w + ix]
                            if value(b) > value(best) { best = b }
                        }
                    }
                    y.append(best)
                }
            }
        }
        return y + [0x5A]
    }

    private func check(_ g: flotilla_f32_conv2d_geometry, _ rng: inout SplitMix64) {
        let type = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        let pattern = Int.random(in: 0..<5, using: &rng)
        let x: [UInt8] = (0..<(g.channels * g.in_h * g.in_w)).map { _ in
            switch pattern {
            case 0: return 0
            case 1: return 255
            case 2: return 0x80
            default: return UInt8.random(in: 0...255, using: &rng)
            }
        }
        let want = expected(g, type, x)
        for table in runnableQ8Tables() {
            XCTAssertEqual(run(table, g, type, x), want, "\(q8PathName(table)) \(describe(g)) type \(type.rawValue)")
        }
    }

    func testRandomGeometriesAreExact() {
        var rng = SplitMix64(seed: 0x6D61_7870)
        for g in randomGeometries(count: 300, seed: 0x6D70_6F6F, maxKernel: 4) { check(g, &rng) }
    }

    /// Shapes of real CNNs: 2×2/2 on 8×8 (the digits CNN), 28×28 and 24×24, 3×3/2 pad 1 on 112×112, 3×3/1 pad 1.
    func testModelShapesAreExact() {
        var rng = SplitMix64(seed: 0x6D6F_6465)
        for g in [
            geometry(channels: 16, h: 8, w: 8, kernel: 2, stride: 2, pads: (0, 0, 0, 0)),
            geometry(channels: 8, h: 28, w: 28, kernel: 2, stride: 2, pads: (0, 0, 0, 0)),
            geometry(channels: 16, h: 24, w: 24, kernel: 2, stride: 2, pads: (0, 0, 0, 0)),
            geometry(channels: 3, h: 112, w: 112, kernel: 3, stride: 2, pads: (1, 1, 1, 1)),
            geometry(channels: 4, h: 13, w: 57, kernel: 3, stride: 1, pads: (1, 1, 1, 1)),
            geometry(channels: 2, h: 9, w: 33, kernel: 2, stride: 2, pads: (0, 0, 1, 1), dilation: 2),
        ] {
            check(g, &rng)
        }
    }

    /// Whole-plane windows (GlobalMaxPool): vector reductions with tails of every length.
    func testGlobalWindowsAreExact() {
        var rng = SplitMix64(seed: 0x676D_6178)
        for (h, w) in [(1, 1), (1, 15), (1, 16), (1, 17), (7, 7), (4, 9), (1, 784), (13, 13)] {
            check(geometry(channels: 5, h: h, w: w, kernel: 1, stride: 1, pads: (0, 0, 0, 0)).withKernel(h, w), &rng)
        }
    }
}

extension flotilla_f32_conv2d_geometry {
    fileprivate func withKernel(_ h: Int, _ w: Int) -> Self {
        var g = self
        g.kernel_h = h
        g.kernel_w = w
        return g
    }
}
