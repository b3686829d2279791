import Foundation
import XCTest

/// Finds (and if needed generates) the node-test data: `$FLOTILLA_ONNX_NODE_TESTS`, else
/// `.build/onnx-node-tests` under the package root, written by
/// scripts/make-onnx-node-tests.py.
enum NodeTestData {
    static let onnxVersion = "1.23.2"

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The data directory with a current index.json; throws XCTSkip only when python3 or the
    /// onnx package is missing, and a failure for anything else.
    static func locate() throws -> URL {
        let env = ProcessInfo.processInfo.environment["FLOTILLA_ONNX_NODE_TESTS"].flatMap { $0.isEmpty ? nil : $0 }
        let dir = env.map { URL(fileURLWithPath: $0) } ?? packageRoot.appendingPathComponent(".build/onnx-node-tests")
        let index = dir.appendingPathComponent("index.json")
        if let data = try? Data(contentsOf: index),
            let head = try? JSONDecoder().decode(VersionOnly.self, from: data), head.onnxVersion == onnxVersion
        {
            return dir
        }
        try generate(into: dir)
        return dir
    }

    private struct VersionOnly: Decodable {
        var onnxVersion: String
        enum CodingKeys: String, CodingKey { case onnxVersion = "onnx_version" }
    }

    /// Runs the generator with python3; its exit codes say what is missing.
    private static func generate(into dir: URL) throws {
        let script = packageRoot.appendingPathComponent("scripts/make-onnx-node-tests.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--out", dir.path]
        let stderr = Pipe()
        process.standardError = stderr
        print("conformance: generating ONNX node tests into \(dir.path) (python3 \(script.lastPathComponent))")
        do {
            try process.run()
        } catch {
            throw XCTSkip(
                "cannot start python3 (\(error)); install it and the pinned onnx to run the conformance test: "
                    + "python3 -m pip install -r scripts/requirements-test.txt")
        }
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        switch process.terminationStatus {
        case 0: return
        case 127: throw XCTSkip("python3 is not installed; the conformance test needs python3 with onnx==\(onnxVersion)")
        case 3: throw XCTSkip("python3 lacks the onnx (or numpy) package, so the node tests cannot be generated: \(message)")
        default:
            throw ConformanceError.generator(
                "scripts/make-onnx-node-tests.py exited with status \(process.terminationStatus):\n\(message)")
        }
    }
}
