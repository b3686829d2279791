/// `GET /v1/telemetry` filters; nil matches everything.
public struct APITelemetryQuery: Codable, Sendable, Equatable {
    public var modelName: String?
    public var version: String?
    public var hardwareClass: String?
    /// Only buckets starting at or after this time (ms since 1970); nil: the retention window.
    public var sinceMs: Int64?

    public init(modelName: String? = nil, version: String? = nil, hardwareClass: String? = nil, sinceMs: Int64? = nil) {
        self.modelName = modelName
        self.version = version
        self.hardwareClass = hardwareClass
        self.sinceMs = sinceMs
    }
}

public struct APITelemetryReport: Codable, Sendable, Equatable {
    public var generatedAtMs: Int64
    public var bucketSeconds: Int
    public var series: [APITelemetrySeries]

    public init(generatedAtMs: Int64, bucketSeconds: Int, series: [APITelemetrySeries]) {
        self.generatedAtMs = generatedAtMs
        self.bucketSeconds = bucketSeconds
        self.series = series
    }
}

/// One release on one hardware class: totals over the query window and the buckets for plots.
public struct APITelemetrySeries: Codable, Sendable, Equatable {
    public var modelName: String
    public var version: String
    public var hardwareClass: String
    public var artifactDigest: String
    public var totals: APIClassMetrics
    /// Oldest first.
    public var buckets: [APITelemetryBucket]

    public init(
        modelName: String, version: String, hardwareClass: String, artifactDigest: String, totals: APIClassMetrics,
        buckets: [APITelemetryBucket]
    ) {
        self.modelName = modelName
        self.version = version
        self.hardwareClass = hardwareClass
        self.artifactDigest = artifactDigest
        self.totals = totals
        self.buckets = buckets
    }
}

public struct APITelemetryBucket: Codable, Sendable, Equatable {
    public var startMs: Int64
    public var metrics: APIClassMetrics

    public init(startMs: Int64, metrics: APIClassMetrics) {
        self.startMs = startMs
        self.metrics = metrics
    }
}

public struct APIAuditQuery: Codable, Sendable, Equatable {
    public var limit: Int
    public var sinceMs: Int64?

    public init(limit: Int = 100, sinceMs: Int64? = nil) {
        self.limit = limit
        self.sinceMs = sinceMs
    }
}

/// Who did what, when.
public struct APIAuditEntry: Codable, Sendable, Equatable {
    public var atMs: Int64
    public var actor: String
    /// e.g. `rollout.start`, `rollout.pause`, `device.labels`, `release.add`.
    public var action: String
    /// What it was done to: a rollout id, a device id, `name/version`.
    public var target: String
    /// JSON text with the request's particulars.
    public var detail: String?

    public init(atMs: Int64, actor: String, action: String, target: String, detail: String? = nil) {
        self.atMs = atMs
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
    }
}

/// A manifest-signing key devices may pin.
public struct APIPublicKey: Codable, Sendable, Equatable {
    public var keyID: String
    public var algorithm: String
    /// Raw 32-byte Ed25519 public key, base64.
    public var publicKeyBase64: String
    /// The key new manifests are signed with.
    public var active: Bool
    public var createdAtMs: Int64?

    public init(keyID: String, algorithm: String = "ed25519", publicKeyBase64: String, active: Bool, createdAtMs: Int64? = nil) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.publicKeyBase64 = publicKeyBase64
        self.active = active
        self.createdAtMs = createdAtMs
    }
}

/// List responses are wrapped in an object so fields can be added without breaking clients.
struct APIList<Element: Codable & Sendable>: Codable, Sendable {
    var items: [Element]
}
