import ModelIR
import Runtime
import TestSupport
import XCTest

/// MatMulInteger and ConvInteger on the C gemm_s32 kernels against the arithmetic the runtime
/// used before them (plain Swift: int16 differences, wrapping int32 sums), on every int8 path
/// this CPU runs: batched A, shared / batched / run-time B, zero points per row, per column,
/// scalar, run-time or absent, u8 and s8 on each side; ConvInteger with groups, strides,
/// padding, dilation and a run-time x_zero_point (DynamicQuantizeLinear's).
final class QIntegerOpsTests: XCTestCase {
    private func tensor(_ bytes: [UInt8], _ shape: [Int], signed: Bool) -> Tensor {
        signed ? ts8(bytes.map { Int8(bitPattern: $0) }, shape) : tu8(bytes, shape)
    }

    private func value(_ b: UInt8, _ signed: Bool) -> Int32 { signed ? Int32(Int8(bitPattern: b)) : Int32(b) }

    private func zeroPoint(_ rng: inout SplitMix64, signed: Bool) -> UInt8 {
        // Extremes often: the largest |x − z| either way.
        switch rng.int(0...3) {
        case 0: return signed ? 0x80 : 0
        case 1: return signed ? 0x7F : 255
        default: return UInt8(truncatingIfNeeded: rng.next())
        }
    }

    func testMatMulIntegerMatchesTheSwiftArithmetic() throws {
        var rng = SplitMix64(seed: 0x4D4D_4932)
        for trial in 0..<60 {
            let aSigned = rng.int(0...1) == 1, bSigned = rng.int(0...1) == 1
            let batchDims = [[], [rng.int(1...3)], [2, rng.int(1...2)]][rng.int(0...2)]
            let rows = [1, 1, 2, 3, 5, 17][rng.int(0...5)], k = [1, 3, 4, 8, 13, 64, 70][rng.int(0...6)]
            let n = [1, 2, 10, 16, 17, 33, 100][rng.int(0...6)]
            let batch = batchDims.reduce(1, *)
            let batchedB = !batchDims.isEmpty && rng.int(0...2) == 0
            let constantB = rng.int(0...3) != 0
            let a = rng.bytes(batch * rows * k), b = rng.bytes((batchedB ? batch : 1) * k * n)
            // a_zero_point: 0 absent, 1 constant scalar, 2 per row, 3 run-time scalar.
            let aMode = rng.int(0...3), bMode = rng.int(0...2)
            let aZ = (0..<rows).map { _ in zeroPoint(&rng, signed: aSigned) }
            let bZ = (0..<n).map { _ in zeroPoint(&rng, signed: bSigned) }
            var inputs: [(String, Tensor)] = [("a", tensor(a, batchDims + [rows, k], signed: aSigned))]
            var constants: [String: Tensor] = [:]
            let bT = tensor(b, (batchedB ? batchDims : []) + [k, n], signed: bSigned)
            if constantB { constants["b"] = bT } else { inputs.append(("b", bT)) }
            var nodeInputs = ["a", "b", "", ""]
            switch aMode {
            case 1: constants["az"] = tensor([aZ[0]], [], signed: aSigned)
            case 2: constants["az"] = tensor(aZ, [rows], signed: aSigned)
            case 3: inputs.append(("az", tensor([aZ[0]], [], signed: aSigned)))
            default: break
            }
            if aMode != 0 { nodeInputs[2] = "az" }
            if bMode == 1 { constants["bz"] = tensor([bZ[0]], [], signed: bSigned) }
            if bMode == 2 { constants["bz"] = tensor(bZ, [n], signed: bSigned) }
            if bMode != 0 { nodeInputs[3] = "bz" }
            while nodeInputs.last == "" { nodeInputs.removeLast() }
            // The old kernel's arithmetic: int16 differences, wrapping int32 sums.
            var expected: [Int64] = []
            for s in 0..<batch {
                for r in 0..<rows {
                    let za = aMode == 0 ? 0 : value(aZ[aMode == 2 ? r : 0], aSigned)
                    for j in 0..<n {
                        let zb = bMode == 0 ? 0 : value(bZ[bMode == 2 ? j : 0], bSigned)
                        var acc: Int32 = 0
                        for kk in 0..<k {
                            let x = Int16(value(a[(s * rows + r) * k + kk], aSigned) - za)
                            let w = Int16(value(b[((batchedB ? s : 0) * k + kk) * n + j], bSigned) - zb)
                            acc &+= Int32(x) &* Int32(w)
                        }
                        expected.append(Int64(acc))
                    }
                }
            }
            let node = Node(name: "mm", opType: "MatMulInteger", inputs: nodeInputs, outputs: ["y"])
            for path in runnableInt8Paths() {
                let y = try runGraph([node], inputs: inputs, constants: constants, outputs: ["y"], kernels: path)["y"]
                XCTAssertEqual(y?.shape, batchDims + [rows, n], "trial \(trial)")
                XCTAssertEqual(
                    byteValues(y), expected,
                    "trial \(trial) \(path) batch \(batchDims) rows \(rows) k \(k) n \(n) a \(aSigned)/\(aMode) b \(bSigned)/\(bMode) const \(constantB) batched \(batchedB)"
                )
            }
        }
    }

    func testConvIntegerMatchesTheSwiftArithmetic() throws {
        var rng = SplitMix64(seed: 0x4349_4E54)
        for trial in 0..<50 {
            let xSigned = rng.int(0...1) == 1, wSigned = rng.int(0...1) == 1
            let oneD = rng.int(0...4) == 0
            let group = [1, 1, 2, 3][rng.int(0...3)]
            let cg = rng.int(1...3), mg = rng.int(1...4)
            let c = cg * group, m = mg * group, n = rng.int(1...2)
            let kh = oneD ? 1 : rng.int(1...3), kw = rng.int(1...3)
            let sh = oneD ? 1 : rng.int(1...2), sw = rng.int(1...2)
            let dh = oneD ? 1 : rng.int(1...2), dw = rng.int(1...2)
            let pads = oneD ? [rng.int(0...2), rng.int(0...2)] : (0..<4).map { _ in rng.int(0...2) }
            let (top, left, bottom, right) = oneD ? (0, pads[0], 0, pads[1]) : (pads[0], pads[1], pads[2], pads[3])
            let h = oneD ? 1 : rng.int(((kh - 1) * dh + 1)...9), w = rng.int(((kw - 1) * dw + 1)...11)
            let x = rng.bytes(n * c * h * w), wts = rng.bytes(m * cg * kh * kw)
            let xZ = zeroPoint(&rng, signed: xSigned)
            let wZ = (0..<m).map { _ in zeroPoint(&rng, signed: wSigned) }
            // x: absent / constant scalar / run-time scalar; w: absent / scalar / per channel.
            let xMode = rng.int(0...2), wMode = rng.int(0...2)
            var constants: [String: Tensor] = [
                "w": tensor(wts, oneD ? [m, cg, kw] : [m, cg, kh, kw], signed: wSigned)
            ]
            var nodeInputs = ["x", "w", "", ""]
            var inputs = [("x", tensor(x, oneD ? [n, c, w] : [n, c, h, w], signed: xSigned))]
            if xMode == 1 { constants["xz"] = tensor([xZ], [], signed: xSigned) }
            if xMode == 2 { inputs.append(("xz", tensor([xZ], [], signed: xSigned))) }
            if xMode != 0 { nodeInputs[2] = "xz" }
            if wMode == 1 { constants["wz"] = tensor([wZ[0]], [], signed: wSigned) }
            if wMode == 2 { constants["wz"] = tensor(wZ, [m], signed: wSigned) }
            if wMode != 0 { nodeInputs[3] = "wz" }
            while nodeInputs.last == "" { nodeInputs.removeLast() }
            var attributes: [String: Attribute] = [
                "group": .int(group), "strides": .ints(oneD ? [sw] : [sh, sw]), "dilations": .ints(oneD ? [dw] : [dh, dw]),
                "pads": .ints(oneD ? [left, right] : [top, left, bottom, right]),
            ]
            if rng.int(0...1) == 0 { attributes["kernel_shape"] = .ints(oneD ? [kw] : [kh, kw]) }
            let oh = (h + top + bottom - (kh - 1) * dh - 1) / sh + 1, ow = (w + left + right - (kw - 1) * dw - 1) / sw + 1
            // Padded taps are the zero point's byte: (z − z)·w = 0, i.e. absent.
            let zx = xMode == 0 ? 0 : value(xZ, xSigned)
            var expected: [Int64] = []
            for img in 0..<n {
                for oc in 0..<m {
                    let g = oc / mg, zw = wMode == 0 ? 0 : value(wZ[wMode == 2 ? oc : 0], wSigned)
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            var acc: Int32 = 0
                            for ic in 0..<cg {
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        let iy = oy * sh + ky * dh - top, ix = ox * sw + kx * dw - left
                                        guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                        let xv = value(x[((img * c + g * cg + ic) * h + iy) * w + ix], xSigned) - zx
                                        let wv = value(wts[((oc * cg + ic) * kh + ky) * kw + kx], wSigned) - zw
                                        acc &+= Int32(Int16(xv)) &* Int32(Int16(wv))
                                    }
                                }
                            }
                            expected.append(Int64(acc))
                        }
                    }
                }
            }
            let node = Node(name: "ci", opType: "ConvInteger", inputs: nodeInputs, outputs: ["y"], attributes: attributes)
            for path in runnableInt8Paths() {
                let y = try runGraph([node], inputs: inputs, constants: constants, outputs: ["y"], kernels: path)["y"]
                XCTAssertEqual(y?.shape, oneD ? [n, m, ow] : [n, m, oh, ow], "trial \(trial)")
                XCTAssertEqual(byteValues(y), expected, "trial \(trial) \(path) \(attributes) x \(xSigned)/\(xMode) w \(wSigned)/\(wMode)")
            }
        }
    }
}
