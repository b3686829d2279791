import ModelIR
import Runtime
import TestSupport
import XCTest

/// QLinearConv / QLinearMatMul / QGemm against a direct Swift convolution and the contract's
/// requantization, on every int8 path this CPU runs.
final class QConvMatMulTests: XCTestCase {
    struct ConvCase {
        var n = 1, c = 3, h = 7, w = 6, m = 4, kh = 3, kw = 3, stride = 2, pad = 1, dilation = 1, group = 1
        var xType: ElementType = .uint8, yType: ElementType = .uint8
        var perChannel = true, relu = false
    }

    func expectedConv(_ cs: ConvCase, x: [UInt8], w: [Int8], bias: [Int32], xs: Double, xz: Int64, ws: [Double], ys: Double, yz: Int64)
        -> [Int64]
    {
        let oh = (cs.h + 2 * cs.pad - cs.dilation * (cs.kh - 1) - 1) / cs.stride + 1
        let ow = (cs.w + 2 * cs.pad - cs.dilation * (cs.kw - 1) - 1) / cs.stride + 1
        let cg = cs.c / cs.group, mg = cs.m / cs.group
        let (tlo, thi): (Int64, Int64) = cs.yType == .uint8 ? (0, 255) : (-128, 127)
        let lo = cs.relu ? max(tlo, yz) : tlo
        var out: [Int64] = []
        for n in 0..<cs.n {
            for oc in 0..<cs.m {
                let g = oc / mg
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var acc = Int64(bias[oc])
                        for ic in 0..<cg {
                            for ky in 0..<cs.kh {
                                for kx in 0..<cs.kw {
                                    let iy = oy * cs.stride - cs.pad + ky * cs.dilation, ix = ox * cs.stride - cs.pad + kx * cs.dilation
                                    guard iy >= 0, iy < cs.h, ix >= 0, ix < cs.w else { continue }
                                    let byte = x[((n * cs.c + g * cg + ic) * cs.h + iy) * cs.w + ix]
                                    let xv = cs.xType == .uint8 ? Int64(byte) : Int64(Int8(bitPattern: byte))
                                    acc += (xv - xz) * Int64(w[((oc * cg + ic) * cs.kh + ky) * cs.kw + kx])
                                }
                            }
                        }
                        out.append(Contract.requant(acc, xs * ws[cs.perChannel ? oc : 0] / ys, zp: yz, lo: lo, hi: thi))
                    }
                }
            }
        }
        return out
    }

    func runConv(_ cs: ConvCase, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let x = rng.bytes(cs.n * cs.c * cs.h * cs.w)
        let w = rng.weights(cs.m * (cs.c / cs.group) * cs.kh * cs.kw)
        let bias = (0..<cs.m).map { _ in Int32(rng.int(-5000...5000)) }
        let xs = 0.02, ys = 0.05
        let ws = (0..<(cs.perChannel ? cs.m : 1)).map { _ in Double(Float(0.001 + Double(rng.int(1...100)) * 0.0002)) }
        let xz: Int64 = cs.xType == .uint8 ? 128 + Int64(rng.int(-20...20)) : Int64(rng.int(-10...10))
        let yz: Int64 = cs.yType == .uint8 ? 100 : -5
        let zpTensor = { (v: Int64, t: ElementType) in t == .uint8 ? tu8([UInt8(v)], []) : ts8([Int8(v)], []) }
        let consts: [String: Tensor] = [
            "xs": tf([Float(xs)]), "xz": zpTensor(xz, cs.xType), "w": ts8(w, [cs.m, cs.c / cs.group, cs.kh, cs.kw]),
            "ws": tf(ws.map(Float.init), cs.perChannel ? [cs.m] : []), "ys": tf([Float(ys)]), "yz": zpTensor(yz, cs.yType),
            "b": ts32(bias, [cs.m]),
        ]
        let node = Node(
            name: "qconv", opType: "QLinearConv", inputs: ["x", "xs", "xz", "w", "ws", "", "ys", "yz", "b"], outputs: ["y"],
            attributes: [
                "strides": .ints([cs.stride, cs.stride]), "pads": .ints([cs.pad, cs.pad, cs.pad, cs.pad]),
                "dilations": .ints([cs.dilation, cs.dilation]), "group": .int(cs.group),
            ],
            fusedActivation: cs.relu ? .relu : nil)
        let xt = cs.xType == .uint8 ? tu8(x, [cs.n, cs.c, cs.h, cs.w]) : ts8(x.map { Int8(bitPattern: $0) }, [cs.n, cs.c, cs.h, cs.w])
        let expected = expectedConv(cs, x: x, w: w, bias: bias, xs: xs, xz: xz, ws: ws.map { Double(Float($0)) }, ys: ys, yz: yz)
        for path in runnableInt8Paths() {
            let y = try runGraph([node], inputs: [("x", xt)], constants: consts, outputs: ["y"], kernels: path)["y"]
            XCTAssertEqual(y?.elementType, cs.yType)
            XCTAssertEqual(byteValues(y), expected, "\(cs) on \(path)")
        }
    }

    func testConvGemmPathsMatchDirectConvolution() throws {
        try runConv(ConvCase(), seed: 1)
        try runConv(ConvCase(xType: .int8, yType: .int8, perChannel: false, relu: true), seed: 2)
        try runConv(ConvCase(n: 2, c: 8, h: 5, w: 5, m: 6, kh: 1, kw: 1, stride: 1, pad: 0), seed: 3)  // pointwise, no im2col
        try runConv(ConvCase(c: 4, h: 9, w: 8, m: 6, kh: 3, kw: 2, stride: 1, pad: 2, dilation: 2, group: 2), seed: 4)
    }

    func testDepthwiseConv() throws {
        try runConv(ConvCase(n: 2, c: 5, h: 8, w: 7, m: 5, kh: 3, kw: 3, stride: 2, pad: 1, group: 5), seed: 5)
        try runConv(ConvCase(c: 3, h: 6, w: 6, m: 3, kh: 5, kw: 5, stride: 1, pad: 2, group: 3, xType: .int8, relu: true), seed: 6)
    }

    func testMatMulAndGemm() throws {
        var rng = SplitMix64(seed: 7)
        let rows = 5, k = 37, n = 11
        let a = rng.bytes(rows * k), b = rng.weights(k * n)
        let ws = (0..<n).map { _ in Float(0.002 + Double(rng.int(0...50)) * 0.0001) }
        let bias = (0..<n).map { _ in Int32(rng.int(-3000...3000)) }
        let consts: [String: Tensor] = [
            "as": tf([0.03]), "az": tu8([120], []), "b": ts8(b, [k, n]), "bt": ts8(Q8T.transpose(b, k, n), [n, k]),
            "ws": tf(ws, [n]), "ys": tf([0.1]), "yz": tu8([130], []), "c": ts32(bias, [n]),
        ]
        func expected(withBias: Bool, alpha: Double) -> [Int64] {
            var out: [Int64] = []
            for r in 0..<rows {
                for j in 0..<n {
                    var acc: Int64 = withBias ? Int64(bias[j]) : 0
                    for kk in 0..<k { acc += (Int64(a[r * k + kk]) - 120) * Int64(b[kk * n + j]) }
                    out.append(
                        Contract.requant(acc, alpha * Double(Float(0.03)) * Double(ws[j]) / Double(Float(0.1)), zp: 130, lo: 0, hi: 255))
                }
            }
            return out
        }
        let mm = Node(name: "mm", opType: "QLinearMatMul", inputs: ["a", "as", "az", "b", "ws", "", "ys", "yz"], outputs: ["y"])
        let gemm = Node(
            name: "g", opType: "QGemm", domain: "com.microsoft", inputs: ["a", "as", "az", "bt", "ws", "", "c", "ys", "yz"],
            outputs: ["y"], attributes: ["transB": .int(1), "alpha": .float(0.5)])
        for path in runnableInt8Paths() {
            let y1 = try runGraph([mm], inputs: [("a", tu8(a, [rows, k]))], constants: consts, outputs: ["y"], kernels: path)["y"]
            XCTAssertEqual(byteValues(y1), expected(withBias: false, alpha: 1), "QLinearMatMul on \(path)")
            let y2 = try runGraph([gemm], inputs: [("a", tu8(a, [rows, k]))], constants: consts, outputs: ["y"], kernels: path)["y"]
            XCTAssertEqual(byteValues(y2), expected(withBias: true, alpha: Double(Float(0.5))), "QGemm on \(path)")
            // One row (batch 1) skips both byte transposes: the first row's bytes, as 1×K, 1×1×K
            // and, for QGemm, as a K×1 transA input.
            let row = Array(a[0..<k])
            let first = Array(expected(withBias: false, alpha: 1)[0..<n])
            for shape in [[1, k], [1, 1, k]] {
                let y = try runGraph([mm], inputs: [("a", tu8(row, shape))], constants: consts, outputs: ["y"], kernels: path)["y"]
                XCTAssertEqual(byteValues(y), first, "QLinearMatMul \(shape) on \(path)")
            }
            let gemmT = Node(
                name: "g", opType: "QGemm", domain: "com.microsoft", inputs: ["a", "as", "az", "bt", "ws", "", "c", "ys", "yz"],
                outputs: ["y"], attributes: ["transA": .int(1), "transB": .int(1), "alpha": .float(0.5)])
            let y3 = try runGraph([gemmT], inputs: [("a", tu8(row, [k, 1]))], constants: consts, outputs: ["y"], kernels: path)["y"]
            XCTAssertEqual(
                byteValues(y3), Array(expected(withBias: true, alpha: Double(Float(0.5)))[0..<n]), "QGemm transA one row on \(path)")
        }
    }

    func testAsymmetricWeightsAreRefusedWithTheReason() {
        let node = Node(name: "mm", opType: "QLinearMatMul", inputs: ["a", "as", "az", "b", "ws", "", "ys", "yz"], outputs: ["y"])
        let consts: [String: Tensor] = [
            "as": tf([0.1]), "az": tu8([0], []), "b": ts8([-128, 3], [2, 1]), "ws": tf([0.1]),
            "ys": tf([0.1]), "yz": tu8([0], []),
        ]
        XCTAssertThrowsError(try runGraph([node], inputs: [("a", tu8([1, 2], [1, 2]))], constants: consts, outputs: ["y"])) { e in
            XCTAssertTrue("\(e)".contains("symmetric"), "\(e)")
            XCTAssertTrue("\(e)".contains("'b'"), "\(e)")
        }
    }
}

enum Q8T {
    static func transpose<T>(_ v: [T], _ rows: Int, _ cols: Int) -> [T] {
        var out = v
        for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = v[r * cols + c] } }
        return out
    }
}
