/// A device as the registry knows it: what it is, what the operators labelled it, and what it
/// reports it actually runs.
public struct APIDevice: Codable, Sendable, Equatable {
    public var id: String
    public var hardwareClass: String
    public var agentVersion: String?
    public var labels: [String: String]
    public var online: Bool
    /// What the device reported it runs (nil before its first report or with no model).
    public var running: APIRunningModel?
    /// The agent's update phase as last reported (e.g. `idle`, `downloading`, `trial`).
    public var phase: String?
    /// A release the device was told to run and has not reported running yet.
    public var pendingReleaseSequence: Int?
    public var lastSeenMs: Int64?
    public var firstSeenMs: Int64?
    /// Why the device last rolled back, if it ever did.
    public var lastRollbackReason: String?

    public init(
        id: String, hardwareClass: String, agentVersion: String? = nil, labels: [String: String] = [:], online: Bool,
        running: APIRunningModel? = nil, phase: String? = nil, pendingReleaseSequence: Int? = nil, lastSeenMs: Int64? = nil,
        firstSeenMs: Int64? = nil, lastRollbackReason: String? = nil
    ) {
        self.id = id
        self.hardwareClass = hardwareClass
        self.agentVersion = agentVersion
        self.labels = labels
        self.online = online
        self.running = running
        self.phase = phase
        self.pendingReleaseSequence = pendingReleaseSequence
        self.lastSeenMs = lastSeenMs
        self.firstSeenMs = firstSeenMs
        self.lastRollbackReason = lastRollbackReason
    }
}

public struct APIRunningModel: Codable, Sendable, Equatable {
    public var modelName: String
    public var modelVersion: String
    public var releaseSequence: Int?
    public var artifactDigest: String
    /// `a` or `b`.
    public var slot: String?
    /// `trial` or `committed`.
    public var status: String

    public init(
        modelName: String, modelVersion: String, releaseSequence: Int? = nil, artifactDigest: String, slot: String? = nil,
        status: String
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.releaseSequence = releaseSequence
        self.artifactDigest = artifactDigest
        self.slot = slot
        self.status = status
    }
}

/// `GET /v1/devices` filters; all of them must hold.
public struct APIDeviceQuery: Codable, Sendable, Equatable {
    /// Label selector text (`site=berlin,tier in (canary)`; `class` and `id` are pseudo-labels).
    public var selector: String?
    public var hardwareClass: String?
    public var online: Bool?

    public init(selector: String? = nil, hardwareClass: String? = nil, online: Bool? = nil) {
        self.selector = selector
        self.hardwareClass = hardwareClass
        self.online = online
    }
}

/// `PATCH /v1/devices/{id}/labels`.
public struct APILabelChange: Codable, Sendable, Equatable, APIRequestBody {
    public var set: [String: String]
    public var remove: [String]

    public init(set: [String: String] = [:], remove: [String] = []) {
        self.set = set
        self.remove = remove
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        set = try c.decodeIfPresent([String: String].self, forKey: .set) ?? [:]
        remove = try c.decodeIfPresent([String].self, forKey: .remove) ?? []
    }

    static let fields: Set<String> = ["set", "remove"]

    /// Label keys and values follow Kubernetes' shape (so selectors can name them): keys are
    /// 1–63 of `[A-Za-z0-9._-]` with an optional `prefix/`, values at most 63 of the same set.
    /// `class` and `id` are reserved: selectors read them from the device itself.
    public func validate() throws(APIError) {
        if set.isEmpty && remove.isEmpty {
            throw .invalidRequest(field: "set", "and 'remove' are both empty; give at least one label to set or remove")
        }
        for (key, value) in set {
            try Self.checkKey(key, field: "set")
            guard value.count <= 63, value.allSatisfy(Self.isLabelCharacter) else {
                throw .invalidRequest(
                    field: "set.\(key)", "value '\(value)' must be at most 63 characters of letters, digits, '.', '_' and '-'")
            }
        }
        for key in remove { try Self.checkKey(key, field: "remove") }
        if let both = Set(set.keys).intersection(remove).sorted().first {
            throw .invalidRequest(field: "remove", "names '\(both)', which 'set' also sets; do one or the other")
        }
    }

    static func checkKey(_ key: String, field: String) throws(APIError) {
        if key == "class" || key == "id" {
            throw .invalidRequest(field: field, "cannot use '\(key)': it is a reserved pseudo-label (the device's own \(key))")
        }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard let name = parts.last, parts.count <= 2, (1...63).contains(name.count), name.allSatisfy(isLabelCharacter),
            parts.count == 1 || (1...253).contains(parts[0].count) && parts[0].allSatisfy(isLabelCharacter)
        else {
            throw .invalidRequest(
                field: field, "key '\(key)' must be 1–63 letters, digits, '.', '_' or '-', optionally after a 'prefix/'")
        }
    }

    static func isLabelCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-")
    }
}
