import ModelIR
import Runtime
import TestSupport
import XCTest

/// Quantize/Dequantize, Add/Mul, Concat, pools, tables, integer ops: expected bytes computed
/// here from the ONNX definitions and the contract.
final class QElementwiseTests: XCTestCase {
    func testQuantizeAndDequantizePerTensorAndPerAxis() throws {
        let x: [Float] = [-1.0, -0.25, 0, 0.25, 0.375, 0.125, 3.0, -40]
        let q = Node(name: "q", opType: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["y"])
        let y = try runGraph([q], inputs: [("x", tf(x, [2, 4]))], constants: ["s": tf([0.25]), "z": tu8([10], [])], outputs: ["y"])["y"]
        // x/0.25 = -4, -1, 0, 1, 1.5→2 (half to even), 0.5→0, 12, -160→clamped.
        XCTAssertEqual(y?.uint8s, [6, 9, 10, 11, 12, 10, 22, 0])
        let qa = Node(name: "q", opType: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["y"], attributes: ["axis": .int(0)])
        let ya = try runGraph(
            [qa], inputs: [("x", tf(x, [2, 4]))], constants: ["s": tf([0.25, 0.5], [2]), "z": ts8([0, -3], [2])],
            outputs: ["y"])["y"]
        XCTAssertEqual(ya?.int8s, [-4, -1, 0, 1, -2, -3, 3, -83])
        let dq = Node(name: "d", opType: "DequantizeLinear", inputs: ["q", "s", "z"], outputs: ["y"], attributes: ["axis": .int(1)])
        let d = try runGraph(
            [dq], inputs: [("q", tu8([0, 10, 255, 7], [2, 2]))], constants: ["s": tf([0.5, 2], [2]), "z": tu8([10, 7], [2])],
            outputs: ["y"])["y"]
        XCTAssertEqual(d?.floats, [-5, 6, 122.5, 0])
    }

    /// QuantizeLinear against ONNX's formula written with `rounded(.toNearestOrEven)`: ties,
    /// values past ±2²² and the type range, ±∞ and NaN (→ the zero point), both types.
    func testQuantizeLinearRoundsAndSaturatesLikeTheFormula() throws {
        var rng = SplitMix64(seed: 41)
        var x: [Float] = [.nan, .infinity, -.infinity, 1e30, -1e30, 4_194_303.5, -4_194_304.5, 8_388_609, 0.5, 1.5, 2.5, -0.5, -1.5]
        x += (0..<2000).map { i in Float(Int(rng.next() % 2001) - 1000) / (i % 2 == 0 ? 2 : 7) }
        for (type, z) in [(ElementType.uint8, Float(131)), (.int8, Float(-7))] {
            let (lo, hi): (Float, Float) = type == .uint8 ? (0, 255) : (-128, 127)
            let s: Float = 0.75
            let expected = x.map { v -> Int64 in
                let q = (v / s).rounded(.toNearestOrEven) + z
                return Int64(q.isNaN ? z : min(max(q, lo), hi))
            }
            let zt = type == .uint8 ? tu8([UInt8(z)], []) : ts8([Int8(z)], [])
            let q = Node(name: "q", opType: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["y"])
            let y = try runGraph([q], inputs: [("x", tf(x, [x.count]))], constants: ["s": tf([s]), "z": zt], outputs: ["y"])["y"]
            XCTAssertEqual(byteValues(y), expected, "\(type)")
        }
    }

    func testAddAndMulWithBroadcastingFollowTheContract() throws {
        var rng = SplitMix64(seed: 11)
        let a = rng.bytes(2 * 3 * 4), b = rng.bytes(4)
        let consts: [String: Tensor] = [
            "sa": tf([0.05]), "za": tu8([128], []), "sb": tf([0.11]), "zb": tu8([3], []), "sy": tf([0.07]),
            "zy": tu8([90], []),
        ]
        let (sa, sb, sy) = (Double(Float(0.05)), Double(Float(0.11)), Double(Float(0.07)))
        for op in ["QLinearAdd", "QLinearMul"] {
            let n = Node(
                name: "n", opType: op, domain: "com.microsoft", inputs: ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"], outputs: ["y"],
                fusedActivation: op == "QLinearAdd" ? .relu : nil)
            let expected: [Int64] = a.indices.map { i in
                let av = Int64(a[i]), bv = Int64(b[i % 4])
                if op == "QLinearAdd" { return Contract.add(av, 128, sa, bv, 3, sb, zy: 90, sy: sy, lo: 90, hi: 255) }
                return Contract.requant((av - 128) * (bv - 3), sa * sb / sy, zp: 90, lo: 0, hi: 255)
            }
            for path in runnableInt8Paths() {
                let y = try runGraph(
                    [n], inputs: [("a", tu8(a, [2, 3, 4])), ("b", tu8(b, [4]))], constants: consts, outputs: ["y"],
                    kernels: path)["y"]
                XCTAssertEqual(byteValues(y), expected, "\(op) on \(path)")
            }
        }
    }

    func testConcatRequantizesInputsWithOtherScales() throws {
        let n = Node(
            name: "c", opType: "QLinearConcat", domain: "com.microsoft", inputs: ["sy", "zy", "a", "sy", "zy", "b", "sb", "zb"],
            outputs: ["y"], attributes: ["axis": .int(1)])
        let consts: [String: Tensor] = ["sy": tf([0.5]), "zy": tu8([100], []), "sb": tf([0.25]), "zb": tu8([20], [])]
        let a: [UInt8] = [1, 2, 3, 4], b: [UInt8] = [20, 21, 22, 255, 0, 30]
        let y = try runGraph([n], inputs: [("a", tu8(a, [2, 2])), ("b", tu8(b, [2, 3]))], constants: consts, outputs: ["y"])["y"]
        // b requantized: 100 + round((b − 20)·0.5), ties toward +∞.
        let rb = b.map { Contract.requant(Int64($0) - 20, 0.5, zp: 100, lo: 0, hi: 255) }
        XCTAssertEqual(byteValues(y), [1, 2, rb[0], rb[1], rb[2], 3, 4, rb[3], rb[4], rb[5]])
        XCTAssertEqual(rb, [100, 101, 101, 218, 90, 105])
    }

    func testAveragePoolsDivideInsideTheRequantization() throws {
        var rng = SplitMix64(seed: 12)
        let x = rng.bytes(2 * 5 * 5)
        let consts: [String: Tensor] = ["sx": tf([0.1]), "zx": tu8([7], []), "sy": tf([0.3]), "zy": tu8([50], [])]
        let g = Node(
            name: "g", opType: "QLinearGlobalAveragePool", domain: "com.microsoft", inputs: ["x", "sx", "zx", "sy", "zy"], outputs: ["y"])
        let p = Node(
            name: "p", opType: "QLinearAveragePool", domain: "com.microsoft", inputs: ["x", "sx", "zx", "sy", "zy"], outputs: ["y"],
            attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])
        let m = Double(Float(0.1)) / Double(Float(0.3))
        let global: [Int64] = (0..<2).map { c in
            Contract.requant((0..<25).reduce(0) { $0 + Int64(x[c * 25 + $1]) - 7 }, m / 25, zp: 50, lo: 0, hi: 255)
        }
        var windowed: [Int64] = []
        for c in 0..<2 {
            for oy in 0..<3 {
                for ox in 0..<3 {
                    var sum: Int64 = 0, count = 0
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx
                            guard iy >= 0, iy < 5, ix >= 0, ix < 5 else { continue }
                            sum += Int64(x[c * 25 + iy * 5 + ix]) - 7
                            count += 1
                        }
                    }
                    windowed.append(Contract.requant(sum, m / Double(count), zp: 50, lo: 0, hi: 255))
                }
            }
        }
        for path in runnableInt8Paths() {
            let yg = try runGraph([g], inputs: [("x", tu8(x, [1, 2, 5, 5]))], constants: consts, outputs: ["y"], kernels: path)["y"]
            XCTAssertEqual(yg?.shape, [1, 2, 1, 1])
            XCTAssertEqual(byteValues(yg), global)
            let yp = try runGraph([p], inputs: [("x", tu8(x, [1, 2, 5, 5]))], constants: consts, outputs: ["y"], kernels: path)["y"]
            XCTAssertEqual(byteValues(yp), windowed)
        }
    }

    func testLookupActivationsQuantizeTheRealFunction() throws {
        let x = (0..<256).map { UInt8($0) }
        let consts: [String: Tensor] = [
            "sx": tf([0.05]), "zx": tu8([128], []), "sy": tf([1.0 / 256]), "zy": tu8([0], []),
            "sr": tf([0.04]), "zr": tu8([0], []),
        ]
        let sig = Node(name: "s", opType: "QLinearSigmoid", domain: "com.microsoft", inputs: ["x", "sx", "zx", "sy", "zy"], outputs: ["y"])
        let y = try runGraph([sig], inputs: [("x", tu8(x, [256]))], constants: consts, outputs: ["y"])["y"]
        let sx = Double(Float(0.05))
        let expected = x.map { b -> Int64 in
            let r = 1 / (1 + exp(-sx * (Double(b) - 128)))
            return min(255, Int64((r * 256).rounded(.toNearestOrEven)))
        }
        XCTAssertEqual(byteValues(y), expected)
        let relu = Node(
            name: "r", opType: "QLinearLookup", domain: "flotilla", inputs: ["x", "sx", "zx", "sr", "zr"], outputs: ["y"],
            attributes: ["function": .string("Relu")])
        let yr = try runGraph([relu], inputs: [("x", tu8(x, [256]))], constants: consts, outputs: ["y"])["y"]
        let sr = Double(Float(0.04))
        XCTAssertEqual(byteValues(yr), x.map { b in min(255, Int64((max(0, sx * (Double(b) - 128)) / sr).rounded(.toNearestOrEven))) })
        let bad = Node(
            name: "b", opType: "QLinearLookup", domain: "flotilla", inputs: ["x", "sx", "zx", "sr", "zr"], outputs: ["y"],
            attributes: ["function": .string("Gelu")])
        XCTAssertThrowsError(try runGraph([bad], inputs: [("x", tu8(x, [256]))], constants: consts, outputs: ["y"])) { e in
            XCTAssertTrue("\(e)".contains("Gelu"), "\(e)")
        }
    }

    func testMaxPoolAndNearestResizeRunOnInt8() throws {
        let x: [Int8] = [-5, 3, -128, 7, 1, 2, 3, 4, 127, -1, 0, 0, 9, -9, 8, -8]
        let mp = Node(
            name: "m", opType: "MaxPool", inputs: ["x"], outputs: ["y"],
            attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        let y = try runGraph([mp], inputs: [("x", ts8(x, [1, 1, 4, 4]))], constants: [:], outputs: ["y"])["y"]
        XCTAssertEqual(y?.int8s, [3, 7, 127, 8])
        let rs = Node(name: "r", opType: "Resize", inputs: ["x", "", "scales"], outputs: ["y"], attributes: ["mode": .string("nearest")])
        let yr = try runGraph(
            [rs], inputs: [("x", tu8([1, 2, 3, 4], [1, 1, 2, 2]))], constants: ["scales": tf([1, 1, 2, 2], [4])],
            outputs: ["y"])["y"]
        XCTAssertEqual(yr?.uint8s, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    func testDynamicQuantizeMatMulIntegerPattern() throws {
        let x: [Float] = [-1, 0.5, 2, 0.25, -0.75, 1.5]
        let dql = Node(name: "d", opType: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["xq", "xs", "xz"])
        let mmi = Node(name: "m", opType: "MatMulInteger", inputs: ["xq", "w", "xz", "wz"], outputs: ["acc"])
        let w: [Int8] = [3, -4, 5, 127, -127, 0]
        let out = try runGraph(
            [dql, mmi], inputs: [("x", tf(x, [2, 3]))], constants: ["w": ts8(w, [3, 2]), "wz": ts8([1], [])],
            outputs: ["xq", "xs", "xz", "acc"])
        // Range [-1, 2] → scale 3/255, zero point round(1/(3/255)) = 85.
        let s = Float(3) / 255
        XCTAssertEqual(out["xs"]?.floats, [s])
        XCTAssertEqual(out["xz"]?.uint8s, [85])
        let xq = x.map { Int64(min(255, max(0, ($0 / s).rounded(.toNearestOrEven) + 85))) }
        XCTAssertEqual(byteValues(out["xq"]), xq)
        var acc: [Int64] = []
        for r in 0..<2 {
            for j in 0..<2 { acc.append((0..<3).reduce(0) { $0 + (xq[r * 3 + $1] - 85) * (Int64(w[$1 * 2 + j]) - 1) }) }
        }
        XCTAssertEqual(byteValues(out["acc"]), acc)
    }
    /// Inputs long enough for the 16-lane range search and the table's quantize kernel, against
    /// the scalar definition: every position of the extremes (vector body and tail), NaN, ±0,
    /// one-signed and all-zero inputs; the bytes, scale and zero point must all agree.
    func testDynamicQuantizeLinearMatchesTheScalarDefinitionOnLongInputs() throws {
        var rng = SplitMix64(seed: 0xD9_4A11)
        var cases: [[Float]] = []
        for n in [16, 17, 31, 33, 100, 1003] {
            cases.append((0..<n).map { _ in Float.random(in: -3...5, using: &rng) })
            cases.append((0..<n).map { _ in Float.random(in: 0.1...2, using: &rng) })
            cases.append((0..<n).map { _ in -Float.random(in: 0.1...2, using: &rng) })
            var nan = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
            nan[n / 2] = .nan
            nan[0] = -0.0
            cases.append(nan)
            var extremes = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
            extremes[n - 1] = -7  // the minimum in the scalar tail (or the last lane)
            extremes[n / 3] = 9
            cases.append(extremes)
        }
        cases.append([Float](repeating: 0, count: 40))
        for (index, x) in cases.enumerated() {
            var lo: Float = 0, hi: Float = 0
            for v in x where !v.isNaN {
                lo = min(lo, v)
                hi = max(hi, v)
            }
            let s = (hi - lo) / 255
            let zp: Float = s > 0 ? min(max((0 - lo / s).rounded(.toNearestOrEven), 0), 255) : 0
            let expected: [Int64] = x.map { v in
                guard s > 0 else { return 0 }
                let q = (v / s).rounded(.toNearestOrEven) + zp
                return q.isNaN ? Int64(zp) : Int64(min(max(q, 0), 255))
            }
            let dql = Node(name: "d", opType: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["xq", "xs", "xz"])
            let out = try runGraph([dql], inputs: [("x", tf(x, [x.count]))], constants: [:], outputs: ["xq", "xs", "xz"])
            XCTAssertEqual(out["xs"]?.floats, [s], "case \(index)")
            XCTAssertEqual(out["xz"]?.uint8s, [UInt8(zp)], "case \(index)")
            XCTAssertEqual(byteValues(out["xq"]), expected, "case \(index)")
        }
    }
}
