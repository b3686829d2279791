public import ModelIR

/// Labelled samples for evaluation: every input tensor holds all samples along axis 0, and
/// `labels` one class index per sample.
public struct EvaluationSet: Sendable {
    public var inputs: [String: Tensor]
    public var labels: [Int64]

    public init(inputs: [String: Tensor], labels: [Int64]) throws {
        guard !labels.isEmpty else {
            throw QuantizerError.calibrationData(path: "<eval>", detail: "no labels; give at least one labelled sample")
        }
        for (name, t) in inputs where t.rank == 0 || t.shape[0] != labels.count {
            throw QuantizerError.calibrationData(
                path: name, detail: "has shape \(t.shape) but there are \(labels.count) labels; axis 0 must be the sample axis")
        }
        self.inputs = inputs
        self.labels = labels
    }

    /// `labels` from an integer (or float, holding integers) tensor.
    public init(inputs: [String: Tensor], labels: Tensor) throws {
        guard let l = labels.asInt64s ?? labels.floats?.map({ Int64($0.rounded()) }) else {
            throw QuantizerError.calibrationData(path: "<labels>", detail: "labels are \(labels.elementType); give integer class indices")
        }
        try self.init(inputs: inputs, labels: l)
    }

    public var count: Int { labels.count }

    /// The first `n` samples.
    public func prefix(_ n: Int) throws -> EvaluationSet {
        let k = Swift.min(Swift.max(n, 1), count)
        var sliced: [String: Tensor] = [:]
        for (name, t) in inputs { sliced[name] = try Self.rows(t, 0..<k) }
        return try EvaluationSet(inputs: sliced, labels: Array(labels[0..<k]))
    }

    static func rows(_ t: Tensor, _ r: Range<Int>) throws -> Tensor {
        guard t.rank > 0, t.shape[0] > 0 else { return t }
        let rowBytes = t.byteCount / t.shape[0]
        let bytes = t.withUnsafeBytes { Array($0[(r.lowerBound * rowBytes)..<(r.upperBound * rowBytes)]) }
        return try Tensor(elementType: t.elementType, shape: [r.count] + t.shape.dropFirst(), bytes: bytes)
    }
}
