import Foundation
import ModelIR
import ONNXImport
import XCTest

/// Imports every model of ONNX's backend node tests (the data the conformance test uses, in
/// `.build/onnx-node-tests` or `$FLOTILLA_ONNX_NODE_TESTS`), independently of the runtime: a
/// registered op must import, upgrade and shape-infer on the real models ONNX tests it with,
/// including ops the runtime does not run yet.
final class NodeTestCorpusImportTests: XCTestCase {
    /// Models that import with no unsupported node on onnx 1.23.2's 1884 (1549 when measured);
    /// a drop means an op that imported before no longer does.
    static let fullyImportedFloor = 1549

    func testEveryNodeTestModelImportsOrNamesWhatIsMissing() throws {
        let env = ProcessInfo.processInfo.environment["FLOTILLA_ONNX_NODE_TESTS"].flatMap { $0.isEmpty ? nil : $0 }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = URL(fileURLWithPath: env ?? root.appendingPathComponent(".build/onnx-node-tests").path).appendingPathComponent("node")
        if (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.isEmpty ?? true {
            try Self.generate(into: dir.deletingLastPathComponent(), root: root)
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path), !names.isEmpty else {
            return XCTFail("scripts/make-onnx-node-tests.py left no models in \(dir.path)")
        }
        var options = ONNXImporter.Options()
        options.allowUnsupported = true
        var imported = 0
        var unsupported: [String: Int] = [:]
        var rejected = 0
        for name in names.sorted() {
            let url = dir.appendingPathComponent(name).appendingPathComponent("model.onnx")
            do {
                let r = try ONNXImporter.importModelWithReport(from: url, options: options)
                for u in r.unsupported { unsupported[u.domain.isEmpty ? u.opType : "\(u.domain):\(u.opType)", default: 0] += 1 }
                guard r.unsupported.isEmpty else { continue }
                imported += 1
                for n in r.model.graph.nodes {
                    for o in n.outputs where !o.isEmpty && r.model.graph.type(of: o) == nil {
                        XCTFail("\(name): output '\(o)' of \(n.opType) node '\(n.name)' has no inferred type")
                    }
                }
            } catch let e as ONNXImportError {
                // Only what Flotilla deliberately does not read: float8/int4/bfloat16 values,
                // sequences/optionals, opset 1. Anything else is an importer or inference bug.
                switch e {
                case .unsupportedValueType, .unsupportedDataType, .unsupportedOpset: rejected += 1
                default: XCTFail("\(name): \(e)")
                }
            }
        }
        print("node-test models: \(names.count), imported with every op registered: \(imported), rejected for types/opset: \(rejected)")
        print(
            "ops without an importer entry: "
                + unsupported.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        XCTAssertGreaterThanOrEqual(imported, Self.fullyImportedFloor)
    }
}

extension NodeTestCorpusImportTests {
    /// Writes the node-test data with the same generator the conformance test runs, so this
    /// test does not depend on running after it; skips only when python3 or onnx is missing.
    static func generate(into dir: URL, root: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("scripts/make-onnx-node-tests.py").path, "--out", dir.path]
        let stderr = Pipe()
        process.standardError = stderr
        do { try process.run() } catch { throw XCTSkip("cannot start python3 (\(error)); install it and scripts/requirements-test.txt") }
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        switch process.terminationStatus {
        case 0: return
        case 127, 3: throw XCTSkip("python3 with the pinned onnx is needed to generate the node tests: \(message)")
        default: XCTFail("scripts/make-onnx-node-tests.py exited with status \(process.terminationStatus):\n\(message)")
        }
    }
}
