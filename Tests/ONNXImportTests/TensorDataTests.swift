import Foundation
import ModelIR
import ONNXImport
import ONNXProto
import XCTest

/// Initializer decoding: raw_data, typed fields, float16, external data files.
final class TensorDataTests: XCTestCase {
    typealias P = Proto

    func model(_ initializer: Onnx_TensorProto) -> Onnx_ModelProto {
        P.model(
            P.graph(
                [P.node("Add", ["x", initializer.name], ["y"])], inputs: [P.value("x", 1, nil)], outputs: [P.value("y", 1, nil)],
                initializers: [initializer]))
    }

    func testTypedFieldsAndFloat16() throws {
        var f = Onnx_TensorProto()
        f.name = "w"
        f.dataType = 1
        f.dims = [2]
        f.floatData = [1.5, -2]
        XCTAssertEqual(try importRaw(model(f)).graph.initializers["w"]?.floats, [1.5, -2])

        var h = Onnx_TensorProto()
        h.name = "w"
        h.dataType = 10
        h.dims = [3]
        h.rawData = Data([0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B])  // 1, -2, 65504
        let t = try XCTUnwrap(try importRaw(model(h)).graph.initializers["w"])
        XCTAssertEqual(t.elementType, .float32)
        XCTAssertEqual(t.floats, [1, -2, 65504])
        h.clearRawData()
        h.int32Data = [0x3C00, 0xC000, 0x7BFF]
        XCTAssertEqual(try importRaw(model(h)).graph.initializers["w"]?.floats, [1, -2, 65504])

        var i8 = Onnx_TensorProto()
        i8.name = "w"
        i8.dataType = 3
        i8.dims = [2]
        i8.int32Data = [-5, 7]
        XCTAssertEqual(try importRaw(model(i8)).graph.initializers["w"]?.int8s, [-5, 7])
    }

    func externalModel(location: String, offset: Int = 0, length: Int? = 8) -> Onnx_ModelProto {
        var t = Onnx_TensorProto()
        t.name = "w"
        t.dataType = 1
        t.dims = [2]
        t.dataLocation = .external
        var entries = [("location", location), ("offset", "\(offset)")]
        if let length { entries.append(("length", "\(length)")) }
        t.externalData = entries.map { k, v in
            var e = Onnx_StringStringEntryProto()
            e.key = k
            e.value = v
            return e
        }
        return model(t)
    }

    func withModelDirectory(_ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-ext-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let floats: [Float] = [9, 3.5, -1, 42]
        try Data(floats.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }).write(
            to: dir.appendingPathComponent("weights.bin"))
        try body(dir)
    }

    func write(_ m: Onnx_ModelProto, to dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("model.onnx")
        try Data(try P.bytes(m)).write(to: url)
        return url
    }

    func testExternalDataIsReadRelativeToTheModel() throws {
        try withModelDirectory { dir in
            var o = ONNXImporter.Options()
            o.applyStandardPasses = false
            let m = try ONNXImporter.importModel(from: try write(externalModel(location: "weights.bin", offset: 8), to: dir), options: o)
            XCTAssertEqual(m.graph.initializers["w"]?.floats, [-1, 42])
        }
    }

    func testExternalDataErrors() throws {
        try withModelDirectory { dir in
            let cases: [(Onnx_ModelProto, String)] = [
                (externalModel(location: "missing.bin"), "does not exist"),
                (externalModel(location: "weights.bin", offset: 12), "beyond the end"),
                (externalModel(location: "weights.bin", length: 4), "does not match"),
                (externalModel(location: "../weights.bin"), "inside the model's directory"),
                (externalModel(location: "/etc/passwd"), "inside the model's directory"),
                (externalModel(location: "weights.bin", offset: -1), "offset"),
            ]
            for (m, message) in cases {
                XCTAssertThrowsError(try ONNXImporter.importModel(from: try write(m, to: dir))) { e in
                    XCTAssertTrue("\(e)".contains(message) && "\(e)".contains("'w'"), "\(e)")
                }
            }
            // A symlink pointing out of the directory is caught after resolution.
            try FileManager.default.createSymbolicLink(
                atPath: dir.appendingPathComponent("link.bin").path, withDestinationPath: "/etc/hostname")
            XCTAssertThrowsError(try ONNXImporter.importModel(from: try write(externalModel(location: "link.bin"), to: dir))) { e in
                XCTAssertTrue("\(e)".contains("outside the model's directory"), "\(e)")
            }
        }
        XCTAssertThrowsError(try importRaw(externalModel(location: "weights.bin"))) { e in
            XCTAssertTrue("\(e)".contains("from bytes"), "\(e)")
        }
    }
}
