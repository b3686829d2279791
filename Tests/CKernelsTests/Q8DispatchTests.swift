import CKernels
import Foundation
import XCTest

final class Q8DispatchTests: XCTestCase {
    func testNamedTablesFollowCPUFeatures() {
        let f = flotilla_cpu_features_detect()
        XCTAssertEqual(flotilla_q8_kernels_named("reference").map(q8PathName), "reference")
        XCTAssertNil(flotilla_q8_kernels_named("avx512"))  // the fp32 name is not an int8 path
        XCTAssertEqual(flotilla_q8_kernels_named("avx2") != nil, f.x86_64 && f.avx2 && f.fma)
        XCTAssertEqual(
            flotilla_q8_kernels_named("avx512vnni") != nil,
            f.x86_64 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.avx2 && f.fma)
        XCTAssertEqual(flotilla_q8_kernels_named("neon") != nil, f.arm64 && f.neon)
        XCTAssertEqual(flotilla_q8_kernels_named("neondot") != nil, f.arm64 && f.neon && f.dotprod)
    }

    /// Without FLOTILLA_KERNELS the widest runnable path is chosen; with it, the named one.
    func testChosenTableIsWidestOrForced() {
        let chosen = q8PathName(flotilla_q8_kernels_get())
        if let forced = ProcessInfo.processInfo.environment["FLOTILLA_KERNELS"],
            flotilla_q8_kernels_named(forced) != nil
        {
            XCTAssertEqual(chosen, forced)
        } else {
            let order: [String] = ["avx512vnni", "avx2", "neondot", "neon"]
            let widest = order.first { name in flotilla_q8_kernels_named(name) != nil }
            XCTAssertEqual(chosen, widest ?? "reference")
        }
    }

    func testTablesAreComplete() {
        for table in runnableQ8Tables() {
            let t = table.pointee
            XCTAssertTrue(
                t.gemm_pack_size != nil && t.gemm_pack != nil && t.gemm_workspace_size != nil
                    && t.gemm != nil && t.im2col != nil && t.dwconv != nil && t.add != nil
                    && t.mul != nil && t.rescale != nil && t.lut != nil && t.flip_sign != nil
                    && t.avgpool != nil && t.gemm_s32_pack_size != nil && t.gemm_s32_pack != nil
                    && t.gemm_s32_workspace_size != nil && t.gemm_s32 != nil && t.maxpool != nil, q8PathName(table))
        }
    }
}
