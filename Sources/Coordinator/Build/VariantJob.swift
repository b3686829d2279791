import Foundation
import ModelArtifact
import Quantizer

/// One class of a release build: tune, report, and (with artifact options) package.
struct VariantJob {
    var request: ReleaseBuildRequest
    var inputs: ReleaseInputs
    var profile: HardwareClass
    var evaluator: ModelEvaluator
    var cache: CalibrationCache
    /// Phase, fraction of this class done, detail.
    var report: @Sendable (BuildProgress.Phase, Double, String?) -> Void
    var afterQuantizing: (@Sendable (QuantizedModel, HardwareClass) -> ReleaseBuilder.Extras)?

    func run() -> VariantResult {
        var result = VariantResult(hardwareClass: profile.name)
        report(.quantizing, 0, "tuning (budget \(request.budget))")
        let outcome: AccuracyTuner.Outcome
        do {
            outcome = try quantize()
        } catch {
            result.failure = "quantization failed: \(error)"
            return result
        }
        var entry = QuantizationReport.ClassReport(outcome: outcome, budget: request.budget)
        if let extras = afterQuantizing?(outcome.model, profile) {
            entry.output = extras.output
            entry.warnings += extras.warnings
        }
        result.report = entry
        guard let options = request.artifacts else {
            if !outcome.budgetMet { result.failure = missedBudget(outcome) }
            return result
        }
        if !outcome.budgetMet && options.requireBudget {
            result.failure = missedBudget(outcome) + "; no artifact written (the build requires the budget)"
            return result
        }
        do {
            let packager = VariantPackager(
                options: options, inputs: inputs, profile: profile, budget: request.budget, evaluator: evaluator, report: report)
            result.artifact = try packager.package(outcome, entry: entry)
        } catch {
            result.failure = "packaging failed: \(error)"
        }
        return result
    }

    func quantize() throws -> AccuracyTuner.Outcome {
        let timeBudget = request.timeBudgetPerClass
        let report = self.report
        let tuner = AccuracyTuner(
            profile: profile, budget: request.budget, timeBudget: timeBudget, evaluator: evaluator,
            progress: { report(.quantizing, 0.4, $0) }, calibrationCache: cache)
        if let calibration = inputs.calibration {
            return try tuner.tune(inputs.model, calibration: calibration, evaluation: inputs.evaluation)
        }
        report(.quantizing, 0.1, "no calibration data: dynamic quantization of MatMul/Gemm (no tuning)")
        return try tuner.tuneDynamic(inputs.model, evaluation: inputs.evaluation)
    }

    func missedBudget(_ o: AccuracyTuner.Outcome) -> String {
        let r = o.result
        return "budget missed (\(request.budget)): int8 top-1 \(percent(r.int8Accuracy)) vs fp32 \(percent(r.fp32Accuracy)), "
            + "drop \(String(format: "%.2f", r.dropPoints)) pt, agreement \(percent(r.agreement))"
            + (o.stoppedByTime ? ", tuning stopped by the time budget" : "")
    }
}

func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
