import CKernels
import TestSupport
import XCTest

/// The plan-time depthwise pack's refusals: a pack runs only on the path, geometry and
/// activation it was made for; anything else is PACK_MISMATCH with nothing written.
final class Q8DepthwisePackTests: XCTestCase {
    private let channels = 96

    private func geometry(channels: Int) -> flotilla_f32_conv2d_geometry {
        flotilla_f32_conv2d_geometry(
            channels: channels, in_h: 6, in_w: 6, kernel_h: 3, kernel_w: 3, stride_h: 1, stride_w: 1,
            dilation_h: 1, dilation_w: 1, pad_top: 1, pad_left: 1, pad_bottom: 1, pad_right: 1)
    }

    /// Runs `body` with params over seeded weights, bias and per-channel requant for `channels`.
    private func withParams<R>(
        xZero: Int32, _ body: (inout flotilla_q8_dwconv_params) -> R
    ) -> R {
        var rng = SplitMix64(seed: 0x9AC4)
        let weights = (0..<(channels * 9)).map { _ in Int8.random(in: -127...127, using: &rng) }
        let bias = (0..<channels).map { _ in Int32.random(in: -5000...5000, using: &rng) }
        var multiplier: [Int32] = [], shift: [Int32] = []
        for _ in 0..<channels {
            var m: Int32 = 0, s: Int32 = 0
            _ = flotilla_q8_quantize_multiplier(Double.random(in: 1e-3...0.05, using: &rng), &m, &s)
            multiplier.append(m)
            shift.append(s)
        }
        return weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                multiplier.withUnsafeBufferPointer { m in
                    shift.withUnsafeBufferPointer { s in
                        var p = flotilla_q8_dwconv_params(
                            x_type: FLOTILLA_Q8_U8, x_zero_point: xZero, weights: w.baseAddress, bias: b.baseAddress,
                            requant: flotilla_q8_requant(
                                multiplier: m.baseAddress, shift: s.baseAddress, per_channel: true,
                                type: FLOTILLA_Q8_U8, zero_point: 3, qmin: 0, qmax: 255))
                        return body(&p)
                    }
                }
            }
        }
    }

    func testPackRefusesOtherPathsGeometriesAndZeroPoints() {
        let tables = runnableQ8Tables()
        var g = geometry(channels: channels)
        let input = [UInt8](repeating: 7, count: channels * 36)
        for table in tables {
            let name = q8PathName(table)
            let size = table.pointee.dwconv_pack_size(&g)
            if name == "reference" {
                XCTAssertEqual(size, 0, "the reference packs nothing")
                withParams(xZero: 5) { p in
                    var out = [UInt8](repeating: 0x5A, count: channels * 36)
                    let junk = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
                    defer { junk.deallocate() }
                    XCTAssertEqual(table.pointee.dwconv_pack(&g, &p, junk), FLOTILLA_Q8_PACK_MISMATCH)
                    XCTAssertEqual(table.pointee.dwconv_packed(&g, &p, junk, input, &out), FLOTILLA_Q8_PACK_MISMATCH)
                    XCTAssertEqual(out, [UInt8](repeating: 0x5A, count: channels * 36))
                }
                continue
            }
            // 96 channels of 6×6: every x86 rule runs it channels-last, so every x86 path packs.
            XCTAssertGreaterThan(size, 0, "\(name) packs a 96-channel 6×6 depthwise")
            guard size > 0 else { continue }
            let packed = UnsafeMutableRawPointer.allocate(byteCount: size + 64, alignment: 64)
            defer { packed.deallocate() }
            withParams(xZero: 5) { p in
                XCTAssertEqual(table.pointee.dwconv_pack(&g, &p, packed + 1), FLOTILLA_Q8_PACK_MISMATCH, "\(name) misaligned")
                XCTAssertEqual(table.pointee.dwconv_pack(&g, &p, packed), FLOTILLA_Q8_OK, name)
            }
            let untouched = [UInt8](repeating: 0x5A, count: channels * 36)
            // Another activation zero point: the pack's init folded z·Σw for zero point 5.
            withParams(xZero: 6) { p in
                var out = untouched
                XCTAssertEqual(table.pointee.dwconv_packed(&g, &p, packed, input, &out), FLOTILLA_Q8_PACK_MISMATCH, name)
                XCTAssertEqual(out, untouched, "\(name) wrote on a refused pack")
            }
            // Another channel count, and another kernel size with the same channels.
            var fewer = geometry(channels: channels - 1), wide = geometry(channels: channels)
            wide.kernel_w = 2
            withParams(xZero: 5) { p in
                var out = untouched
                XCTAssertEqual(table.pointee.dwconv_packed(&fewer, &p, packed, input, &out), FLOTILLA_Q8_PACK_MISMATCH, name)
                XCTAssertEqual(table.pointee.dwconv_packed(&wide, &p, packed, input, &out), FLOTILLA_Q8_PACK_MISMATCH, name)
                XCTAssertEqual(out, untouched, "\(name) wrote on a refused pack")
                // Every other path refuses this path's pack.
                for other in tables where q8PathName(other) != name {
                    XCTAssertEqual(
                        other.pointee.dwconv_packed(&g, &p, packed, input, &out), FLOTILLA_Q8_PACK_MISMATCH,
                        "\(q8PathName(other)) ran \(name)'s pack")
                }
                XCTAssertEqual(out, untouched)
                // The right one runs and writes.
                XCTAssertEqual(table.pointee.dwconv_packed(&g, &p, packed, input, &out), FLOTILLA_Q8_OK, name)
                XCTAssertNotEqual(out, untouched, name)
            }
        }
    }
}
