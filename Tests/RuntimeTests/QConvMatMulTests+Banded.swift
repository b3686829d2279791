import ModelIR
import Runtime
import TestSupport
import XCTest

/// QLinearConv shapes that take the banded small-Cin conv on AVX-512 VNNI (≤ 8 input channels
/// per group, not a plain 1×1) and their neighbours that do not, against the direct convolution
/// on every int8 path: several bands per image (wide outputs), batch 2, groups, s8 and u8.
extension QConvMatMulTests {
    /// The stem's shape scaled down, batch 2 (3 → 16, 3×3, stride 2, pad 1, 40×46: several bands
    /// per image): every path's bytes against the reference path's. (runConv's direct Swift
    /// convolution, whose requantization multipliers are Doubles, differs from every path at this
    /// size, the reference path and AVX2's unchanged im2col + gemm included, in 1 of the 14 720
    /// outputs by 1: a rounding tie decided by the test's own arithmetic, not by a kernel. The
    /// paths must agree byte for byte.)
    func testBandedStemShapeMatchesTheReferencePath() throws {
        var rng = SplitMix64(seed: 21)
        let (n, c, h, w, m) = (2, 3, 40, 46, 16)
        let x = rng.bytes(n * c * h * w)
        let wts = rng.weights(m * c * 9)
        let bias = (0..<m).map { _ in Int32(rng.int(-5000...5000)) }
        let ws = (0..<m).map { _ in Float(0.001 + Double(rng.int(1...100)) * 0.0002) }
        let consts: [String: Tensor] = [
            "xs": tf([0.02]), "xz": tu8([131], []), "w": ts8(wts, [m, c, 3, 3]), "ws": tf(ws, [m]), "ys": tf([0.05]),
            "yz": tu8([100], []), "b": ts32(bias, [m]),
        ]
        let node = Node(
            name: "qconv", opType: "QLinearConv", inputs: ["x", "xs", "xz", "w", "ws", "", "ys", "yz", "b"], outputs: ["y"],
            attributes: ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "group": .int(1)])
        let run = { (path: KernelPath) in
            try runGraph([node], inputs: [("x", tu8(x, [n, c, h, w]))], constants: consts, outputs: ["y"], kernels: path)["y"]
        }
        let reference = byteValues(try run(.reference))
        XCTAssertEqual(reference.count, n * m * 20 * 23)
        for path in runnableInt8Paths() {
            XCTAssertEqual(byteValues(try run(path)), reference, "\(path)")
        }
    }

    func testBandedSmallChannelConvsMatchDirectConvolution() throws {
        // Stride 1, wide rows (OW = 70: one band holds few rows), s8 in and out, Relu.
        try runConv(
            ConvCase(c: 8, h: 12, w: 70, m: 9, kh: 3, kw: 3, stride: 1, pad: 1, xType: .int8, yType: .int8, relu: true), seed: 22)
        // Two groups of 4 channels (each group banded), dilation 2, per-tensor weights.
        try runConv(
            ConvCase(c: 8, h: 15, w: 17, m: 6, kh: 3, kw: 3, stride: 1, pad: 2, dilation: 2, group: 2, perChannel: false), seed: 23)
        // 1×1 with stride 2 (not pointwise: banded) and 9 channels (past the limit: im2col + gemm).
        try runConv(ConvCase(c: 5, h: 9, w: 9, m: 7, kh: 1, kw: 1, stride: 2, pad: 0), seed: 24)
        try runConv(ConvCase(c: 9, h: 10, w: 11, m: 8, kh: 3, kw: 3, stride: 2, pad: 1), seed: 25)
    }
}
