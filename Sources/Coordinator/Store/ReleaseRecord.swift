/// One version of a model. Its `releaseSequence` is allocated by the store: strictly increasing
/// per model name and never reused, so a device can refuse anything older than what it runs.
public struct ReleaseRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case building, ready, failed
    }

    public var name: String
    public var version: String
    public var releaseSequence: UInt64
    public var createdBy: String
    public var createdAtMs: Int64
    /// SHA-256 (hex) of the fp32 ONNX source the release was built from.
    public var sourceSHA256: String
    /// Build options as JSON text (accuracy budget, calibration settings, classes...).
    public var optionsJSON: String
    public var status: Status
    /// Why the build failed (nil unless `status == .failed`).
    public var error: String?

    public init(
        name: String, version: String, releaseSequence: UInt64, createdBy: String, createdAtMs: Int64, sourceSHA256: String,
        optionsJSON: String, status: Status, error: String? = nil
    ) {
        self.name = name
        self.version = version
        self.releaseSequence = releaseSequence
        self.createdBy = createdBy
        self.createdAtMs = createdAtMs
        self.sourceSHA256 = sourceSHA256
        self.optionsJSON = optionsJSON
        self.status = status
        self.error = error
    }
}

/// What a caller knows when registering a release; the store adds the sequence and the status
/// (`building`).
public struct NewRelease: Sendable, Equatable {
    public var name: String
    public var version: String
    public var createdBy: String
    public var createdAtMs: Int64
    public var sourceSHA256: String
    public var optionsJSON: String

    public init(name: String, version: String, createdBy: String, createdAtMs: Int64, sourceSHA256: String, optionsJSON: String = "{}") {
        self.name = name
        self.version = version
        self.createdBy = createdBy
        self.createdAtMs = createdAtMs
        self.sourceSHA256 = sourceSHA256
        self.optionsJSON = optionsJSON
    }
}
