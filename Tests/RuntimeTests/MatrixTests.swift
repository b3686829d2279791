import ModelIR
import Runtime
import TestSupport
import XCTest

/// Gemm (every attribute, C broadcasting, constant and run-time B) and MatMul (1-D operands,
/// batched broadcasting) against a plain triple loop in Double.
final class MatrixTests: XCTestCase {
    static func matmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int, transA: Bool = false, transB: Bool = false) -> [Double] {
        var y = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(av) * Double(bv)
                }
                y[i * n + j] = s
            }
        }
        return y
    }

    func testGemmAttributesAndCBroadcasting() throws {
        var rng = SplitMix64(seed: 3)
        let (m, k, n) = (5, 7, 6)
        for transA in [false, true] {
            for transB in [false, true] {
                for cShape in [[n], [1, n], [m, 1], [m, n], []] {
                    for constantB in [true, false] {
                        let a = rng.floats(m * k), b = rng.floats(k * n)
                        let cCount = cShape.reduce(1, *)
                        let c = rng.floats(cCount)
                        let (alpha, beta): (Float, Float) = (0.5, -1.5)
                        let aT = t(a, transA ? [k, m] : [m, k]), bT = t(b, transB ? [n, k] : [k, n])
                        var inputs = [("a", aT)]
                        var constants = ["c": t(c, cShape)]
                        if constantB { constants["b"] = bT } else { inputs.append(("b", bT)) }
                        let out = try runNode(
                            "Gemm", inputs: inputs, constants: constants, nodeInputs: ["a", "b", "c"],
                            attributes: [
                                "transA": .i(transA ? 1 : 0), "transB": .i(transB ? 1 : 0),
                                "alpha": .f(alpha), "beta": .f(beta),
                            ],
                            activation: .relu)
                        let ab = Self.matmul(a, b, m: m, k: k, n: n, transA: transA, transB: transB)
                        let expected = (0..<(m * n)).map { idx -> Float in
                            let (i, j) = (idx / n, idx % n)
                            let padded = [Int](repeating: 1, count: 2 - cShape.count) + cShape
                            let cv = c[(padded[0] == 1 ? 0 : i) * padded[1] + (padded[1] == 1 ? 0 : j)]
                            return max(0, Float(Double(alpha) * ab[idx] + Double(beta) * Double(cv)))
                        }
                        assertClose(
                            out["y"], expected, shape: [m, n], tol: 1e-4,
                            "transA \(transA) transB \(transB) C \(cShape) constB \(constantB)")
                    }
                }
            }
        }
    }

    func testMatMulBatchedBroadcastingAndVectors() throws {
        var rng = SplitMix64(seed: 5)
        // [2,1,3,4] · [3,4,5] → [2,3,3,5]
        let a = rng.floats(2 * 3 * 4), b = rng.floats(3 * 4 * 5)
        let out = try runNode("MatMul", inputs: [("a", t(a, [2, 1, 3, 4])), ("b", t(b, [3, 4, 5]))])
        var expected: [Float] = []
        for i in 0..<2 {
            for j in 0..<3 {
                expected += Self.matmul(Array(a[(i * 12)..<(i * 12 + 12)]), Array(b[(j * 20)..<(j * 20 + 20)]), m: 3, k: 4, n: 5).map(
                    Float.init)
            }
        }
        assertClose(out["y"], expected, shape: [2, 3, 3, 5], tol: 1e-5)
        // Vector · matrix and matrix · vector drop the 1-D side's axis.
        let v = rng.floats(4), mtx = rng.floats(4 * 3)
        let vm = try runNode("MatMul", inputs: [("a", t(v, [4])), ("b", t(mtx, [4, 3]))])
        assertClose(vm["y"], Self.matmul(v, mtx, m: 1, k: 4, n: 3).map(Float.init), shape: [3])
        let mv = try runNode("MatMul", inputs: [("a", t(mtx, [3, 4]))], constants: ["b": t(v, [4])], nodeInputs: ["a", "b"])
        assertClose(mv["y"], Self.matmul(mtx, v, m: 3, k: 4, n: 1).map(Float.init), shape: [3])
    }

    func testMatMulConstantWeightsFoldBatchIntoRows() throws {
        var rng = SplitMix64(seed: 9)
        let a = rng.floats(2 * 3 * 8), w = rng.floats(8 * 4)
        let out = try runNode(
            "MatMul", inputs: [("a", t(a, [2, 3, 8]))], constants: ["w": t(w, [8, 4])], nodeInputs: ["a", "w"],
            activation: .clip(min: -0.5, max: 0.5))
        let expected = Self.matmul(a, w, m: 6, k: 8, n: 4).map { min(max(Float($0), -0.5), 0.5) }
        assertClose(out["y"], expected, shape: [2, 3, 4], tol: 1e-5)
    }

    func testInnerDimensionMismatchNamesBothShapes() {
        XCTAssertThrowsError(try runNode("MatMul", inputs: [("a", t([1, 2, 3, 4, 5, 6], [2, 3])), ("b", t([1, 2, 3, 4], [2, 2]))])) { e in
            XCTAssertTrue("\(e)".contains("[2, 3] · [2, 2]"), "\(e)")
        }
    }
}
