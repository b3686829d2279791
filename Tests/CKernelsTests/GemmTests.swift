import CKernels
import TestSupport
import XCTest

/// Every optimized GEMM entry point against the reference, on every path this CPU runs, over
/// M, N, K drawn from edge-heavy sizes (1, primes, tile sizes ± 1), padded leading dimensions,
/// bias present or absent and each clamp range. Error budget: `sumErrorBudget` with K + 1 terms
/// (K products and the bias); C's padding columns must be left untouched.
final class GemmTests: XCTestCase {
    static let sizes = [1, 2, 3, 7, 15, 16, 17, 31, 64, 100, 257]
    static let sentinel = Float(bitPattern: 0x7FC0_BEEF)  // a NaN no kernel computes

    struct Shape: CustomStringConvertible {
        var m, n, k: Int
        var padA, padB, padC: Int
        var hasBias: Bool
        var clamp: (Float, Float)
        var description: String {
            "M=\(m) N=\(n) K=\(k) pads=(\(padA),\(padB),\(padC)) bias=\(hasBias) clamp=\(clamp)"
        }
    }

    /// All M × N pairs from `sizes`, each with two K values, drawn deterministically.
    static func shapes(seed: UInt64) -> [Shape] {
        var rng = SplitMix64(seed: seed)
        var result: [Shape] = []
        for m in sizes {
            for n in sizes {
                for _ in 0..<2 {
                    let k = sizes.randomElement(using: &rng) ?? 1
                    result.append(
                        Shape(
                            m: m, n: n, k: k,
                            padA: Int.random(in: 0...3, using: &rng),
                            padB: Int.random(in: 0...3, using: &rng),
                            padC: Int.random(in: 0...3, using: &rng),
                            hasBias: result.count % 2 == 0,
                            clamp: clampRanges[result.count % clampRanges.count]))
                }
            }
        }
        return result
    }

    func testPackedAMatchesReferenceOnEveryPath() {
        let reference = referenceTable()
        let tables = optimizedTables()
        XCTAssertFalse(tables.isEmpty, "this CPU runs no optimized path; the test would prove nothing")
        var rng = SplitMix64(seed: 0xA11CE)
        for shape in Self.shapes(seed: 1) {
            let lda = shape.k + shape.padA, ldb = shape.n + shape.padB, ldc = shape.n + shape.padC
            let a = rng.floats(shape.m * lda), b = rng.floats(shape.k * ldb)
            let bias = shape.hasBias ? rng.floats(shape.m) : nil
            let expected = packedA(reference, shape, a, lda, b, ldb, bias, ldc, shape.clamp)
            let absSum = packedA(
                reference, shape, a.map(abs), lda, b.map(abs), ldb, bias?.map(abs), ldc,
                (-.infinity, .infinity))
            for table in tables {
                let actual = packedA(table, shape, a, lda, b, ldb, bias, ldc, shape.clamp)
                assertWithinBudget(
                    actual, expected, absSum, shape: shape, ldc: ldc,
                    context: "\(pathName(table)) gemm_packed_a \(shape)")
            }
        }
    }

    func testPackedBAndGemmMatchReferenceOnEveryPath() {
        let reference = referenceTable()
        var rng = SplitMix64(seed: 0xB0B)
        for (index, shape) in Self.shapes(seed: 2).enumerated() {
            let transB = index % 4 >= 2
            let lda = shape.k + shape.padA, ldc = shape.n + shape.padC
            let ldb = (transB ? shape.k : shape.n) + shape.padB
            let a = rng.floats(shape.m * lda), b = rng.floats((transB ? shape.n : shape.k) * ldb)
            let bias = shape.hasBias ? rng.floats(shape.n) : nil
            let expected = gemm(reference, shape, a, lda, b, ldb, transB, bias, ldc, shape.clamp)
            let absSum = gemm(
                reference, shape, a.map(abs), lda, b.map(abs), ldb, transB, bias?.map(abs),
                ldc, (-.infinity, .infinity))
            for table in optimizedTables() {
                let viaWorkspace = gemm(table, shape, a, lda, b, ldb, transB, bias, ldc, shape.clamp)
                assertWithinBudget(
                    viaWorkspace, expected, absSum, shape: shape, ldc: ldc,
                    context: "\(pathName(table)) gemm transB=\(transB) \(shape)")
                let viaPackedB = packedB(table, shape, a, lda, b, ldb, transB, bias, ldc, shape.clamp)
                assertWithinBudget(
                    viaPackedB, expected, absSum, shape: shape, ldc: ldc,
                    context: "\(pathName(table)) gemm_packed_b transB=\(transB) \(shape)")
            }
        }
    }

    /// K = 0 is an empty sum: C = clamp(bias), on every path and every entry point.
    func testZeroKGivesClampedBias() {
        let bias: [Float] = [-2, -0.25, 0.5, 7, 3]
        for table in runnableTables() {
            let rows = Shape(m: 5, n: 3, k: 0, padA: 0, padB: 0, padC: 0, hasBias: true, clamp: (0, 6))
            let c = packedA(table, rows, [], 1, [], 3, bias, 3, (0, 6))
            XCTAssertEqual(c, [0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 6, 6, 6, 3, 3, 3], pathName(table))
            let cols = Shape(m: 2, n: 5, k: 0, padA: 0, padB: 0, padC: 0, hasBias: true, clamp: (0, 6))
            let g = gemm(table, cols, [], 1, [], 5, false, bias, 5, (0, 6))
            XCTAssertEqual(g, [0, 0, 0.5, 6, 3, 0, 0, 0.5, 6, 3], pathName(table))
        }
    }

    /// A NaN input reaches C as NaN through a fused Relu on every path (no silent zeroing).
    func testNaNPropagatesThroughClamp() {
        for table in runnableTables() {
            let shape = Shape(m: 3, n: 20, k: 4, padA: 0, padB: 0, padC: 0, hasBias: false, clamp: (0, 6))
            var b = [Float](repeating: 1, count: 4 * 20)
            b[2 * 20 + 5] = .nan
            let c = packedA(table, shape, [Float](repeating: 1, count: 12), 4, b, 20, nil, 20, (0, 6))
            for row in 0..<3 {
                XCTAssertTrue(c[row * 20 + 5].isNaN, "\(pathName(table)) row \(row)")
                XCTAssertEqual(c[row * 20 + 4], 4, "\(pathName(table)) row \(row)")
            }
        }
    }

    /// The free functions go through one table, so packing and running with them agree.
    func testFreeFunctionsMatchReference() {
        var rng = SplitMix64(seed: 7)
        let shape = Shape(m: 37, n: 50, k: 129, padA: 0, padB: 0, padC: 0, hasBias: true, clamp: (-1, 1))
        let a = rng.floats(37 * 129), b = rng.floats(129 * 50), bias = rng.floats(37)
        var packed = [Float](repeating: 0, count: flotilla_f32_gemm_pack_a_size(37, 129))
        flotilla_f32_gemm_pack_a(37, 129, a, 129, &packed)
        var c = [Float](repeating: 0, count: 37 * 50)
        flotilla_f32_gemm_packed_a(37, 50, 129, packed, b, 50, bias, &c, 50, -1, 1)
        let reference = referenceTable()
        let expected = packedA(reference, shape, a, 129, b, 50, bias, 50, (-1, 1))
        let absSum = packedA(
            reference, shape, a.map(abs), 129, b.map(abs), 50, bias.map(abs), 50,
            (-.infinity, .infinity))
        assertWithinBudget(c, expected, absSum, shape: shape, ldc: 50, context: "free functions")
    }

    // MARK: - Running one entry point of one table

    private func packedA(
        _ t: UnsafePointer<flotilla_f32_kernels>, _ s: Shape, _ a: [Float], _ lda: Int,
        _ b: [Float], _ ldb: Int, _ bias: [Float]?, _ ldc: Int,
        _ clamp: (Float, Float)
    ) -> [Float] {
        var packed = [Float](repeating: .nan, count: max(1, t.pointee.gemm_pack_a_size(s.m, s.k)))
        t.pointee.gemm_pack_a(s.m, s.k, a, lda, &packed)
        var c = [Float](repeating: Self.sentinel, count: s.m * ldc)
        withOptionalPointer(bias) { biasPointer in
            t.pointee.gemm_packed_a(s.m, s.n, s.k, packed, b, ldb, biasPointer, &c, ldc, clamp.0, clamp.1)
        }
        return c
    }

    private func gemm(
        _ t: UnsafePointer<flotilla_f32_kernels>, _ s: Shape, _ a: [Float], _ lda: Int,
        _ b: [Float], _ ldb: Int, _ transB: Bool, _ bias: [Float]?, _ ldc: Int,
        _ clamp: (Float, Float)
    ) -> [Float] {
        var workspace = [Float](repeating: .nan, count: max(1, t.pointee.gemm_workspace_size(s.m, s.n, s.k, transB)))
        var c = [Float](repeating: Self.sentinel, count: s.m * ldc)
        withOptionalPointer(bias) { biasPointer in
            t.pointee.gemm(
                s.m, s.n, s.k, a, lda, b, ldb, transB, biasPointer, &c, ldc, clamp.0, clamp.1,
                &workspace)
        }
        return c
    }

    private func packedB(
        _ t: UnsafePointer<flotilla_f32_kernels>, _ s: Shape, _ a: [Float], _ lda: Int,
        _ b: [Float], _ ldb: Int, _ transB: Bool, _ bias: [Float]?, _ ldc: Int,
        _ clamp: (Float, Float)
    ) -> [Float] {
        var packed = [Float](repeating: .nan, count: max(1, t.pointee.gemm_pack_b_size(s.n, s.k)))
        t.pointee.gemm_pack_b(s.n, s.k, b, ldb, transB, &packed)
        var c = [Float](repeating: Self.sentinel, count: s.m * ldc)
        withOptionalPointer(bias) { biasPointer in
            t.pointee.gemm_packed_b(s.m, s.n, s.k, a, lda, packed, biasPointer, &c, ldc, clamp.0, clamp.1)
        }
        return c
    }

    private func assertWithinBudget(
        _ actual: [Float], _ expected: [Float], _ absSum: [Float], shape: Shape,
        ldc: Int, context: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        for m in 0..<shape.m {
            for n in 0..<ldc {
                let i = m * ldc + n
                if n >= shape.n {
                    if actual[i].bitPattern != Self.sentinel.bitPattern {
                        XCTFail("\(context): wrote C[\(m)][\(n)] outside the N columns", file: file, line: line)
                        return
                    }
                    continue
                }
                let budget = sumErrorBudget(terms: shape.k + 1, absoluteSum: absSum[i])
                let difference = abs(Double(actual[i]) - Double(expected[i]))
                if !(difference <= budget) {
                    XCTFail(
                        "\(context): C[\(m)][\(n)] = \(actual[i]), reference \(expected[i]), "
                            + "difference \(difference) over budget \(budget)", file: file, line: line)
                    return
                }
            }
        }
    }
}
