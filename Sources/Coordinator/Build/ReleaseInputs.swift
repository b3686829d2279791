import Foundation
import ModelIR
import ONNXImport
import Quantizer
import Runtime

/// Everything a build reads, loaded once for all classes: the fp32 model imported (standard
/// passes, constants folded by the runtime's evaluator), the calibration stream, and the
/// labelled evaluation set. Errors name the file and say what to fix.
struct ReleaseInputs: Sendable {
    var modelPath: String
    var model: Model
    /// Graph inputs a run must supply (inputs that are not constants).
    var inputNames: [String]
    var calibration: CalibrationData?
    var evaluation: EvaluationSet

    static func load(_ request: ReleaseBuildRequest) throws -> ReleaseInputs {
        let path = request.model.path
        try requireFile(request.model, kind: .model)
        var options = ONNXImporter.Options()
        // Unknown ops stay as written so the runtime, which runs a few ops the importer does not
        // know, decides; the plan check below turns a real gap into a clear error.
        options.allowUnsupported = true
        options.evaluator = RuntimeConstantEvaluator()
        let model: Model
        do {
            model = try ONNXImporter.importModelWithReport(from: request.model, options: options).model
        } catch {
            throw BuildError.model(path: path, detail: "cannot import it as ONNX (\(error)); check that it is an ONNX model file")
        }
        let inputs = model.graph.inputs.filter { model.graph.constant($0.name) == nil }.map(\.name)
        var calibration: CalibrationData?
        if let url = request.calibration {
            do {
                calibration = try CalibrationData(url: url, inputNames: inputs, batchSize: request.calibrationBatchSize)
            } catch {
                throw BuildError.data(path: url.path, detail: "cannot read calibration data: \(error)")
            }
        }
        let evaluation = try loadEvaluation(request, inputs: inputs)
        return ReleaseInputs(modelPath: path, model: model, inputNames: inputs, calibration: calibration, evaluation: evaluation)
    }

    enum FileKind { case model, data }

    static func requireFile(_ url: URL, kind: FileKind) throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let problem =
            !exists ? "does not exist; check the path" : isDirectory.boolValue ? "is a directory; give the file" : nil
        guard let problem else { return }
        switch kind {
        case .model: throw BuildError.model(path: url.path, detail: problem)
        case .data: throw BuildError.data(path: url.path, detail: problem)
        }
    }

    static func loadEvaluation(_ request: ReleaseBuildRequest, inputs: [String]) throws -> EvaluationSet {
        let url = request.evaluation
        try requireFile(url, kind: .data)
        try requireFile(request.labels, kind: .data)
        var tensors: [String: Tensor]
        do {
            if url.pathExtension == "npz" {
                tensors = try NPZFile.read(url).filter { inputs.contains($0.key) }
            } else {
                guard inputs.count == 1, let name = inputs.first else {
                    throw BuildError.data(
                        path: url.path, detail: "the model has \(inputs.count) inputs \(inputs); give an .npz with one array per input")
                }
                tensors = [name: try NPYFile.read(url)]
            }
        } catch let e as BuildError {
            throw e
        } catch {
            throw BuildError.data(path: url.path, detail: "cannot read evaluation data: \(error)")
        }
        if let missing = inputs.first(where: { tensors[$0] == nil }) {
            throw BuildError.data(path: url.path, detail: "no array for model input '\(missing)'; name .npz members after the inputs")
        }
        let labels: Tensor
        do { labels = try NPYFile.read(request.labels) } catch {
            throw BuildError.data(path: request.labels.path, detail: "cannot read labels: \(error)")
        }
        do {
            return try EvaluationSet(inputs: tensors, labels: labels)
        } catch {
            throw BuildError.data(path: url.path, detail: "evaluation data and labels '\(request.labels.path)' do not fit: \(error)")
        }
    }
}
