import Foundation
import Runtime
import XCTest

final class CPUFeaturesTests: XCTestCase {
    /// The C detection must agree with what the Linux kernel reports in /proc/cpuinfo.
    func testDetectionMatchesProcCPUInfo() throws {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            throw XCTSkip("no /proc/cpuinfo on this system")
        }
        let flagsLine = text.split(separator: "\n").first {
            $0.hasPrefix("flags") || $0.hasPrefix("Features")
        }
        let flags = Set((flagsLine ?? "").split(separator: ":").last?.split(separator: " ").map(String.init) ?? [])
        let f = CPUFeatures.current
        #if arch(x86_64)
            XCTAssertEqual(f.avx2, flags.contains("avx2"))
            XCTAssertEqual(f.fma, flags.contains("fma"))
            XCTAssertEqual(f.avx512f, flags.contains("avx512f"))
            XCTAssertEqual(f.avx512bw, flags.contains("avx512bw"))
            XCTAssertEqual(f.avx512vnni, flags.contains("avx512_vnni"))
            XCTAssertFalse(f.neon)
        #elseif arch(arm64)
            XCTAssertEqual(f.neon, flags.contains("asimd"))
            XCTAssertEqual(f.dotprod, flags.contains("asimddp"))
        #endif
    }
}
