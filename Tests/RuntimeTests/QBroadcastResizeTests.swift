import ModelIR
import Runtime
import TestSupport
import XCTest

/// QLinearAdd/QLinearMul broadcasting in runs and nearest Resize on bytes, compared bit for bit
/// with the slower forms they replace: the operands expanded to the output shape before the
/// elementwise kernel, and the fp32 Resize on the values widened to float32.
final class QBroadcastResizeTests: XCTestCase {
    /// Expands `v` of `shape` to `target` (numpy broadcasting), as the old path did in its workspace.
    private func expand(_ v: [UInt8], _ shape: [Int], to target: [Int]) -> [UInt8] {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        var strides = [Int](repeating: 0, count: target.count)
        var s = 1
        for i in stride(from: target.count - 1, through: 0, by: -1) {
            strides[i] = padded[i] == 1 ? 0 : s
            s *= padded[i]
        }
        let count = target.reduce(1, *)
        var out = [UInt8](repeating: 0, count: count)
        for flat in 0..<count {
            var rest = flat, src = 0
            for d in stride(from: target.count - 1, through: 0, by: -1) {
                src += (rest % target[d]) * strides[d]
                rest /= target[d]
            }
            out[flat] = v[src]
        }
        return out
    }

    private func bytes(_ v: [UInt8], _ shape: [Int], signed: Bool) -> Tensor {
        signed ? ts8(v.map { Int8(bitPattern: $0) }, shape) : tu8(v, shape)
    }

    func testBroadcastAddAndMulEqualTheExpandedOperands() throws {
        var rng = SplitMix64(seed: 2026)
        // (a, b): per-channel NCHW bias, NHWC bias, scalar on either side, both broadcast,
        // runs shorter than the minimum (expanded path), rank mismatch, middle-axis broadcast.
        let cases: [([Int], [Int])] = [
            ([2, 5, 7, 9], [1, 5, 1, 1]), ([1, 6, 6, 24], [24]), ([3, 40, 33], []), ([1], [2, 3, 50]),
            ([4, 1, 37], [4, 29, 1]), ([2, 3, 4], [3, 1]), ([3, 1, 70], [3, 5, 70]), ([5000], [1]),
            ([2, 7, 3, 31], [7, 1, 31]), ([1, 8, 1, 1], [2, 8, 17, 19]),
        ]
        for (k, (sa, sb)) in cases.enumerated() {
            guard let out = broadcast(sa, sb) else { return XCTFail("bad case \(sa) \(sb)") }
            let aSigned = k % 2 == 1, bSigned = k % 3 == 1, ySigned = k % 4 == 2
            let a = rng.bytes(sa.reduce(1, *)), b = rng.bytes(sb.reduce(1, *))
            let zp = { (signed: Bool, v: Int) in signed ? ts8([Int8(v - 128)], []) : tu8([UInt8(v)], []) }
            let consts: [String: Tensor] = [
                "sa": tf([0.031 + Float(k) * 0.01]), "za": zp(aSigned, rng.int(0...255)), "sb": tf([0.07]),
                "zb": zp(bSigned, rng.int(0...255)), "sy": tf([0.05 + Float(k) * 0.003]), "zy": zp(ySigned, rng.int(0...255)),
            ]
            for op in ["QLinearAdd", "QLinearMul"] {
                let n = Node(
                    name: "n", opType: op, domain: "com.microsoft", inputs: ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"],
                    outputs: ["y"], fusedActivation: k % 5 == 0 ? .relu : nil)
                for path in runnableInt8Paths() {
                    let y = try runGraph(
                        [n], inputs: [("a", bytes(a, sa, signed: aSigned)), ("b", bytes(b, sb, signed: bSigned))], constants: consts,
                        outputs: ["y"], kernels: path)["y"]
                    let expanded = try runGraph(
                        [n],
                        inputs: [
                            ("a", bytes(expand(a, sa, to: out), out, signed: aSigned)),
                            ("b", bytes(expand(b, sb, to: out), out, signed: bSigned)),
                        ], constants: consts, outputs: ["y"], kernels: path)["y"]
                    XCTAssertEqual(y?.shape, out, "\(op) \(sa) \(sb)")
                    XCTAssertEqual(byteValues(y), byteValues(expanded), "\(op) \(sa) + \(sb) on \(path)")
                    XCTAssertFalse(byteValues(y).isEmpty)
                }
            }
        }
    }

    private func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(max(x, y))
        }
        return out
    }

    /// Every nearest_mode × coordinate_transformation_mode the fp32 Resize supports, scales and
    /// sizes, upsampling and downsampling, tf_crop_and_resize with an extrapolated border:
    /// the byte kernel's output equals the fp32 kernel's on the widened values.
    func testNearestResizeOnBytesEqualsTheWidenedFloatPath() throws {
        var rng = SplitMix64(seed: 77)
        let roundings = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
        let transforms = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]
        var checked = 0
        for (tIndex, transform) in transforms.enumerated() {
            for (ri, rounding) in roundings.enumerated() {
                let shape = [rng.int(1...2), rng.int(1...3), rng.int(1...9), rng.int(1...11)]
                let signed = (tIndex + ri) % 2 == 1
                let x = rng.bytes(shape.reduce(1, *))
                var attrs: [String: Attribute] = [
                    "mode": .string("nearest"), "nearest_mode": .string(rounding), "coordinate_transformation_mode": .string(transform),
                ]
                var consts: [String: Tensor] = [:]
                var inputs = ["x", "", ""]
                if transform == "tf_crop_and_resize" {
                    consts["roi"] = tf([0, 0, 0.1, -0.2, 1, 1, 0.8, 1.3], [8])
                    attrs["extrapolation_value"] = .float(signed ? -7.6 : 9.9)
                    inputs[1] = "roi"
                }
                if (tIndex + ri) % 3 == 0 {
                    consts["sizes"] = ti([Int64(shape[0]), Int64(shape[1]), Int64(rng.int(1...17)), Int64(rng.int(1...13))], [4])
                    inputs.append("sizes")
                } else {
                    consts["scales"] = tf([1, 1, [0.5, 1.7, 2, 3.25, 0.75][rng.int(0...4)], [0.6, 1.5, 2, 2.9, 4][rng.int(0...4)]], [4])
                    inputs[2] = "scales"
                }
                let n = Node(name: "r", opType: "Resize", inputs: inputs, outputs: ["y"], attributes: attrs)
                let y = try runGraph([n], inputs: [("x", bytes(x, shape, signed: signed))], constants: consts, outputs: ["y"])["y"]
                let widened = x.map { signed ? Float(Int8(bitPattern: $0)) : Float($0) }
                let f = try runGraph([n], inputs: [("x", tf(widened, shape))], constants: consts, outputs: ["y"])["y"]
                let narrowed = (f?.floats ?? []).map { Int64($0.rounded(.towardZero)) }
                XCTAssertEqual(y?.shape, f?.shape, "\(transform) \(rounding)")
                XCTAssertEqual(byteValues(y), narrowed, "\(transform) \(rounding) \(shape) \(signed ? "int8" : "uint8")")
                XCTAssertFalse(narrowed.isEmpty)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 24)
    }

    func testNearestResizeOnBytesRefusesAnExtrapolationValueOutsideTheType() throws {
        let n = Node(
            name: "r", opType: "Resize", inputs: ["x", "roi", "scales"], outputs: ["y"],
            attributes: [
                "mode": .string("nearest"), "coordinate_transformation_mode": .string("tf_crop_and_resize"),
                "extrapolation_value": .float(-3),
            ])
        let consts = ["roi": tf([0, 0, -0.5, 0, 1, 1, 1, 1], [8]), "scales": tf([1, 1, 2, 1], [4])]
        XCTAssertThrowsError(try runGraph([n], inputs: [("x", tu8([1, 2, 3, 4], [1, 1, 2, 2]))], constants: consts, outputs: ["y"])) {
            XCTAssertTrue("\($0)".contains("extrapolation_value"), "\($0)")
        }
    }
}
