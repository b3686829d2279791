import CKernels
import TestSupport
import XCTest

/// One exact int32 GEMM problem (MatMulInteger): A M×K (lda), B K×N (ldb), Y M×N int32 (ldy).
struct Q8GemmS32Case {
    var M = 1, N = 1, K = 1
    var aType = FLOTILLA_Q8_U8, bType = FLOTILLA_Q8_U8
    var a: [UInt8] = [0], lda = 1
    var b: [UInt8] = [0], ldb = 1
    var aZero: [Int32]? = nil, aPerRow = false
    var bZero: [Int32]? = nil, bPerColumn = false
    var ldy = 1
}

/// Packs B and runs `c` on `table`; Y starts filled with 0xA5A5A5A5 so elements between N and
/// ldy (which must stay untouched) are compared too.
func runQ8GemmS32(
    _ table: UnsafePointer<flotilla_q8_kernels>, _ c: Q8GemmS32Case, packedBy packer: UnsafePointer<flotilla_q8_kernels>? = nil
)
    -> (status: flotilla_q8_status, output: [Int32])
{
    let t = table.pointee, p = (packer ?? table).pointee
    var y = [Int32](repeating: Int32(bitPattern: 0xA5A5_A5A5), count: c.M * c.ldy)
    guard let packSize = p.gemm_s32_pack_size, let pack = p.gemm_s32_pack, let wsSize = t.gemm_s32_workspace_size,
        let gemm = t.gemm_s32
    else {
        XCTFail("\(q8PathName(table)): no gemm_s32 entries")
        return (FLOTILLA_Q8_EMPTY, y)
    }
    var packed = [UInt8](repeating: 0, count: packSize(c.K, c.N))
    var workspace = [UInt8](repeating: 0, count: max(1, wsSize(c.M, c.K)))
    let bZero = c.bZero ?? [], aZero = c.aZero ?? []
    let packStatus = bZero.withUnsafeBufferPointer { zb in
        var params = flotilla_q8_gemm_s32_b_params(
            K: c.K, N: c.N, b_type: c.bType, b_zero_point: c.bZero == nil ? nil : zb.baseAddress, per_column: c.bPerColumn)
        return c.b.withUnsafeBytes { b in packed.withUnsafeMutableBytes { pack(&params, b.baseAddress, c.ldb, $0.baseAddress) } }
    }
    if packStatus != FLOTILLA_Q8_OK { return (packStatus, y) }
    let status = aZero.withUnsafeBufferPointer { za in
        var params = flotilla_q8_gemm_s32_a_params(
            a_type: c.aType, a_zero_point: c.aZero == nil ? nil : za.baseAddress, per_row: c.aPerRow)
        return c.a.withUnsafeBytes { a in
            packed.withUnsafeBytes { pk in
                y.withUnsafeMutableBufferPointer { yy in
                    workspace.withUnsafeMutableBytes { ws in
                        gemm(c.M, c.N, c.K, a.baseAddress, c.lda, &params, pk.baseAddress, yy.baseAddress, c.ldy, ws.baseAddress)
                    }
                }
            }
        }
    }
    return (status, y)
}

/// Every optimized gemm_s32 path against the reference and against a Swift statement of ONNX's
/// MatMulInteger arithmetic: int32 outputs must be IDENTICAL, wrap-around included.
final class Q8GemmS32Tests: XCTestCase {
    static let dims = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100]
    static let edges: [UInt8] = [0, 255, 0x80, 0x7F]

    static func typeRange(_ t: flotilla_q8_type) -> ClosedRange<Int32> { t == FLOTILLA_Q8_U8 ? 0...255 : -128...127 }

    static func randomCase(M: Int, N: Int, K: Int, using rng: inout SplitMix64) -> Q8GemmS32Case {
        var c = Q8GemmS32Case(M: M, N: N, K: K)
        c.aType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        c.bType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        c.lda = K + Int.random(in: 0...3, using: &rng)
        c.ldb = N + Int.random(in: 0...3, using: &rng)
        c.ldy = N + Int.random(in: 0...3, using: &rng)
        func bytes(_ n: Int, _ rng: inout SplitMix64) -> [UInt8] {
            let pattern = Int.random(in: 0..<6, using: &rng)
            return (0..<n).map { _ in
                pattern < 4
                    ? edges[pattern] : pattern == 4 ? (edges.randomElement(using: &rng) ?? 0) : UInt8.random(in: 0...255, using: &rng)
            }
        }
        c.a = bytes(M * c.lda, &rng)
        c.b = bytes(K * c.ldb, &rng)
        // Zero points: random, or the type's extremes (the largest |x − z|), per row/column,
        // one for the matrix, or absent.
        func zeros(_ n: Int, _ t: flotilla_q8_type, _ rng: inout SplitMix64) -> [Int32] {
            let r = typeRange(t), extreme = Bool.random(using: &rng)
            return (0..<n).map { _ in
                extreme ? (Bool.random(using: &rng) ? r.lowerBound : r.upperBound) : Int32.random(in: r, using: &rng)
            }
        }
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            c.aZero = zeros(M, c.aType, &rng)
            c.aPerRow = true
            c.bZero = zeros(N, c.bType, &rng)
            c.bPerColumn = true
        case 1:
            c.aZero = zeros(1, c.aType, &rng)
            c.bZero = zeros(1, c.bType, &rng)
        default: break
        }
        return c
    }

    /// ONNX MatMulInteger written out: Σ (a − za)(b − zb) with int32 wrap-around.
    static func expected(_ c: Q8GemmS32Case) -> [Int32] {
        var y = [Int32](repeating: Int32(bitPattern: 0xA5A5_A5A5), count: c.M * c.ldy)
        func value(_ byte: UInt8, _ t: flotilla_q8_type) -> Int32 { t == FLOTILLA_Q8_U8 ? Int32(byte) : Int32(Int8(bitPattern: byte)) }
        for m in 0..<c.M {
            let za = c.aZero.map { c.aPerRow ? $0[m] : $0[0] } ?? 0
            for n in 0..<c.N {
                let zb = c.bZero.map { c.bPerColumn ? $0[n] : $0[0] } ?? 0
                var acc: Int32 = 0
                for k in 0..<c.K {
                    acc &+= (value(c.a[m * c.lda + k], c.aType) - za) * (value(c.b[k * c.ldb + n], c.bType) - zb)
                }
                y[m * c.ldy + n] = acc
            }
        }
        return y
    }

    private func assertIdentical(_ c: Q8GemmS32Case, _ label: String) {
        let want = Self.expected(c)
        for table in runnableQ8Tables() {
            let got = runQ8GemmS32(table, c)
            XCTAssertEqual(got.status, FLOTILLA_Q8_OK, "\(q8PathName(table)) \(label)")
            XCTAssertEqual(got.output, want, "\(q8PathName(table)) \(label)")
        }
    }

    func testRandomShapesAreExact() {
        var rng = SplitMix64(seed: 0x5332_6E6D)
        for M in Self.dims {
            for N in Self.dims {
                let K = Self.dims.randomElement(using: &rng) ?? 1
                let c = Self.randomCase(M: M, N: N, K: K, using: &rng)
                assertIdentical(c, "M=\(M) N=\(N) K=\(K) a=\(c.aType.rawValue) b=\(c.bType.rawValue)")
            }
        }
        for K in Self.dims + [257, 1001] {
            let c = Self.randomCase(M: Int.random(in: 1...9, using: &rng), N: Int.random(in: 1...40, using: &rng), K: K, using: &rng)
            assertIdentical(c, "K sweep M=\(c.M) N=\(c.N) K=\(K)")
        }
    }

    /// Every signedness pair at the extreme zero points, with bytes at the opposite extremes.
    func testSignednessPairsAtExtremes() {
        for aType in [FLOTILLA_Q8_U8, FLOTILLA_Q8_S8] {
            for bType in [FLOTILLA_Q8_U8, FLOTILLA_Q8_S8] {
                for (za, zb) in [
                    (Self.typeRange(aType).lowerBound, Self.typeRange(bType).upperBound),
                    (Self.typeRange(aType).upperBound, Self.typeRange(bType).lowerBound),
                ] {
                    var c = Q8GemmS32Case(M: 5, N: 37, K: 29, aType: aType, bType: bType)
                    c.lda = 29
                    c.ldb = 37
                    c.ldy = 37
                    c.a = (0..<(5 * 29)).map { Self.edges[$0 % 4] }
                    c.b = (0..<(29 * 37)).map { Self.edges[($0 / 3) % 4] }
                    c.aZero = [za]
                    c.bZero = [zb]
                    assertIdentical(c, "a=\(aType.rawValue)/\(za) b=\(bType.rawValue)/\(zb)")
                }
            }
        }
    }

    /// Sums beyond 2³¹ wrap exactly like ONNX's int32 (K = 40000, every product −255²).
    func testSumsWrapAroundLikeInt32() {
        var c = Q8GemmS32Case(M: 2, N: 3, K: 40000)
        c.lda = 40000
        c.ldb = 3
        c.ldy = 3
        c.a = [UInt8](repeating: 255, count: 2 * 40000)
        c.b = [UInt8](repeating: 0, count: 40000 * 3)
        c.bZero = [255]
        let wrapped = Int32(truncatingIfNeeded: Int64(40000) * -65025)
        XCTAssertEqual(Self.expected(c), [Int32](repeating: wrapped, count: 6))
        assertIdentical(c, "wrap")
    }

    func testBadInputIsRefused() {
        let reference = q8Reference()
        var c = Q8GemmS32Case(M: 2, N: 2, K: 2, a: [1, 2, 3, 4], lda: 2, b: [1, 2, 3, 4], ldb: 2, ldy: 2)
        c.bZero = [300]
        XCTAssertEqual(runQ8GemmS32(reference, c).status, FLOTILLA_Q8_BAD_ZERO_POINT)
        c.bZero = nil
        c.aZero = [-1]
        for table in runnableQ8Tables() { XCTAssertEqual(runQ8GemmS32(table, c).status, FLOTILLA_Q8_BAD_ZERO_POINT) }
        c.aZero = nil
        c.K = 0
        XCTAssertEqual(runQ8GemmS32(reference, c).status, FLOTILLA_Q8_EMPTY)
        c.K = 2
        for table in optimizedQ8Tables() {
            XCTAssertEqual(runQ8GemmS32(table, c, packedBy: reference).status, FLOTILLA_Q8_PACK_MISMATCH, q8PathName(table))
        }
    }
}
