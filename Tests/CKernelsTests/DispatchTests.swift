import CKernels
import Foundation
import XCTest

final class DispatchTests: XCTestCase {
    func testNamedTablesFollowCPUFeatures() {
        let features = flotilla_cpu_features_detect()
        XCTAssertEqual(flotilla_f32_kernels_named("reference").map(pathName), "reference")
        XCTAssertNil(flotilla_f32_kernels_named("neon-on-x86-or-typo"))
        XCTAssertEqual(flotilla_f32_kernels_named("avx2") != nil, features.avx2 && features.fma)
        XCTAssertEqual(
            flotilla_f32_kernels_named("avx512") != nil,
            features.avx512f && features.avx512bw && features.avx512vl && features.fma)
    }

    /// Without FLOTILLA_KERNELS the widest runnable path is chosen; with it, the named one.
    func testChosenTableIsWidestOrForced() {
        let chosen = pathName(flotilla_f32_kernels_get())
        if let forced = ProcessInfo.processInfo.environment["FLOTILLA_KERNELS"],
            flotilla_f32_kernels_named(forced) != nil
        {
            XCTAssertEqual(chosen, forced)
        } else {
            XCTAssertEqual(chosen, runnableTables().last.map(pathName))
        }
    }

    /// Every table fills every entry point (a NULL would crash the runtime at plan time).
    func testTablesAreComplete() {
        for table in runnableTables() {
            let t = table.pointee
            XCTAssertTrue(
                t.gemm_pack_a_size != nil && t.gemm_pack_a != nil && t.gemm_packed_a != nil
                    && t.gemm_pack_b_size != nil && t.gemm_pack_b != nil && t.gemm_packed_b != nil
                    && t.gemm_workspace_size != nil && t.gemm != nil && t.im2col != nil
                    && t.dwconv != nil, pathName(table))
            XCTAssertGreaterThan(t.gemm_mr, 0)
            XCTAssertGreaterThan(t.gemm_nr, 0)
        }
    }
}
