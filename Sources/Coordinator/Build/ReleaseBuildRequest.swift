public import Foundation
public import ModelArtifact
public import Quantizer

/// What to build: one fp32 ONNX model, its data, the accuracy budget and the classes. Inputs are
/// files so a request can come from the CLI, the HTTP API or a stored job alike.
public struct ReleaseBuildRequest: Sendable {
    public var model: URL
    /// `.npy` / `.npz` / a directory of them; nil = dynamic quantization (MatMul/Gemm models).
    public var calibration: URL?
    /// Labelled evaluation inputs (`.npy` for a single-input model, `.npz` one array per input).
    public var evaluation: URL
    /// One class index per evaluation sample (`.npy`).
    public var labels: URL
    public var budget: AccuracyBudget
    /// Tuning time per class; the best candidate found so far is kept when it runs out.
    public var timeBudgetPerClass: Duration
    public var calibrationBatchSize: Int
    /// Class names to build; empty = every class the registry holds.
    public var hardwareClasses: [String]
    /// Device artifacts to write; nil = quantize, evaluate and report only.
    public var artifacts: ArtifactOptions?

    public init(
        model: URL, calibration: URL?, evaluation: URL, labels: URL, budget: AccuracyBudget,
        timeBudgetPerClass: Duration = .seconds(600), calibrationBatchSize: Int = 64, hardwareClasses: [String] = [],
        artifacts: ArtifactOptions? = nil
    ) {
        self.model = model
        self.calibration = calibration
        self.evaluation = evaluation
        self.labels = labels
        self.budget = budget
        self.timeBudgetPerClass = timeBudgetPerClass
        self.calibrationBatchSize = calibrationBatchSize
        self.hardwareClasses = hardwareClasses
        self.artifacts = artifacts
    }
}

/// The release an artifact belongs to, how it is signed and where it goes.
public struct ArtifactOptions: Sendable {
    public var modelName: String
    public var modelVersion: String
    /// Monotonic per model: devices refuse a lower one unless told to roll back.
    public var releaseSequence: UInt64
    public var signingKey: ArtifactSigningKey
    /// Receives `<class>.flotilla` and `<class>.flotilla.zst`.
    public var outputDirectory: URL
    public var createdBy: String
    /// Copied into every manifest (source model digest, ticket, ...).
    public var labels: [String: String]
    /// Evaluation samples shipped in each validation bundle, picked evenly across the set.
    public var validationSamples: Int
    /// A class that misses the budget gets no artifact (true), or one flagged as missing it.
    public var requireBudget: Bool

    public init(
        modelName: String, modelVersion: String, releaseSequence: UInt64, signingKey: ArtifactSigningKey, outputDirectory: URL,
        createdBy: String = "flotilla", labels: [String: String] = [:], validationSamples: Int = 64, requireBudget: Bool = true
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.releaseSequence = releaseSequence
        self.signingKey = signingKey
        self.outputDirectory = outputDirectory
        self.createdBy = createdBy
        self.labels = labels
        self.validationSamples = validationSamples
        self.requireBudget = requireBudget
    }
}
