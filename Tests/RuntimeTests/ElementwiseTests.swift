import Foundation
import ModelIR
import Runtime
import TestSupport
import XCTest

/// Broadcasting binary ops, variadic Min/Max, comparisons, Where, unary math and activations,
/// with hand-computed expectations.
final class ElementwiseTests: XCTestCase {
    func testAddBroadcastsBothWays() throws {
        // [2,1,3] + [4,1] → [2,4,3]: out[i,j,k] = a[i,0,k] + b[j,0]
        let a: [Float] = [1, 2, 3, 10, 20, 30], b: [Float] = [100, 200, 300, 400]
        let out = try runNode("Add", inputs: [("a", t(a, [2, 1, 3])), ("b", t(b, [4, 1]))], nodeInputs: ["a", "b"])
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<4 { for k in 0..<3 { expected.append(a[i * 3 + k] + b[j]) } } }
        assertClose(out["y"], expected, shape: [2, 4, 3])
    }

    /// Every float arithmetic op over broadcasting pairs that exercise each row form (same
    /// shape, scalar either side, per-channel, outer-product strides), against direct indexing.
    func testFloatArithmeticOverBroadcastShapes() throws {
        var rng = SplitMix64(seed: 13)
        let pairs: [([Int], [Int])] = [
            ([2, 3], [2, 3]), ([2, 3], []), ([], [4]), ([2, 3, 4], [3, 1]), ([3, 1], [1, 4]),
            ([1, 4], [3, 1]), ([2, 1, 4], [1, 3, 1]), ([5], [1]),
        ]
        for (sa, sb) in pairs {
            let a = rng.floats(sa.reduce(1, *)), b = rng.floats(sb.reduce(1, *)).map { $0 + 2 }
            let out = try XCTUnwrap(broadcastShape(sa, sb))
            for (op, f) in [("Add", { (x: Float, y: Float) in x + y }), ("Sub", { $0 - $1 }), ("Mul", { $0 * $1 }), ("Div", { $0 / $1 })] {
                let y = try runNode(op, inputs: [("a", t(a, sa)), ("b", t(b, sb))])
                var expected: [Float] = []
                forEach(out) { idx in expected.append(f(a[flat(idx, sa)], b[flat(idx, sb)])) }
                assertClose(y["y"], expected, shape: out, tol: 1e-6, "\(op) \(sa) \(sb)")
            }
        }
    }

    private func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
        return zip(pa, pb).map { max($0, $1) }
    }

    /// Row-major offset in `shape` of the broadcast index `idx` (right-aligned).
    private func flat(_ idx: [Int], _ shape: [Int]) -> Int {
        let tail = Array(idx.suffix(shape.count))
        var o = 0
        for (i, d) in zip(tail, shape) { o = o * d + (d == 1 ? 0 : i) }
        return o
    }

    private func forEach(_ shape: [Int], _ body: ([Int]) -> Void) {
        let count = shape.reduce(1, *)
        for n in 0..<count {
            var idx = [Int](repeating: 0, count: shape.count), rest = n
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                idx[d] = rest % shape[d]
                rest /= shape[d]
            }
            body(idx)
        }
    }

    func testArithmeticOnFloatsAndIntegers() throws {
        let x = t([1, -2, 3, 4], [4]), s = t([2], [])
        assertClose(try runNode("Sub", inputs: [("x", x), ("s", s)])["y"], [-1, -4, 1, 2])
        assertClose(try runNode("Mul", inputs: [("x", x), ("s", s)])["y"], [2, -4, 6, 8])
        assertClose(try runNode("Div", inputs: [("x", x), ("s", s)])["y"], [0.5, -1, 1.5, 2])
        assertClose(try runNode("Pow", inputs: [("x", x), ("s", s)])["y"], [1, 4, 9, 16])
        // Integer division truncates toward zero; division by zero gives 0 instead of trapping.
        let d = try runNode("Div", inputs: [("a", ti([7, -7, 5, Int64.min], [4])), ("b", ti([2, 2, 0, -1], [4]))])
        XCTAssertEqual(d["y"]?.int64s, [3, -3, 0, Int64.min])
        let p = try runNode("Pow", inputs: [("a", ti([2, 3, -2], [3])), ("b", ti([10, 0, 3], [3]))])
        XCTAssertEqual(p["y"]?.int64s, [1024, 1, -8])
    }

    func testVariadicMinMaxBroadcast() throws {
        let out = try runNode("Max", inputs: [("a", t([1, 5], [2])), ("b", t([3], [1])), ("c", t([0, 9, 2, 4], [2, 2]))])
        assertClose(out["y"], [3, 9, 3, 5], shape: [2, 2])
        let mn = try runNode("Min", inputs: [("a", t([1, 5], [2]))])
        assertClose(mn["y"], [1, 5])
    }

    func testComparisonsAndWhere() throws {
        let a = t([1, 2, 3], [3]), b = t([2], [1])
        XCTAssertEqual(try runNode("Greater", inputs: [("a", a), ("b", b)])["y"]?.bools, [false, false, true])
        XCTAssertEqual(try runNode("Less", inputs: [("a", a), ("b", b)])["y"]?.bools, [true, false, false])
        XCTAssertEqual(try runNode("Equal", inputs: [("a", a), ("b", b)])["y"]?.bools, [false, true, false])
        let w = try runNode(
            "Where",
            inputs: [
                ("c", try Tensor(bools: [true, false], shape: [2, 1])), ("x", t([1, 2, 3], [3])),
                ("z", t([-1], [])),
            ])
        assertClose(w["y"], [1, 2, 3, -1, -1, -1], shape: [2, 3])
    }

    func testUnaryMathAndActivations() throws {
        let values: [Double] = [-2, -0.5, 0, 0.5, 2.5]
        let x = t(values.map { Float($0) }, [5])
        func run(_ op: String, _ attrs: [String: Attribute] = [:]) throws -> Tensor? {
            try runNode(op, inputs: [("x", x)], attributes: attrs)["y"]
        }
        assertClose(try run("Relu"), [0, 0, 0, 0.5, 2.5])
        assertClose(try run("LeakyRelu", ["alpha": .f(0.1)]), [-0.2, -0.05, 0, 0.5, 2.5])
        assertClose(try run("HardSigmoid"), [0.1, 0.4, 0.5, 0.6, 1])
        // x · clamp(x/6 + 0.5, 0, 1): -2 → -2·(1/6), 0.5 → 0.5·(7/12), 2.5 → 2.5·(11/12)
        let hs: [Float] = [-2.0 / 6.0, -0.5 * (5.0 / 12.0), 0, 0.5 * (7.0 / 12.0), 2.5 * (11.0 / 12.0)]
        assertClose(try run("HardSwish"), hs)
        assertClose(try run("Neg"), [2, 0.5, 0, -0.5, -2.5])
        assertClose(try run("Abs"), [2, 0.5, 0, 0.5, 2.5])
        assertClose(try run("Floor"), [-2, -1, 0, 0, 2])
        assertClose(try run("Ceil"), [-2, -0, 0, 1, 3])
        assertClose(try run("Round"), [-2, -0, 0, 0, 2])  // half to even
        assertClose(try run("Sigmoid"), values.map { Float(1 / (1 + exp(-$0))) })
        assertClose(try run("Tanh"), values.map { Float(tanh($0)) })
        assertClose(try run("Erf"), values.map { Float(erf($0)) })
        assertClose(try run("Exp"), values.map { Float(exp($0)) })
        let pos = t([0.25, 4], [2])
        assertClose(try runNode("Sqrt", inputs: [("x", pos)])["y"], [0.5, 2])
        assertClose(try runNode("Log", inputs: [("x", pos)])["y"], [Float(log(0.25)), Float(log(4.0))])
        assertClose(try runNode("Reciprocal", inputs: [("x", pos)])["y"], [4, 0.25])
        let prelu = try runNode("PRelu", inputs: [("x", t([-1, 2, -3, 4], [2, 2])), ("s", t([0.5, 0.25], [2]))])
        assertClose(prelu["y"], [-0.5, 2, -1.5, 4])  // slope broadcasts along the last axis
    }

    func testClipBoundsOptionalAndIntegers() throws {
        let x = t([-3, 0.5, 9], [3])
        assertClose(
            try runNode(
                "Clip", inputs: [("x", x)], constants: ["lo": t([0], []), "hi": t([6], [])],
                nodeInputs: ["x", "lo", "hi"])["y"], [0, 0.5, 6])
        assertClose(
            try runNode("Clip", inputs: [("x", x)], constants: ["hi": t([1], [])], nodeInputs: ["x", "", "hi"])["y"], [-3, 0.5, 1])
        let i = try runNode(
            "Clip", inputs: [("x", ti([-5, 3, 50], [3]))], constants: ["lo": ti([0], []), "hi": ti([10], [])],
            nodeInputs: ["x", "lo", "hi"])
        XCTAssertEqual(i["y"]?.int64s, [0, 3, 10])
    }

    func testMixedTypesAreRejectedAtPlanTime() {
        XCTAssertThrowsError(try runNode("Add", inputs: [("a", t([1], [1])), ("b", ti([1], [1]))])) { e in
            XCTAssertTrue("\(e)".contains("float32 and int64"), "\(e)")
        }
    }

    func testFusedActivationOnAddIsApplied() throws {
        let out = try runNode("Add", inputs: [("a", t([-1, 1], [2])), ("b", t([-1, 1], [2]))], activation: .leakyRelu(alpha: 0.5))
        assertClose(out["y"], [-1, 2])
    }
}
