/// What happens to the devices of a class whose gate fails.
public enum APIRollbackPolicy: String, Codable, Sendable, CaseIterable {
    /// Halt that class and roll its updated devices back; other classes go on.
    case failingClass = "class"
    /// Halt everything and roll every updated device back.
    case all
    /// Halt, roll nothing back.
    case none
}

/// Gate thresholds between waves; nil leaves the coordinator's default.
public struct APIGateOptions: Codable, Sendable, Equatable {
    /// Devices per class that must have reported telemetry for the new release.
    public var minDevices: Int?
    /// Fraction of the wave's devices that installed and committed (0–1).
    public var minSuccessRate: Double?
    /// Largest allowed p95 latency, as a ratio to the baseline release on the same class.
    public var maxP95Ratio: Double?
    /// Largest allowed drop of validation accuracy versus the baseline (absolute, 0–1).
    public var maxAccuracyDrop: Double?
    /// Largest allowed drop of agreement with fp32 versus the baseline (absolute, 0–1).
    public var maxAgreementDrop: Double?
    /// A wave whose gate cannot be decided this long after its soak fails.
    public var gateTimeoutSeconds: Double?
    /// Inferences of the new release a class needs before its p95 latency is judged.
    public var minLatencySamples: Int?

    public init(
        minDevices: Int? = nil, minSuccessRate: Double? = nil, maxP95Ratio: Double? = nil, maxAccuracyDrop: Double? = nil,
        maxAgreementDrop: Double? = nil, gateTimeoutSeconds: Double? = nil, minLatencySamples: Int? = nil
    ) {
        self.minLatencySamples = minLatencySamples
        self.minDevices = minDevices
        self.minSuccessRate = minSuccessRate
        self.maxP95Ratio = maxP95Ratio
        self.maxAccuracyDrop = maxAccuracyDrop
        self.maxAgreementDrop = maxAgreementDrop
        self.gateTimeoutSeconds = gateTimeoutSeconds
    }

    static let fields: Set<String> = [
        "minDevices", "minSuccessRate", "maxP95Ratio", "maxAccuracyDrop", "maxAgreementDrop", "gateTimeoutSeconds", "minLatencySamples",
    ]

    func validate() throws(APIError) {
        if let v = minLatencySamples, v < 0 {
            throw .invalidRequest(field: "gate.minLatencySamples", "is \(v); give 0 or more inferences")
        }
        if let v = minDevices, v < 0 { throw .invalidRequest(field: "gate.minDevices", "is \(v); give 0 or more devices") }
        try Self.fraction(minSuccessRate, "gate.minSuccessRate")
        try Self.fraction(maxAccuracyDrop, "gate.maxAccuracyDrop")
        try Self.fraction(maxAgreementDrop, "gate.maxAgreementDrop")
        if let r = maxP95Ratio, !(r.isFinite && r >= 1) {
            throw .invalidRequest(field: "gate.maxP95Ratio", "is \(r); give a ratio ≥ 1 (1.2 allows 20% slower)")
        }
        if let t = gateTimeoutSeconds, !(t.isFinite && t > 0) {
            throw .invalidRequest(field: "gate.gateTimeoutSeconds", "is \(t); give a positive number of seconds")
        }
    }

    static func fraction(_ value: Double?, _ field: String) throws(APIError) {
        if let v = value, !(v.isFinite && (0...1).contains(v)) {
            throw .invalidRequest(field: field, "is \(v); give a fraction in [0, 1]")
        }
    }
}

/// `POST /v1/rollouts`: roll release `modelName`/`version` out to the devices matching
/// `target`, in waves. With `dryRun` the answer is the wave plan and nothing starts.
public struct APIRolloutRequest: Codable, Sendable, Equatable, APIRequestBody {
    public var modelName: String
    public var version: String
    /// Label selector text; empty targets every device.
    public var target: String
    /// Cumulative fractions of each class's matching devices, increasing, the last 1.
    public var waves: [Double]
    public var soakSeconds: Double
    public var gate: APIGateOptions
    public var onFailure: APIRollbackPolicy
    public var dryRun: Bool

    public init(
        modelName: String, version: String, target: String, waves: [Double] = [0.01, 0.1, 0.5, 1], soakSeconds: Double = 600,
        gate: APIGateOptions = APIGateOptions(), onFailure: APIRollbackPolicy = .failingClass, dryRun: Bool = false
    ) {
        self.modelName = modelName
        self.version = version
        self.target = target
        self.waves = waves
        self.soakSeconds = soakSeconds
        self.gate = gate
        self.onFailure = onFailure
        self.dryRun = dryRun
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelName = try c.decode(String.self, forKey: .modelName)
        version = try c.decode(String.self, forKey: .version)
        target = try c.decodeIfPresent(String.self, forKey: .target) ?? ""
        waves = try c.decodeIfPresent([Double].self, forKey: .waves) ?? [0.01, 0.1, 0.5, 1]
        soakSeconds = try c.decodeIfPresent(Double.self, forKey: .soakSeconds) ?? 600
        gate = try c.decodeIfPresent(APIGateOptions.self, forKey: .gate) ?? APIGateOptions()
        onFailure = try c.decodeIfPresent(APIRollbackPolicy.self, forKey: .onFailure) ?? .failingClass
        dryRun = try c.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
    }

    static let fields: Set<String> = ["modelName", "version", "target", "waves", "soakSeconds", "gate", "onFailure", "dryRun"]
    static let nestedFields: [String: Set<String>] = ["gate": APIGateOptions.fields]

    public func validate() throws(APIError) {
        try APIValidation.name(modelName, field: "modelName")
        try APIValidation.name(version, field: "version")
        guard !waves.isEmpty else { throw .invalidRequest(field: "waves", "is empty; give cumulative fractions like [0.01, 0.1, 1]") }
        var previous = 0.0
        for (i, w) in waves.enumerated() {
            guard w.isFinite, w > previous, w <= 1 else {
                throw .invalidRequest(
                    field: "waves[\(i)]", "is \(w); waves are cumulative fractions, increasing, each in (0, 1]")
            }
            previous = w
        }
        guard previous == 1 else {
            throw .invalidRequest(field: "waves", "ends at \(previous); the last wave must be 1 (every matching device)")
        }
        guard soakSeconds.isFinite, soakSeconds >= 0 else {
            throw .invalidRequest(field: "soakSeconds", "is \(soakSeconds); give 0 or more seconds")
        }
        try gate.validate()
    }
}

/// A manual operation on a running rollout.
public enum APIRolloutCommand: Sendable, Equatable {
    case pause, resume, abort
    /// Roll back the devices of one class, or of every class when nil.
    case rollback(hardwareClass: String?)
}

/// `POST /v1/rollouts/{id}/rollback` body (may be empty).
struct APIRollbackBody: Codable, Sendable, APIRequestBody {
    var hardwareClass: String?

    enum CodingKeys: String, CodingKey { case hardwareClass = "class" }

    static let fields: Set<String> = ["class"]

    func validate() throws(APIError) {
        if let c = hardwareClass { try APIValidation.name(c, field: "class") }
    }
}
