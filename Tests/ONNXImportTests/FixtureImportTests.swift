import Foundation
import ModelIR
import ONNXImport
import XCTest

/// Imports every model of the fixtures worker's Tests/Fixtures (made by the Python onnx
/// package and checked against ONNX Runtime) and checks that, with the batch bound to the
/// reference input's size, every output's inferred shape equals ONNX Runtime's output shape.
final class FixtureImportTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    struct Entry: Decodable {
        let name: String
        let model: String
        let opsets: [String: Int]
        let inputs: [String: String]
        let outputs: [String: String]
    }

    struct Manifest: Decodable { let models: [Entry] }

    func manifest() throws -> Manifest {
        let url = Self.fixtures.appendingPathComponent("manifest.json")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("Tests/Fixtures is not present on this branch") }
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url))
    }

    /// The `shape` tuple of a .npy (version 1/2) header.
    func npyShape(_ path: String) throws -> [Int] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(path)).prefix(512)
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) else { throw XCTSkip("\(path) is not .npy") }
        let header = String(decoding: bytes[10...], as: UTF8.self)
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else { return [] }
        return header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    func testEveryFixtureImportsWithReferenceOutputShapes() throws {
        var checked = 0
        for entry in try manifest().models {
            let url = Self.fixtures.appendingPathComponent(entry.model)
            let opset = entry.opsets["ai.onnx"] ?? 0
            if opset < 7 {
                XCTAssertThrowsError(try ONNXImporter.importModel(from: url), entry.name) { e in
                    XCTAssertTrue("\(e)".contains("opset \(opset)"), "\(entry.name): \(e)")
                }
                continue
            }
            if entry.opsets["ai.onnx.ml"] != nil {
                // The MLP's label head uses ai.onnx.ml ArrayFeatureExtractor: imported as an
                // ai.onnx.ml node and shape-inferred like the rest (checked below).
                let m = try ONNXImporter.importModel(from: url)
                XCTAssertTrue(m.graph.nodes.contains { $0.domain == "ai.onnx.ml" && $0.opType == "ArrayFeatureExtractor" }, entry.name)
            }
            let model: Model
            do {
                model = try ONNXImporter.importModel(from: url)
            } catch {
                XCTFail("\(entry.name): \(error)")
                continue
            }
            var bindings: [String: Int] = [:]
            for input in model.graph.inputs {
                guard let path = entry.inputs[input.name], let dims = input.type.shape?.dims else { continue }
                let actual = try npyShape(path)
                for (d, n) in zip(dims, actual) { if let s = d.symbol { bindings[s] = n } }
            }
            let shapes = try model.graph.bindShapes(bindings)
            for (output, path) in entry.outputs {
                XCTAssertEqual(shapes[output], try npyShape(path), "\(entry.name) output \(output)")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 25)
    }

    func testCNNIsFusedByTheStandardPasses() throws {
        _ = try manifest()
        let m = try ONNXImporter.importModel(from: Self.fixtures.appendingPathComponent("digits_cnn.onnx"))
        XCTAssertFalse(m.graph.nodes.contains { $0.opType == "BatchNormalization" })
        XCTAssertTrue(m.graph.nodes.contains { $0.opType == "Conv" && $0.fusedActivation == .relu })
        let mobile = try ONNXImporter.importModel(from: Self.fixtures.appendingPathComponent("mobilenetv2_shaped.onnx"))
        XCTAssertFalse(mobile.graph.nodes.contains { $0.opType == "BatchNormalization" || $0.opType == "Clip" })
        XCTAssertTrue(mobile.graph.nodes.contains { $0.fusedActivation == .clip(min: 0, max: 6) })
    }
}
