import Foundation
import ModelIR
import ONNXImport
import Quantizer
import Runtime

/// The digits fixtures as the pipeline tests use them: the CNN after the standard passes, its
/// calibration split streamed in batches, the labelled test split, the built-in classes.
enum Digits {
    static func model(_ file: String = "digits_cnn.onnx") throws -> Model {
        try ONNXImporter.importModel(from: TestPaths.fixtures.appendingPathComponent(file))
    }

    static func calibration(_ file: String = "calibration_x.npy", batch: Int = 100) throws -> CalibrationData {
        try CalibrationData(url: TestPaths.fixtures.appendingPathComponent("digits/\(file)"), inputNames: ["input"], batchSize: batch)
    }

    static func testSet(_ file: String = "test_x.npy") throws -> EvaluationSet {
        let x = try NPYFile.read(TestPaths.fixtures.appendingPathComponent("digits/\(file)"))
        let y = try NPYFile.read(TestPaths.fixtures.appendingPathComponent("digits/test_y.npy"))
        return try EvaluationSet(inputs: ["input": x], labels: y)
    }

    static func builtInClasses() throws -> [HardwareClass] {
        var r = HardwareClassRegistry()
        for file in try FileManager.default.contentsOfDirectory(atPath: TestPaths.profiles.path).sorted() where file.hasSuffix(".json") {
            let url = TestPaths.profiles.appendingPathComponent(file)
            try r.add(HardwareClass(json: Data(contentsOf: url), file: url.path), source: url.path)
        }
        return r.classes
    }
}
