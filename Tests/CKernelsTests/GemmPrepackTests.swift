import CKernels
import TestSupport
import XCTest

/// `flotilla_f32_gemm_pack_b_nr` must write exactly what each path's own `gemm_pack_b` writes
/// (an artifact packed on one host is read by another's kernels), and unpacking must give op(B)
/// back bit for bit.
final class GemmPrepackTests: XCTestCase {
    func testPackForANamedPathMatchesThatPathsOwnPacker() {
        var rng = SplitMix64(seed: 0x9ACC)
        let tables = runnableTables()
        XCTAssertGreaterThan(tables.count, 1, "only the reference path runs here; the optimized layouts are unchecked")
        for table in tables {
            let name = pathName(table)
            var nr = 99
            XCTAssertTrue(flotilla_f32_gemm_pack_b_layout_named(name, &nr), name)
            XCTAssertEqual(nr, name == "reference" ? 0 : table.pointee.gemm_nr, name)
            for (n, k) in [(1, 1), (3, 5), (15, 7), (16, 16), (17, 3), (31, 64), (33, 2), (100, 9)] {
                for transB in [false, true] {
                    let pad = Int.random(in: 0...2, using: &rng)
                    let ldb = (transB ? k : n) + pad
                    let b = rng.floats((transB ? n : k) * ldb)
                    let size = table.pointee.gemm_pack_b_size(n, k)
                    XCTAssertEqual(flotilla_f32_gemm_pack_b_size_nr(n, k, nr), size, "\(name) N=\(n) K=\(k)")
                    var own = [Float](repeating: .nan, count: size), ours = [Float](repeating: .nan, count: size)
                    own.withUnsafeMutableBufferPointer { o in
                        b.withUnsafeBufferPointer { table.pointee.gemm_pack_b(n, k, $0.baseAddress, ldb, transB, o.baseAddress) }
                    }
                    ours.withUnsafeMutableBufferPointer { o in
                        b.withUnsafeBufferPointer { flotilla_f32_gemm_pack_b_nr(n, k, $0.baseAddress, ldb, transB, nr, o.baseAddress) }
                    }
                    XCTAssertEqual(own.map(\.bitPattern), ours.map(\.bitPattern), "\(name) N=\(n) K=\(k) transB=\(transB)")

                    var back = [Float](repeating: .nan, count: k * n)
                    back.withUnsafeMutableBufferPointer { o in
                        ours.withUnsafeBufferPointer { flotilla_f32_gemm_unpack_b_nr(n, k, $0.baseAddress, nr, o.baseAddress) }
                    }
                    for kk in 0..<k {
                        for nn in 0..<n {
                            let want = transB ? b[nn * ldb + kk] : b[kk * ldb + nn]
                            XCTAssertEqual(back[kk * n + nn].bitPattern, want.bitPattern, "\(name) unpack (\(kk), \(nn))")
                        }
                    }
                }
            }
        }
    }

    func testUnknownPathHasNoLayout() {
        var nr = 7
        XCTAssertFalse(flotilla_f32_gemm_pack_b_layout_named("neon", &nr))
        XCTAssertFalse(flotilla_f32_gemm_pack_b_layout_named(nil, &nr))
        XCTAssertEqual(nr, 7)
    }
}
