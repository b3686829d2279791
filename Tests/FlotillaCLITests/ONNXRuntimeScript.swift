import Foundation
import TestSupport
import XCTest

/// Runs `scripts/ort-run.py`: ONNX Runtime on .npy inputs, every output written as .npy plus
/// `steps.json` (per output, the quantization step it is compared with; null for non-float
/// outputs). Missing python3 or packages skip the calling test with the install command;
/// ONNX Runtime refusing a model fails it (that is an exporter bug).
enum ONNXRuntimeScript {
    static let script = CLI.packageRoot.appendingPathComponent("scripts/ort-run.py")

    /// One python process for every model: importing onnxruntime costs more than running
    /// these models.
    static func run(inputs: [String: URL], models: [(model: URL, outputDirectory: URL)], optimization: String = "all") throws {
        let scratch = try makeTemporaryDirectory("flotilla-cli-test")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var args = ["python3", script.path, "--optimization", optimization]
        for (name, file) in inputs.sorted(by: { $0.key < $1.key }) { args += ["--input", "\(name)=\(file.path)"] }
        for m in models { args += ["--run", "\(m.model.path)=\(m.outputDirectory.path)"] }
        process.arguments = args
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        do { try process.run() } catch {
            throw XCTSkip(
                "cannot start python3 (\(error)); the ONNX Runtime cross-check needs python3 -m pip install -r scripts/requirements-test.txt"
            )
        }
        process.waitUntilExit()
        let message = String(decoding: try Data(contentsOf: err), as: UTF8.self)
        switch process.terminationStatus {
        case 0: return
        case 127: throw XCTSkip("python3 is not installed; the ONNX Runtime cross-check needs it with scripts/requirements-test.txt")
        case 3: throw XCTSkip("python3 lacks numpy/onnx/onnxruntime: \(message)")
        default:
            XCTFail("scripts/ort-run.py exited with \(process.terminationStatus): \(message)")
            throw ScriptFailed()
        }
    }

    struct ScriptFailed: Error {}

    /// `steps.json` of one run: output name → step (nil: compare exactly).
    static func steps(in directory: URL) throws -> [String: Double?] {
        let data = try Data(contentsOf: directory.appendingPathComponent("steps.json"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "steps.json is not an object")
        return object.mapValues { $0 as? Double }
    }
}
