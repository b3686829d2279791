public import ModelIR

/// What an artifact is: which model release, for which hardware class, with which interface and
/// which expected metrics. Stored as canonical JSON in the manifest section.
///
/// The caller fills in the release fields. The writer fills in the derived fields (format
/// version, inputs, outputs, total weight bytes, ops used) from the model it writes, and the
/// reader checks them against the graph, so the manifest can never describe another model.
public struct ArtifactManifest: Sendable, Equatable {
    public var modelName: String
    public var modelVersion: String
    /// Monotonic per model across releases: a device installs a lower sequence than it runs only
    /// under a signed rollback directive.
    public var releaseSequence: UInt64
    /// The hardware class profile this variant was quantized and packed for.
    public var hardwareClass: String
    /// The tool that built the artifact, e.g. "flotilla 0.4.0".
    public var createdBy: String
    /// Left nil by default: output is byte-identical for identical inputs unless the caller
    /// chooses to record a time.
    public var createdAt: String?
    public var expectedMetrics: ExpectedMetrics
    /// Free-form labels (source model digest, quantization recipe, ...).
    public var labels: [String: String]

    // Derived by the writer from the model.
    public internal(set) var formatVersion: ArtifactFormatVersion
    public internal(set) var inputs: [ValueInfo]
    public internal(set) var outputs: [ValueInfo]
    /// Sum of the byte lengths of all tensors in the weights section (padding excluded).
    public internal(set) var totalWeightBytes: Int
    /// Qualified op types ("Conv", "com.microsoft:QLinearConv") of every node, subgraphs
    /// included, sorted by UTF-8 bytes.
    public internal(set) var opsUsed: [String]

    public init(
        modelName: String, modelVersion: String, releaseSequence: UInt64, hardwareClass: String, createdBy: String,
        createdAt: String? = nil, expectedMetrics: ExpectedMetrics = ExpectedMetrics(), labels: [String: String] = [:]
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.releaseSequence = releaseSequence
        self.hardwareClass = hardwareClass
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expectedMetrics = expectedMetrics
        self.labels = labels
        self.formatVersion = .current
        self.inputs = []
        self.outputs = []
        self.totalWeightBytes = 0
        self.opsUsed = []
    }

    /// The ops a model uses, as the manifest lists them.
    static func opsUsed(by graph: Graph) -> [String] {
        var ops: Set<String> = []
        func visit(_ g: Graph) {
            for n in g.nodes {
                ops.insert(n.qualifiedOpType)
                n.subgraphs.forEach(visit)
            }
        }
        visit(graph)
        return ops.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    // MARK: JSON

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "formatVersion": .string(formatVersion.description),
            "modelName": .string(modelName),
            "modelVersion": .string(modelVersion),
            "releaseSequence": .unsigned(releaseSequence),
            "hardwareClass": .string(hardwareClass),
            "createdBy": .string(createdBy),
            "expectedMetrics": expectedMetrics.json,
            "labels": .object(labels.mapValues(JSONValue.string)),
            "inputs": .array(inputs.map(IRCoding.encode)),
            "outputs": .array(outputs.map(IRCoding.encode)),
            "totalWeightBytes": .integer(totalWeightBytes),
            "opsUsed": .strings(opsUsed),
        ]
        if let createdAt { members["createdAt"] = .string(createdAt) }
        return .object(members)
    }

    init(json root: JSONField) throws(ArtifactError) {
        let version = try root.field("formatVersion")
        let parts = try version.string().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else {
            throw version.fail("expected \"major.minor\"")
        }
        self.init(
            modelName: try root.field("modelName").string(),
            modelVersion: try root.field("modelVersion").string(),
            releaseSequence: try root.field("releaseSequence").uint64(),
            hardwareClass: try root.field("hardwareClass").string(),
            createdBy: try root.field("createdBy").string(),
            createdAt: try root.optionalField("createdAt")?.string(),
            expectedMetrics: try ExpectedMetrics(json: try root.field("expectedMetrics")),
            labels: try root.field("labels").stringMap())
        formatVersion = ArtifactFormatVersion(major: major, minor: minor)
        inputs = []
        for item in try root.field("inputs").array() { inputs.append(try IRCoding.valueInfo(item)) }
        outputs = []
        for item in try root.field("outputs").array() { outputs.append(try IRCoding.valueInfo(item)) }
        totalWeightBytes = try root.field("totalWeightBytes").count()
        opsUsed = try root.field("opsUsed").strings()
    }
}
