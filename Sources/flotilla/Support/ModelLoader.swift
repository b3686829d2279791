import Foundation
import ModelIR
import ONNXImport
import Runtime

/// Loading a model the way every command needs it, with errors that name the file.
enum ModelLoader {
    /// Imports for execution: the standard passes applied, constant folding done by the
    /// runtime's evaluator (it folds every op the runtime runs), and unsupported ops kept as
    /// written so the *runtime* decides whether it can run them — the importer's op table and
    /// the runtime's are not the same (the runtime runs `ai.onnx.ml:ArrayFeatureExtractor`,
    /// which the importer does not know). What the importer did not recognise is returned so
    /// the caller can say so.
    static func importForExecution(_ path: String) throws -> (model: Model, unknownToImporter: [UnsupportedOp]) {
        let url = try existingFile(path)
        var options = ONNXImporter.Options()
        options.allowUnsupported = true
        options.evaluator = RuntimeConstantEvaluator()
        do {
            let result = try ONNXImporter.importModelWithReport(from: url, options: options)
            return (result.model, result.unsupported)
        } catch {
            throw CLIError.wrapping(error, path: path, doing: "cannot import")
        }
    }

    /// Imports without passes, for describing the model as its author wrote it (`inspect`).
    static func importAsWritten(_ url: URL, displayPath: String) throws -> ONNXImporter.Result {
        var options = ONNXImporter.Options()
        options.allowUnsupported = true
        options.applyStandardPasses = false
        do {
            return try ONNXImporter.importModelWithReport(from: url, options: options)
        } catch {
            throw CLIError.wrapping(error, path: displayPath, doing: "cannot import")
        }
    }

    static func existingFile(_ path: String) throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("'\(path)' does not exist; check the path")
        }
        guard !isDirectory.boolValue else { throw CLIError("'\(path)' is a directory; give the path of an .onnx file") }
        return URL(fileURLWithPath: path)
    }

    /// Model inputs a run must supply: graph inputs that are not constants.
    static func runtimeInputs(_ graph: Graph) -> [ValueInfo] {
        graph.inputs.filter { graph.constant($0.name) == nil }
    }

    /// "reference", "auto"/"automatic", or a named path ("avx2", "avx512").
    static func kernelPath(_ name: String) -> KernelPath {
        switch name.lowercased() {
        case "auto", "automatic", "": return .automatic
        case "reference", "ref": return .reference
        default: return .named(name.lowercased())
        }
    }

    /// Plans with the error wrapped so it names the model file. The CLI runs single-threaded
    /// unless a command asks for intra-op threads.
    static func plan(
        _ model: Model, bindings: [String: Int], kernels: KernelPath, path: String, threads: Int = 1, channelsLast: Bool = true
    ) throws -> ExecutionPlan {
        var options = ExecutionPlan.Options(kernels: kernels, threads: threads)
        options.channelsLast = channelsLast
        do {
            return try ExecutionPlan(model: model, bindings: bindings, options: options)
        } catch {
            throw CLIError.wrapping(error, path: path, doing: "cannot plan")
        }
    }

    /// Parses repeated `--bind N=1` options.
    static func parseBindings(_ specs: [String]) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let v = Int(parts[1]), v >= 0 else {
                throw CLIError("--bind '\(spec)' is not SYMBOL=SIZE with a non-negative size (e.g. --bind N=1)")
            }
            if let old = result[parts[0]], old != v {
                throw CLIError("--bind gives \(parts[0]) twice (\(old) and \(v)); give each symbol once")
            }
            result[parts[0]] = v
        }
        return result
    }
}

extension TensorType {
    /// "float32[N, 1, 8, 8]", the form every message uses.
    var userDescription: String { "\(elementType)\(shape?.description ?? "[unknown rank]")" }
}
