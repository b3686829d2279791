import ModelArtifact
import ModelIR
import Quantizer

/// The evaluation samples a validation bundle carries: `count` samples picked at evenly spaced
/// positions across the whole evaluation set (deterministic, and not biased to the set's first
/// classes when it is sorted by label). A sample is one row, or the model's fixed batch when its
/// inputs declare one (a device plans the model once, for the first sample's shapes).
struct ValidationSubset {
    /// Concatenated inputs and labels of the chosen samples, for measuring the expected metrics.
    var evaluation: EvaluationSet
    var rowsPerSample: Int
    var sampleCount: Int

    init(from set: EvaluationSet, model: Model, count: Int) throws {
        let fixed = Set(model.graph.inputs.compactMap { set.inputs[$0.name] == nil ? nil : $0.type.shape?.dims.first?.value })
        let rows = fixed.count == 1 ? (fixed.first ?? 1) : 1
        guard rows > 0, set.count >= rows else {
            throw BuildError.invalidRequest(detail: "the model takes batches of \(rows) but there are only \(set.count) evaluation samples")
        }
        let groups = set.count / rows
        let n = Swift.max(1, Swift.min(count, groups))
        let starts = (0..<n).map { ($0 * groups / n) * rows }
        var inputs: [String: Tensor] = [:]
        for (name, t) in set.inputs {
            inputs[name] = try TensorRows.concatenate(starts.map { try TensorRows.slice(t, $0..<($0 + rows)) })
        }
        let labels = starts.flatMap { set.labels[$0..<($0 + rows)] }
        evaluation = try EvaluationSet(inputs: inputs, labels: labels)
        rowsPerSample = rows
        sampleCount = n
    }

    /// The bundle's samples: inputs, labels and the fp32 model's outputs, sample by sample.
    /// `fp32Outputs` are the fp32 model's outputs on `evaluation` (all samples at once); an
    /// output whose axis 0 is not the sample axis is left out of the references.
    func samples(fp32Outputs: [String: Tensor]) throws -> [ValidationSample] {
        let total = sampleCount * rowsPerSample
        var result: [ValidationSample] = []
        for i in 0..<sampleCount {
            let r = (i * rowsPerSample)..<((i + 1) * rowsPerSample)
            var inputs: [String: Tensor] = [:]
            for (name, t) in evaluation.inputs { inputs[name] = try TensorRows.slice(t, r) }
            var references: [String: Tensor] = [:]
            for (name, t) in fp32Outputs where t.rank > 0 && t.shape[0] == total && t.elementType != .string {
                references[name] = try TensorRows.slice(t, r)
            }
            let label = try Tensor(int64s: Array(evaluation.labels[r]), shape: [rowsPerSample])
            result.append(ValidationSample(inputs: inputs, label: label, referenceOutputs: references))
        }
        return result
    }
}

/// Row (axis 0) slicing and concatenation of dense tensors.
enum TensorRows {
    static func slice(_ t: Tensor, _ r: Range<Int>) throws -> Tensor {
        guard t.rank > 0, t.shape[0] > 0, r.lowerBound >= 0, r.upperBound <= t.shape[0] else {
            throw BuildError.invalidRequest(detail: "rows \(r) of a tensor of shape \(t.shape)")
        }
        let rowBytes = t.byteCount / t.shape[0]
        let bytes = t.withUnsafeBytes { Array($0[(r.lowerBound * rowBytes)..<(r.upperBound * rowBytes)]) }
        return try Tensor(elementType: t.elementType, shape: [r.count] + t.shape.dropFirst(), bytes: bytes)
    }

    static func concatenate(_ parts: [Tensor]) throws -> Tensor {
        guard let first = parts.first else { throw BuildError.invalidRequest(detail: "no rows to concatenate") }
        var bytes: [UInt8] = []
        for p in parts { p.withUnsafeBytes { bytes.append(contentsOf: $0) } }
        return try Tensor(
            elementType: first.elementType, shape: [parts.map { $0.shape[0] }.reduce(0, +)] + first.shape.dropFirst(), bytes: bytes)
    }
}
