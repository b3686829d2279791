/// Signal-to-quantization-noise ratio of one quantized tensor: 10·log10(Σx² / Σ(x − x̂)²),
/// x the fp32 model's value, x̂ the int8 model's value dequantized.
public struct LayerSQNR: Sendable, Codable, Hashable {
    public var value: String
    public var decibels: Double
}

public struct ModelSizes: Sendable, Codable, Hashable {
    /// Bytes of every initializer of the fp32 model.
    public var fp32Bytes: Int
    /// Bytes of every initializer of the QDQ model (int8 weights, int32 biases, scales).
    public var int8Bytes: Int
    /// The int8 initializers' bytes after zstd, when the caller gave a compressor.
    public var int8ZstdBytes: Int?
}

/// Median wall time of one inference at batch 1 on the machine that ran the evaluation (not a
/// device figure).
public struct Latency: Sendable, Codable, Hashable {
    public var fp32Milliseconds: Double
    public var int8Milliseconds: Double
    public var runs: Int
    public var host: String
}

public struct EvaluationResult: Sendable, Codable, Hashable {
    public var samples: Int
    public var fp32Accuracy: Double
    public var int8Accuracy: Double
    /// fp32 − int8 top-1 accuracy, in percentage points.
    public var dropPoints: Double
    /// Fraction of samples whose int8 top-1 equals the fp32 top-1.
    public var agreement: Double
    /// Mean over samples of the cosine similarity of the int8 and fp32 output rows.
    public var meanCosine: Double
    /// Worst first.
    public var layerSQNR: [LayerSQNR]
    public var sizes: ModelSizes?
    public var latency: Latency?

    public init(
        samples: Int, fp32Accuracy: Double, int8Accuracy: Double, dropPoints: Double, agreement: Double, meanCosine: Double,
        layerSQNR: [LayerSQNR] = [], sizes: ModelSizes? = nil, latency: Latency? = nil
    ) {
        self.samples = samples
        self.fp32Accuracy = fp32Accuracy
        self.int8Accuracy = int8Accuracy
        self.dropPoints = dropPoints
        self.agreement = agreement
        self.meanCosine = meanCosine
        self.layerSQNR = layerSQNR
        self.sizes = sizes
        self.latency = latency
    }
}
