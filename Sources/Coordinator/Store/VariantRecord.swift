/// A release built for one hardware class: the signed, compressed artifact on disk and the
/// quantization report that justified it.
public struct VariantRecord: Codable, Sendable, Equatable {
    public var modelName: String
    public var modelVersion: String
    public var hardwareClass: String
    /// SHA-256 (hex) of the uncompressed artifact: its identity on the wire and in telemetry.
    public var artifactDigest: String
    /// Relative to the data directory (so the directory can move), e.g. `artifacts/<digest>.fla.zst`.
    public var artifactPath: String
    public var uncompressedSize: Int
    public var uncompressedSHA256: String
    public var compressedSize: Int
    public var compressedSHA256: String
    public var chunkSize: Int
    /// The quantization/evaluation report as JSON text, shown by `flotilla model show`.
    public var reportJSON: String
    /// Headline figures from the report ("accuracyInt8", "agreement", "latencyP95Us", ...), the
    /// baseline a rollout's gates compare telemetry with.
    public var metrics: [String: Double]

    public init(
        modelName: String, modelVersion: String, hardwareClass: String, artifactDigest: String, artifactPath: String,
        uncompressedSize: Int, uncompressedSHA256: String, compressedSize: Int, compressedSHA256: String, chunkSize: Int,
        reportJSON: String, metrics: [String: Double]
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.hardwareClass = hardwareClass
        self.artifactDigest = artifactDigest
        self.artifactPath = artifactPath
        self.uncompressedSize = uncompressedSize
        self.uncompressedSHA256 = uncompressedSHA256
        self.compressedSize = compressedSize
        self.compressedSHA256 = compressedSHA256
        self.chunkSize = chunkSize
        self.reportJSON = reportJSON
        self.metrics = metrics
    }
}
