import FleetProtocol
import Foundation
import ModelArtifact
import Quantizer
import Runtime

/// Writes one class's artifact: validation bundle from the evaluation subset with the metrics
/// measured on exactly those samples, manifest, signature, transport form; then reads the file
/// back as a device would and runs its bundle on the runtime before handing it out.
struct VariantPackager {
    var options: ArtifactOptions
    var inputs: ReleaseInputs
    var profile: HardwareClass
    var budget: AccuracyBudget
    var evaluator: ModelEvaluator
    var report: @Sendable (BuildProgress.Phase, Double, String?) -> Void

    func package(_ outcome: AccuracyTuner.Outcome, entry: QuantizationReport.ClassReport) throws -> BuiltVariant {
        report(.packaging, 0.8, "validation bundle (\(options.validationSamples) samples)")
        let subset = try ValidationSubset(from: inputs.evaluation, model: inputs.model, count: options.validationSamples)
        let fp32Outputs = try evaluator.run(inputs.model.graph, inputs: subset.evaluation.inputs)
        let reference = try evaluator.reference(inputs.model, data: subset.evaluation)
        let measured = try evaluator.quickEvaluate(outcome.model, reference: reference, data: subset.evaluation)
        let expected = expectedMetrics(measured)
        let bundle = ValidationBundle(samples: try subset.samples(fp32Outputs: fp32Outputs), expectedMetrics: expected)
        var labels = options.labels
        labels["calibrator"] = outcome.model.calibrator.rawValue
        if !outcome.model.recipesApplied.isEmpty { labels["recipes"] = outcome.model.recipesApplied.joined(separator: ",") }
        if !outcome.budgetMet { labels["budget"] = "missed" }
        let manifest = ArtifactManifest(
            modelName: options.modelName, modelVersion: options.modelVersion, releaseSequence: options.releaseSequence,
            hardwareClass: profile.name, createdBy: options.createdBy, expectedMetrics: expected, labels: labels)

        report(.writing, 0.9, nil)
        let artifactURL = options.outputDirectory.appendingPathComponent("\(profile.name).flotilla")
        let transportURL = options.outputDirectory.appendingPathComponent("\(profile.name).flotilla.zst")
        // int8 GEMM weights are packed for the class's int8 path and fp32 Gemm/MatMul weights
        // left in the model for the fp32 path its devices plan with, so a device's plan reads
        // them from the mapped artifact (another path repacks them exactly).
        let (q8Model, q8Packed) = try Q8GemmPrepack.pack(
            outcome.model.model, path: profile.kernelPath.rawValue,
            bindings: BundleCheck.bindings(outcome.model.model.graph, inputs: bundle.samples.first?.inputs ?? [:]))
        let (model, f32Packed) = try F32GemmPrepack.pack(
            q8Model, path: F32GemmPrepack.f32Path(forInt8Path: profile.kernelPath.rawValue))
        let packedWeights = q8Packed.merging(f32Packed, uniquingKeysWith: { a, _ in a })
        try ArtifactWriter(signingKey: options.signingKey).write(
            model: model, manifest: manifest, validation: bundle, packedWeights: packedWeights, to: artifactURL)
        let digests = try ArtifactTransport.compress(fileAt: artifactURL, to: transportURL)

        report(.verifying, 0.95, nil)
        let artifact = try ArtifactReader.open(artifactURL, trust: .pinnedKeys([options.signingKey.publicKey]))
        let check = try BundleCheck.run(artifact)
        if let failure = check.failure(against: expected) {
            throw BuildError.variant(
                hardwareClass: profile.name,
                detail: "the written artifact fails its own validation bundle on this host's runtime (\(failure)); not publishing it")
        }

        let one = QuantizationReport(
            model: inputs.modelPath, evaluatedWith: "int8 reference kernels, \(inputs.evaluation.count) labelled samples",
            classes: [entry])
        var metrics = expected.values
        let r = outcome.result
        metrics["eval_samples"] = Double(r.samples)
        metrics["eval_fp32_accuracy"] = r.fp32Accuracy
        metrics["eval_int8_accuracy"] = r.int8Accuracy
        metrics["eval_drop_points"] = r.dropPoints
        metrics["eval_agreement"] = r.agreement
        metrics["eval_mean_cosine"] = r.meanCosine
        metrics["validation_samples"] = Double(subset.sampleCount)
        return BuiltVariant(
            hardwareClass: profile.name, artifactDigest: digests.uncompressedSHA256, artifactPath: artifactURL,
            transportPath: transportURL, transport: TransportDigests(digests), signingKeyID: options.signingKey.keyID,
            budgetMet: outcome.budgetMet, reportJSON: try one.json(), reportText: one.table(), metrics: metrics)
    }

    /// What devices must reach on the bundle: the int8 figures measured on these samples (the
    /// device's kernels are bit-exact with the reference ones, so it should reproduce them
    /// exactly; its own tolerance absorbs nothing else), the fp32 baseline, the class's latency
    /// budget and the accuracy budget as the largest tolerated drop.
    func expectedMetrics(_ m: EvaluationResult) -> ExpectedMetrics {
        var e = ExpectedMetrics()
        e.accuracy = m.int8Accuracy
        e.fp32Agreement = m.agreement
        e.fp32Accuracy = m.fp32Accuracy
        if let d = budget.maxDropPoints { e.maxAccuracyDrop = d / 100 }
        if let ms = profile.latencyBudgetMs { e.latencyBudgetP95Milliseconds = ms }
        return e
    }
}
