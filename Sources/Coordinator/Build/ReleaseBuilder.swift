public import Foundation
public import Quantizer
import Zstd

/// Builds a release: one int8 variant per hardware class from one fp32 ONNX model, each tuned to
/// the accuracy budget with that class's arithmetic, evaluated, and (with `ArtifactOptions`)
/// written as a signed device artifact with its validation bundle plus its zstd transport form.
///
/// The model and data are loaded once; calibration statistics are gathered once per graph and
/// shared by every calibrator, trial and class (`CalibrationCache`). A class that fails does not
/// stop the others. `flotilla quantize` and the coordinator both build through this type.
///
/// Blocking and CPU-bound (minutes for a real model): call it from a detached task or a thread
/// of its own, not from an actor's executor.
public struct ReleaseBuilder: Sendable {
    /// Per-class extras the caller adds after quantization (the CLI's QDQ ONNX export): a file it
    /// wrote for the report, and warnings.
    public struct Extras: Sendable {
        public var output: String?
        public var warnings: [String]

        public init(output: String? = nil, warnings: [String] = []) {
            self.output = output
            self.warnings = warnings
        }
    }

    public var request: ReleaseBuildRequest
    public var registry: HardwareClassRegistry

    public init(request: ReleaseBuildRequest, registry: HardwareClassRegistry) {
        self.request = request
        self.registry = registry
    }

    /// The built-in classes plus every profile in `directories` (and `$FLOTILLA_HARDWARE_CLASSES`).
    public static func registry(profileDirectories directories: [URL]) throws -> HardwareClassRegistry {
        do { return try HardwareClassRegistry.standard(userDirectories: directories) } catch {
            throw BuildError.profiles(detail: "\(error)")
        }
    }

    /// The classes the request names, in its order (all of the registry's when it names none).
    public func selectedClasses() throws -> [HardwareClass] {
        guard !request.hardwareClasses.isEmpty else { return registry.classes }
        return try request.hardwareClasses.map { name in
            guard let c = registry.named(name) else { throw BuildError.unknownClass(name: name, known: registry.classes.map(\.name)) }
            return c
        }
    }

    /// Builds every class. Throws `BuildError` only for what stops the whole release (the model,
    /// the data, an unknown class, an unwritable output directory); per-class failures are in the
    /// result.
    public func build(
        progress: (@Sendable (BuildProgress) -> Void)? = nil,
        afterQuantizing: (@Sendable (QuantizedModel, HardwareClass) -> Extras)? = nil
    ) throws -> ReleaseBuildResult {
        try validateRequest()
        let classes = try selectedClasses()
        let n = classes.count
        progress?(BuildProgress(classIndex: 0, classCount: n, hardwareClass: classes.first?.name ?? "", phase: .loading, fraction: 0))
        let inputs = try ReleaseInputs.load(request)
        if let out = request.artifacts?.outputDirectory {
            do { try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true) } catch {
                throw BuildError.output(path: out.path, detail: "\(error)")
            }
        }
        let evaluator = ModelEvaluator(kernels: .reference, compressedSize: { try? Zstd.compress($0).count })
        let cache = CalibrationCache()
        var variants: [VariantResult] = []
        for (i, profile) in classes.enumerated() {
            let report: @Sendable (BuildProgress.Phase, Double, String?) -> Void = { phase, within, detail in
                progress?(
                    BuildProgress(
                        classIndex: i, classCount: n, hardwareClass: profile.name, phase: phase,
                        fraction: (Double(i) + within) / Double(n), detail: detail))
            }
            let job = VariantJob(
                request: request, inputs: inputs, profile: profile, evaluator: evaluator, cache: cache, report: report,
                afterQuantizing: afterQuantizing)
            let result = job.run()
            report(result.succeeded ? .finished : .failed, 1, result.failure)
            variants.append(result)
        }
        let evaluated = variants.compactMap(\.report)
        let summary = QuantizationReport(
            model: inputs.modelPath,
            evaluatedWith: "int8 reference kernels, \(inputs.evaluation.count) labelled samples", classes: evaluated)
        return ReleaseBuildResult(variants: variants, report: summary)
    }

    func validateRequest() throws {
        if request.calibrationBatchSize < 1 { throw BuildError.invalidRequest(detail: "calibration batch size must be at least 1") }
        if request.timeBudgetPerClass <= .zero { throw BuildError.invalidRequest(detail: "the time budget per class must be positive") }
        if let a = request.artifacts {
            if a.validationSamples < 1 { throw BuildError.invalidRequest(detail: "a validation bundle needs at least 1 sample") }
            if a.modelName.isEmpty || a.modelVersion.isEmpty {
                throw BuildError.invalidRequest(detail: "give the release a model name and version")
            }
        }
        for name in request.hardwareClasses where name.contains("/") || name.hasPrefix(".") {
            throw BuildError.invalidRequest(detail: "class name '\(name)' cannot name a file")
        }
    }
}
