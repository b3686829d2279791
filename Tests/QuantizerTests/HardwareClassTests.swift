import Foundation
import Quantizer
import Runtime
import TestSupport
import XCTest

final class HardwareClassTests: XCTestCase {
    func builtIns() throws -> HardwareClassRegistry {
        var r = HardwareClassRegistry()
        try r.loadDirectory(TestPaths.profiles)
        return r
    }

    func testBuiltInProfilesLoad() throws {
        let r = try builtIns()
        XCTAssertEqual(Set(r.classes.map(\.name)), ["x86_64-avx2", "x86_64-avx512-vnni", "arm64-neon", "arm64-dotprod", "mcu-per-tensor"])
        let avx2 = try XCTUnwrap(r.named("x86_64-avx2"))
        XCTAssertEqual(avx2.weightBits, 8)
        XCTAssertEqual(avx2.weightLayout, 3)
        XCTAssertEqual(avx2.activationType, .uint8Asymmetric)
        let mcu = try XCTUnwrap(r.named("mcu-per-tensor"))
        XCTAssertEqual(mcu.weightGranularity, .perTensor)
        XCTAssertEqual(mcu.activationType, .int8Symmetric)
        XCTAssertEqual(mcu.kernelPath, .reference)
        XCTAssertNil(mcu.latencyBudgetMs)
        // Found at run time from the test executable's location (walk up to deploy/).
        let dir = try HardwareClassRegistry.builtInDirectory(environment: [:])
        XCTAssertEqual(dir.standardizedFileURL.path, TestPaths.profiles.standardizedFileURL.path)
        let env = try HardwareClassRegistry.builtInDirectory(environment: [
            HardwareClassRegistry.directoryEnvironmentKey: TestPaths.profiles.path
        ])
        XCTAssertEqual(env.path, TestPaths.profiles.path)
    }

    func testDetectPicksTheFastestClassTheCPUCanRun() throws {
        let r = try builtIns()
        var f = CPUFeatures()
        XCTAssertEqual(try r.detect(features: f, architecture: .x86_64).name, "mcu-per-tensor")
        f.avx2 = true
        f.fma = true
        XCTAssertEqual(try r.detect(features: f, architecture: .x86_64).name, "x86_64-avx2")
        f.avx512f = true
        f.avx512bw = true
        f.avx512vl = true
        XCTAssertEqual(try r.detect(features: f, architecture: .x86_64).name, "x86_64-avx2")
        f.avx512vnni = true
        XCTAssertEqual(try r.detect(features: f, architecture: .x86_64).name, "x86_64-avx512-vnni")
        var a = CPUFeatures()
        a.neon = true
        XCTAssertEqual(try r.detect(features: a, architecture: .arm64).name, "arm64-neon")
        a.dotprod = true
        XCTAssertEqual(try r.detect(features: a, architecture: .arm64).name, "arm64-dotprod")
        print("this machine (\(CPUFeatures.current)): \(try r.detect(features: .current).name)")
        var empty = HardwareClassRegistry()
        try empty.add(try XCTUnwrap(r.named("x86_64-avx2")), source: "t")
        XCTAssertThrowsError(try empty.detect(features: CPUFeatures(), architecture: .x86_64)) { e in
            XCTAssertTrue("\(e)".contains("x86_64-avx2"), "\(e)")
        }
    }

    func profile(_ edit: (inout [String: Any]) -> Void) throws -> Data {
        let base = try Data(contentsOf: TestPaths.profiles.appendingPathComponent("x86_64-avx2.json"))
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: base) as? [String: Any])
        edit(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    func assertRejected(_ edit: (inout [String: Any]) -> Void, key: String, mentions: String, line: UInt = #line) throws {
        XCTAssertThrowsError(try HardwareClass(json: try profile(edit), file: "edited.json"), line: line) { e in
            guard case .invalidProfile(let file, let k, let detail)? = e as? QuantizerError else {
                return XCTFail("unexpected \(e)", line: line)
            }
            XCTAssertEqual(file, "edited.json", line: line)
            XCTAssertEqual(k, key, line: line)
            XCTAssertTrue(detail.contains(mentions), "\(detail)", line: line)
        }
    }

    func testValidationNamesKeyAndProblem() throws {
        XCTAssertNoThrow(try HardwareClass(json: try profile { _ in }))
        try assertRejected({ $0["weightbits"] = 8 }, key: "weightbits", mentions: "unknown key")
        try assertRejected({ $0["weightBits"] = "8" }, key: "weightBits", mentions: "integer")
        try assertRejected({ $0["weightBits"] = true }, key: "weightBits", mentions: "integer")
        try assertRejected({ $0.removeValue(forKey: "kernelPath") }, key: "kernelPath", mentions: "missing")
        try assertRejected({ $0["memoryBudgetBytes"] = -1 }, key: "memoryBudgetBytes", mentions: "positive")
        try assertRejected({ $0["latencyBudgetMs"] = 0 }, key: "latencyBudgetMs", mentions: "positive")
        try assertRejected({ $0["activationType"] = "int8Symmetric" }, key: "activationType", mentions: "u8")
        try assertRejected({ $0["kernelPath"] = "neondot" }, key: "requiredFeatures", mentions: "dotprod")
        try assertRejected({ $0["requiredFeatures"] = ["avx2", "fma", "sse9"] }, key: "requiredFeatures", mentions: "sse9")
        try assertRejected({ $0["weightLayout"] = 4 }, key: "weightLayout", mentions: "layout 3")
        try assertRejected({ $0["int8Ops"] = ["Conv", "LSTM"] }, key: "int8Ops", mentions: "LSTM")
        try assertRejected({ $0["calibrators"] = ["kl"] }, key: "calibrators", mentions: "'kl'")
        try assertRejected({ $0["schema"] = 2 }, key: "schema", mentions: "version 2")
        // 7-bit weights: the AVX2 class may take them (layout 4), the per-tensor reference class not.
        XCTAssertEqual(
            try HardwareClass(
                json: try profile {
                    $0["weightBits"] = 7
                    $0["weightLayout"] = 4
                }
            ).weightQMax, 63)
        try assertRejected(
            {
                $0["weightBits"] = 7
                $0["kernelPath"] = "reference"
                $0["architecture"] = "any"
                $0["requiredFeatures"] = [String]()
                $0["weightGranularity"] = "perTensor"
                $0["weightLayout"] = 1
            }, key: "weightBits", mentions: "only pay off")
    }

    func testUserDirectoryAddsClassesAndRejectsDuplicates() throws {
        let dir = try makeTemporaryDirectory("quantizer-tests")
        defer { try? FileManager.default.removeItem(at: dir) }
        try profile { $0["name"] = "my-board" }.write(to: dir.appendingPathComponent("my-board.json"))
        let r = try HardwareClassRegistry.standard(userDirectories: [dir])
        XCTAssertNotNil(r.named("my-board"))
        XCTAssertEqual(r.classes.count, 6)
        try profile { _ in }.write(to: dir.appendingPathComponent("copy.json"))
        XCTAssertThrowsError(try HardwareClassRegistry.standard(userDirectories: [dir])) { e in
            XCTAssertTrue("\(e)".contains("defined twice"), "\(e)")
        }
    }
}
