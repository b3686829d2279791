import CKernels
import TestSupport
import XCTest

/// Depthwise convolution on every path against the reference. Error budget: `sumErrorBudget`
/// with kh·kw + 1 terms (taps and bias), Σ|term| from the reference run on |input|, |weights|.
final class DepthwiseConvTests: XCTestCase {
    func testEveryPathMatchesReferenceOnRandomGeometries() {
        check(randomGeometries(count: 500, seed: 21), seed: 0xD3)
    }

    /// MobileNetV2's depthwise layers (3×3, stride 1 pad 1 and stride 2 with TF-style
    /// asymmetric padding) at a few widths, and the 5×5 / dilated variants other models use.
    func testEveryPathMatchesReferenceOnModelShapes() {
        check(
            [
                geometry(channels: 2, h: 112, w: 112, kernel: 3, stride: 1, pads: (1, 1, 1, 1)),
                geometry(channels: 3, h: 112, w: 112, kernel: 3, stride: 2, pads: (0, 0, 1, 1)),
                geometry(channels: 4, h: 56, w: 56, kernel: 3, stride: 2, pads: (1, 1, 1, 1)),
                geometry(channels: 5, h: 14, w: 14, kernel: 3, stride: 1, pads: (1, 1, 1, 1)),
                geometry(channels: 7, h: 7, w: 7, kernel: 3, stride: 1, pads: (1, 1, 1, 1)),
                geometry(channels: 2, h: 17, w: 33, kernel: 5, stride: 1, pads: (2, 2, 2, 2)),
                geometry(channels: 2, h: 20, w: 37, kernel: 3, stride: 1, pads: (2, 2, 2, 2), dilation: 2),
                geometry(channels: 2, h: 23, w: 53, kernel: 3, stride: 3, pads: (1, 1, 1, 1)),
                // Planes of at most 64 inputs and outputs (held in registers on AVX-512).
                geometry(channels: 5, h: 6, w: 6, kernel: 3, stride: 2, pads: (0, 0, 1, 1)),
                geometry(channels: 3, h: 4, w: 8, kernel: 3, stride: 1, pads: (2, 2, 2, 2), dilation: 2),
                geometry(channels: 4, h: 5, w: 3, kernel: 5, stride: 1, pads: (2, 1, 2, 1)),
                // Padding wider than a 16-lane vector: whole vectors of padding columns.
                geometry(channels: 2, h: 6, w: 5, kernel: 3, stride: 2, pads: (17, 19, 18, 20)),
                geometry(channels: 2, h: 4, w: 9, kernel: 3, stride: 3, pads: (2, 2, 19, 17)),
                geometry(channels: 3, h: 3, w: 3, kernel: 3, stride: 1, pads: (18, 18, 18, 18)),
            ], seed: 0xD4)
    }

    /// 1 channel 3×3 all-ones input, 3×3 weights 1…9, pad 1: each output is the sum of the
    /// weights whose taps land inside the input, plus the bias, clamped.
    func testReferenceMatchesHandComputedValues() {
        var g = geometry(channels: 1, h: 3, w: 3, kernel: 3, stride: 1, pads: (1, 1, 1, 1))
        let weights: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let expected: [Float] = [
            28 + 0.5, 39 + 0.5, 24 + 0.5,
            33 + 0.5, 40, 27 + 0.5,
            16 + 0.5, 21 + 0.5, 12 + 0.5,
        ]
        for table in runnableTables() {
            var output = [Float](repeating: .nan, count: 9)
            table.pointee.dwconv(&g, [Float](repeating: 1, count: 9), weights, [0.5], &output, -10, 40)
            XCTAssertEqual(output, expected, pathName(table))
        }
    }

    private func check(_ geometries: [flotilla_f32_conv2d_geometry], seed: UInt64) {
        let reference = referenceTable()
        XCTAssertFalse(optimizedTables().isEmpty, "this CPU runs no optimized path; the test would prove nothing")
        var rng = SplitMix64(seed: seed)
        for (index, var g) in geometries.enumerated() {
            let input = rng.floats(g.channels * g.in_h * g.in_w)
            let taps = g.kernel_h * g.kernel_w
            let weights = rng.floats(g.channels * taps)
            let bias = index % 2 == 0 ? rng.floats(g.channels) : nil
            let clamp = clampRanges[index % clampRanges.count]
            let count = g.channels * flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g)
            let expected = run(reference, &g, input, weights, bias, count, clamp)
            let absSum = run(
                reference, &g, input.map(abs), weights.map(abs), bias?.map(abs), count,
                (-.infinity, .infinity))
            for table in optimizedTables() {
                let actual = run(table, &g, input, weights, bias, count, clamp)
                for i in 0..<count {
                    let budget = sumErrorBudget(terms: taps + 1, absoluteSum: absSum[i])
                    let difference = abs(Double(actual[i]) - Double(expected[i]))
                    if !(difference <= budget) {
                        XCTFail(
                            "\(pathName(table)) dwconv \(describe(g)) clamp=\(clamp): output \(i) is "
                                + "\(actual[i]), reference \(expected[i]), over budget \(budget)")
                        break
                    }
                }
            }
        }
    }

    private func run(
        _ t: UnsafePointer<flotilla_f32_kernels>, _ g: inout flotilla_f32_conv2d_geometry,
        _ input: [Float], _ weights: [Float], _ bias: [Float]?, _ count: Int,
        _ clamp: (Float, Float)
    ) -> [Float] {
        // One extra element past the output: it must survive, proving no write past the end.
        var output = [Float](repeating: .nan, count: count + 1)
        output[count] = 12345
        withOptionalPointer(bias) { t.pointee.dwconv(&g, input, weights, $0, &output, clamp.0, clamp.1) }
        XCTAssertEqual(output[count], 12345, "\(pathName(t)) dwconv \(describe(g)) wrote past its output")
        return Array(output[0..<count])
    }
}
