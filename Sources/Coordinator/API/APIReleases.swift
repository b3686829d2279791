public import Foundation

/// What an uploaded file is for: the fp32 model, or the data its builds are tuned and judged on.
public enum APIUploadKind: String, Codable, Sendable, CaseIterable {
    case model, calibration, eval, labels
}

/// A file the HTTP layer received and wrote to disk; handed to `registerUpload`.
public struct APIReceivedUpload: Sendable, Equatable {
    public var kind: APIUploadKind
    /// The client's file name (base name only), for display and for the format by extension.
    public var fileName: String
    /// Where the bytes are now; the operations implementation moves the file away.
    public var temporaryPath: URL
    public var size: Int
    /// Lower-case hex SHA-256 of the bytes received.
    public var sha256: String

    public init(kind: APIUploadKind, fileName: String, temporaryPath: URL, size: Int, sha256: String) {
        self.kind = kind
        self.fileName = fileName
        self.temporaryPath = temporaryPath
        self.size = size
        self.sha256 = sha256
    }
}

/// `POST /v1/uploads` answer.
public struct APIUpload: Codable, Sendable, Equatable {
    public var id: String
    public var kind: APIUploadKind
    public var fileName: String
    public var size: Int
    public var sha256: String

    public init(id: String, kind: APIUploadKind, fileName: String, size: Int, sha256: String) {
        self.id = id
        self.kind = kind
        self.fileName = fileName
        self.size = size
        self.sha256 = sha256
    }
}

/// `POST /v1/releases`: build release `name`/`version` from uploads.
public struct APIAddReleaseRequest: Codable, Sendable, Equatable, APIRequestBody {
    public var name: String
    public var version: String
    public var modelUpload: String
    /// Without calibration data, MatMul/Gemm layers are quantized dynamically.
    public var calibrationUpload: String?
    public var evalUpload: String
    public var labelsUpload: String
    /// Maximum top-1 accuracy drop versus fp32, in percentage points.
    public var budget: Double
    /// Fraction of int8 top-1 equal to fp32 top-1 that every variant must reach (0–1).
    public var minAgreement: Double?
    /// Hardware classes to build; nil builds every class present in the fleet.
    public var classes: [String]?

    public init(
        name: String, version: String, modelUpload: String, calibrationUpload: String? = nil, evalUpload: String,
        labelsUpload: String, budget: Double, minAgreement: Double? = nil, classes: [String]? = nil
    ) {
        self.name = name
        self.version = version
        self.modelUpload = modelUpload
        self.calibrationUpload = calibrationUpload
        self.evalUpload = evalUpload
        self.labelsUpload = labelsUpload
        self.budget = budget
        self.minAgreement = minAgreement
        self.classes = classes
    }

    static let fields: Set<String> = [
        "name", "version", "modelUpload", "calibrationUpload", "evalUpload", "labelsUpload", "budget", "minAgreement", "classes",
    ]

    public func validate() throws(APIError) {
        try APIValidation.name(name, field: "name")
        try APIValidation.name(version, field: "version")
        guard budget.isFinite, budget >= 0, budget <= 100 else {
            throw .invalidRequest(field: "budget", "is \(budget); give the allowed top-1 drop in percentage points, 0–100")
        }
        if let a = minAgreement, !(a.isFinite && (0...1).contains(a)) {
            throw .invalidRequest(field: "minAgreement", "is \(a); give a fraction in [0, 1]")
        }
        if let classes {
            guard !classes.isEmpty else {
                throw .invalidRequest(field: "classes", "is empty; omit it to build every class present in the fleet")
            }
            for c in classes { try APIValidation.name(c, field: "classes") }
        }
    }
}

/// Build state of a release (of every variant together) or of one variant.
public enum APIBuildStatus: String, Codable, Sendable, CaseIterable {
    case building, ready, failed
}

/// A model release and its per-class variants.
public struct APIRelease: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    /// Strictly increasing per model name; devices refuse an older one without a rollback.
    public var releaseSequence: Int
    public var status: APIBuildStatus
    /// Why the build failed (status `failed`).
    public var error: String?
    public var createdBy: String
    public var createdAtMs: Int64
    /// SHA-256 of the fp32 ONNX model.
    public var sourceSHA256: String
    public var budget: Double
    public var minAgreement: Double?
    /// The classes being built (or built).
    public var classes: [String]
    public var variants: [APIVariant]

    public init(
        name: String, version: String, releaseSequence: Int, status: APIBuildStatus, error: String? = nil, createdBy: String,
        createdAtMs: Int64, sourceSHA256: String, budget: Double, minAgreement: Double? = nil, classes: [String],
        variants: [APIVariant] = []
    ) {
        self.name = name
        self.version = version
        self.releaseSequence = releaseSequence
        self.status = status
        self.error = error
        self.createdBy = createdBy
        self.createdAtMs = createdAtMs
        self.sourceSHA256 = sourceSHA256
        self.budget = budget
        self.minAgreement = minAgreement
        self.classes = classes
        self.variants = variants
    }
}

/// The int8 build of a release for one hardware class.
public struct APIVariant: Codable, Sendable, Equatable {
    public var hardwareClass: String
    public var status: APIBuildStatus
    public var error: String?
    /// The artifact's identity (what devices report running).
    public var artifactDigest: String?
    public var uncompressedSize: Int?
    public var compressedSize: Int?
    public var compressedSHA256: String?
    /// Named measurements of the build, e.g. `fp32Accuracy`, `int8Accuracy`, `agreement`,
    /// `latencyP50Us`.
    public var metrics: [String: Double]
    /// The quantization report as text; only `GET /v1/releases/{name}/{version}` fills it.
    public var report: String?

    public init(
        hardwareClass: String, status: APIBuildStatus, error: String? = nil, artifactDigest: String? = nil,
        uncompressedSize: Int? = nil, compressedSize: Int? = nil, compressedSHA256: String? = nil, metrics: [String: Double] = [:],
        report: String? = nil
    ) {
        self.hardwareClass = hardwareClass
        self.status = status
        self.error = error
        self.artifactDigest = artifactDigest
        self.uncompressedSize = uncompressedSize
        self.compressedSize = compressedSize
        self.compressedSHA256 = compressedSHA256
        self.metrics = metrics
        self.report = report
    }
}

/// Shared checks for names that end up in paths, topics and file names.
enum APIValidation {
    /// 1–128 characters of letters, digits, `.`, `_`, `-` and `+` (semver build metadata),
    /// not starting with a dot.
    static func name(_ value: String, field: String) throws(APIError) {
        guard (1...128).contains(value.count), !value.hasPrefix("."),
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-+".contains($0)) })
        else {
            throw .invalidRequest(
                field: field, "'\(value)' must be 1–128 letters, digits, '.', '_', '-' or '+', not starting with '.'")
        }
    }
}
