/// One line of the audit log: who did what to which thing, and when.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// Assigned by the store on append (increasing); 0 before.
    public var id: Int64
    public var atMs: Int64
    /// The operator (API token name) or "coordinator" for automatic actions.
    public var actor: String
    /// e.g. "rollout.start", "rollout.halt", "device.labels".
    public var action: String
    /// e.g. "rollout/r-42", "device/dev-7", "model/resnet@1.2".
    public var target: String
    /// Parameters and outcome as JSON text.
    public var detailJSON: String

    public init(id: Int64 = 0, atMs: Int64, actor: String, action: String, target: String, detailJSON: String = "{}") {
        self.id = id
        self.atMs = atMs
        self.actor = actor
        self.action = action
        self.target = target
        self.detailJSON = detailJSON
    }
}
