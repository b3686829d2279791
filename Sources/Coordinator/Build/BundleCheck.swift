import ModelArtifact
import ModelIR
import Runtime

/// Runs an artifact's validation bundle on this host's runtime the way a device does (the
/// artifact's own model, automatic kernel selection, symbolic sizes from the first sample):
/// top-1 of the scores output against the labels and against the fp32 reference outputs. The
/// scores output is the first float32 output, as the quantizer's evaluator picks it (the
/// agent takes the first output; for models whose first output is a label tensor those differ).
struct BundleCheck {
    var accuracy: Double?
    var agreement: Double?
    var samples: Int

    static func run(_ artifact: Artifact) throws -> BundleCheck {
        guard let bundle = artifact.validation, let first = bundle.samples.first else {
            throw BuildError.invalidRequest(detail: "the artifact has no validation bundle")
        }
        let bindings = bindings(artifact.model.graph, inputs: first.inputs)
        // The artifact's pre-packed weights, as the device hands them to its plan (packed for
        // the class's path; a plan on another path repacks them).
        let plan = try ExecutionPlan(
            model: artifact.model, bindings: bindings, options: .init(packedWeights: artifact.packedWeights, threads: 1))
        let session = plan.makeSession()
        guard let output = artifact.model.graph.outputs.first(where: { $0.type.elementType == .float32 })?.name else {
            throw BuildError.invalidRequest(detail: "the artifact's model has no float32 output holding class scores")
        }
        var correct = 0, labelled = 0, agreeing = 0, referenced = 0
        for sample in bundle.samples {
            guard let out = try session.run(inputs: sample.inputs)[output] else { continue }
            let predicted = argmaxRows(out)
            if let labels = sample.label?.asInt64s {
                for (p, want) in zip(predicted, labels) {
                    labelled += 1
                    if Int64(p) == want { correct += 1 }
                }
            }
            if let reference = sample.referenceOutputs[output] {
                for (p, e) in zip(predicted, argmaxRows(reference)) {
                    referenced += 1
                    if p == e { agreeing += 1 }
                }
            }
        }
        return BundleCheck(
            accuracy: labelled > 0 ? Double(correct) / Double(labelled) : nil,
            agreement: referenced > 0 ? Double(agreeing) / Double(referenced) : nil, samples: bundle.samples.count)
    }

    /// Values for `graph`'s symbolic input dimensions, read from one sample's input shapes.
    static func bindings(_ graph: Graph, inputs: [String: Tensor]) -> [String: Int] {
        var bindings: [String: Int] = [:]
        for input in graph.inputs {
            for (i, d) in (input.type.shape?.dims ?? []).enumerated() {
                if case .symbolic(let name) = d, let shape = inputs[input.name]?.shape, i < shape.count { bindings[name] = shape[i] }
            }
        }
        return bindings
    }

    /// The first expected metric this run falls short of, described; nil when all hold.
    func failure(against e: ExpectedMetrics) -> String? {
        let eps = 1e-9
        if let want = e.accuracy, let got = accuracy, got < want - eps {
            return "accuracy \(percent(got)) < expected \(percent(want))"
        }
        if let want = e.fp32Agreement, let got = agreement, got < want - eps {
            return "fp32 agreement \(percent(got)) < expected \(percent(want))"
        }
        return nil
    }

    /// Argmax per row of a [N, C] (or [C]) tensor.
    static func argmaxRows(_ t: Tensor) -> [Int] {
        guard let values = t.asDoubles, !values.isEmpty else { return [] }
        let classes = Swift.max(t.shape.last ?? values.count, 1)
        return stride(from: 0, to: values.count, by: classes).map { start in
            let row = values[start..<Swift.min(values.count, start + classes)]
            var best = row.startIndex
            for i in row.indices where row[i] > row[best] { best = i }
            return best - start
        }
    }
}
