public import FleetProtocol
public import Foundation
public import Quantizer

/// One hardware class's signed artifact, ready to be stored and rolled out.
public struct BuiltVariant: Sendable, Codable, Hashable {
    public var hardwareClass: String
    /// SHA-256 (hex) of the uncompressed artifact: its identity in topics and device reports.
    public var artifactDigest: String
    /// `<class>.flotilla`, the signed artifact with its validation bundle.
    public var artifactPath: URL
    /// `<class>.flotilla.zst`, the form devices download.
    public var transportPath: URL
    /// Sizes and digests of both forms, as a desired state carries them.
    public var transport: TransportDigests
    public var signingKeyID: String
    /// False only when `ArtifactOptions.requireBudget` was off and the class missed the budget.
    public var budgetMet: Bool
    /// This class's quantization report, as JSON (`QuantizationReport` with one class) and as the
    /// readable table.
    public var reportJSON: Data
    public var reportText: String
    /// The expected metrics the artifact carries (`ExpectedMetrics` keys, measured on the
    /// validation samples) plus the full evaluation's figures under `eval_*` keys.
    public var metrics: [String: Double]

    public var artifactBytes: Int { transport.uncompressedSize }
    public var compressedBytes: Int { transport.compressedSize }

    /// What a desired state names for this variant.
    public func descriptor(modelName: String, modelVersion: String, releaseSequence: UInt64, chunkSize: Int = ChunkPlan.defaultChunkSize)
        -> ArtifactDescriptor
    {
        ArtifactDescriptor(
            modelName: modelName, modelVersion: modelVersion, releaseSequence: releaseSequence, hardwareClass: hardwareClass,
            transport: transport, chunkSize: chunkSize)
    }
}

/// The result for one class: its report (when quantization got that far), its artifact (when
/// one was written), or why not.
public struct VariantResult: Sendable {
    public var hardwareClass: String
    public var report: QuantizationReport.ClassReport?
    public var artifact: BuiltVariant?
    /// Set when the class produced nothing usable: the error, or the budget refusal.
    public var failure: String?

    public var succeeded: Bool { failure == nil }
}

/// Every class's result, in the order the classes were requested, and the combined report.
public struct ReleaseBuildResult: Sendable {
    public var variants: [VariantResult]
    /// Every class that was evaluated (failed quantizations are absent; see `variants`).
    public var report: QuantizationReport

    public var built: [BuiltVariant] { variants.compactMap(\.artifact) }
    public var failures: [(hardwareClass: String, reason: String)] {
        variants.compactMap { v in v.failure.map { (v.hardwareClass, $0) } }
    }
}

/// Where a build is, for a progress bar: class `classIndex + 1` of `classCount`, its phase, and
/// the fraction of the whole build done (0...1).
public struct BuildProgress: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable {
        case loading, quantizing, packaging, writing, verifying, finished, failed
    }

    public var classIndex: Int
    public var classCount: Int
    public var hardwareClass: String
    public var phase: Phase
    public var fraction: Double
    /// A tuner trial, a warning or the error, when there is one.
    public var detail: String?
}
