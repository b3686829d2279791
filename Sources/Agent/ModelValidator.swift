import Foundation
import ModelArtifact
import ModelIR
import Runtime

/// What the validation bundle measured on this device.
struct ValidationReport: Sendable, Equatable {
    var accuracy: Double?
    var agreement: Double?
    var latencyP50Ms: Double
    var latencyP95Ms: Double
    var latencyP99Ms: Double
    /// Set once a shadow period ended: its top-1 agreement with the serving model (nil: too
    /// few live requests to judge) and how many rows it compared.
    var shadowAgreement: Double?
    var shadowCompared: Int?
    /// The first check that failed: (metric, measured, threshold); nil when all passed.
    var failure: (metric: String, measured: Double, threshold: Double)?

    static func == (a: ValidationReport, b: ValidationReport) -> Bool {
        a.accuracy == b.accuracy && a.agreement == b.agreement && a.latencyP99Ms == b.latencyP99Ms && a.failure?.metric == b.failure?.metric
    }
}

/// Runs a model's validation bundle and checks it against the manifest's expected metrics and
/// the device's thresholds. Top-1 is the argmax of the model's first output (per batch row);
/// labels are int64 class indices; agreement compares with the reference outputs' argmax.
enum ModelValidator {
    /// `faults` (simulation only) perturbs the outputs and stretches each timed run.
    static func run(_ model: LoadedModel, thresholds: ValidationThresholds, faults: ModelFaults = .none) async throws -> ValidationReport {
        guard let bundle = model.artifact.validation, let first = bundle.samples.first else {
            throw AgentError.inferenceFailed(
                detail: "the artifact has no validation bundle; the coordinator must ship one to trial a model")
        }
        let session = model.plan.makeSession()
        let outputName = model.plan.outputs.first?.name ?? ""
        var correct = 0, labelled = 0, agreeing = 0, referenced = 0
        for sample in bundle.samples {
            let outputs = faults.perturb(try session.run(inputs: sample.inputs))
            guard let out = outputs[outputName] else { continue }
            let predicted = argmaxRows(out)
            if let label = sample.label, let labels = label.asInt64s {
                for (row, want) in labels.enumerated() where row < predicted.count {
                    labelled += 1
                    if Int64(predicted[row]) == want { correct += 1 }
                }
            }
            if let reference = sample.referenceOutputs[outputName] {
                let expected = argmaxRows(reference)
                for (p, e) in zip(predicted, expected) {
                    referenced += 1
                    if p == e { agreeing += 1 }
                }
            }
        }
        var latencies: [Double] = []
        for _ in 0..<max(thresholds.latencyRuns, 1) {
            let start = ContinuousClock.now
            _ = try session.run(inputs: first.inputs)
            if let extra = faults.extraDelay(after: ContinuousClock.now - start) { try? await Task.sleep(for: extra) }
            let elapsed = ContinuousClock.now - start
            let (s, atto) = elapsed.components
            latencies.append(Double(s) * 1000 + Double(atto) / 1e15)
        }
        latencies.sort()
        func pct(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int((q * Double(latencies.count)).rounded(.up)) - 1)] }
        var report = ValidationReport(
            accuracy: labelled > 0 ? Double(correct) / Double(labelled) : nil,
            agreement: referenced > 0 ? Double(agreeing) / Double(referenced) : nil,
            latencyP50Ms: pct(0.5), latencyP95Ms: pct(0.95), latencyP99Ms: pct(0.99))
        report.failure = check(
            report, expected: bundle.expectedMetrics, manifest: model.artifact.manifest.expectedMetrics, thresholds: thresholds)
        return report
    }

    /// The first failing gate, in a fixed order: accuracy, agreement, p95 budget, p99 cap.
    static func check(
        _ r: ValidationReport, expected bundle: ExpectedMetrics, manifest: ExpectedMetrics, thresholds: ValidationThresholds
    ) -> (metric: String, measured: Double, threshold: Double)? {
        if let accuracy = r.accuracy, let want = manifest.accuracy ?? bundle.accuracy {
            let floor = want - thresholds.accuracyTolerance
            if accuracy < floor { return ("accuracy", accuracy, floor) }
        }
        if let agreement = r.agreement {
            let floor = (manifest.fp32Agreement ?? bundle.fp32Agreement ?? 1) - thresholds.agreementTolerance
            if agreement < floor { return ("fp32Agreement", agreement, floor) }
        }
        if let budget = manifest.latencyBudgetP95Milliseconds ?? bundle.latencyBudgetP95Milliseconds, r.latencyP95Ms > budget {
            return ("latencyP95Ms", r.latencyP95Ms, budget)
        }
        if let cap = thresholds.maxLatencyP99Ms, r.latencyP99Ms > cap { return ("latencyP99Ms", r.latencyP99Ms, cap) }
        return nil
    }

    /// Argmax per row of a [N, C] (or [C]) float tensor; empty for other types.
    static func argmaxRows(_ t: Tensor) -> [Int] {
        guard let values = t.asDoubles, !values.isEmpty else { return [] }
        let classes = t.shape.last ?? values.count
        guard classes > 0 else { return [] }
        var out: [Int] = []
        var row = 0
        while row * classes < values.count {
            let slice = values[row * classes..<min(values.count, (row + 1) * classes)]
            var best = slice.startIndex
            for i in slice.indices where slice[i] > slice[best] { best = i }
            out.append(best - row * classes)
            row += 1
        }
        return out
    }
}
