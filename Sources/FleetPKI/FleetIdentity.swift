import FleetProtocol

/// The names that become MQTT usernames and ACL entries: device ids (= certificate CN) and
/// coordinator identities.
public enum FleetIdentity {
    /// Coordinator certificates carry CNs with this prefix; no device id may start with it,
    /// or a device could be provisioned under a name the ACL file grants coordinator rights.
    public static let coordinatorPrefix = "coordinator-"

    /// The topic-level rules (`TopicID`): the CN is substituted for `%u` in ACL patterns, so a
    /// `/`, `+` or `#` in it would widen the pattern to other devices' topics.
    public static func validate(_ name: String, as what: String) throws(PKIError) {
        do { try TopicID.validate(name, as: what) } catch {
            throw .invalidName(name: name, what: what, reason: error.description)
        }
    }

    /// A device id: a topic-level identifier that does not claim a coordinator's name.
    public static func validateDevice(_ id: String) throws(PKIError) {
        try validate(id, as: "device id")
        guard !id.hasPrefix(coordinatorPrefix) else {
            throw .invalidName(
                name: id, what: "device id",
                reason:
                    "ids starting with '\(coordinatorPrefix)' are reserved for coordinators (the broker ACL grants them fleet-wide rights); choose another id"
            )
        }
    }

    /// A coordinator identity: `coordinator-<something>`.
    public static func validateCoordinator(_ name: String) throws(PKIError) {
        try validate(name, as: "coordinator name")
        guard name.hasPrefix(coordinatorPrefix), name.count > coordinatorPrefix.count else {
            throw .invalidName(
                name: name, what: "coordinator name",
                reason: "coordinator identities are '\(coordinatorPrefix)<name>' (e.g. coordinator-1), which the broker ACL recognises")
        }
    }

    /// A hardware class name: the topic-level rules (it is a level of the artifact topics).
    public static func validateClass(_ name: String) throws(PKIError) {
        try validate(name, as: "hardware class")
    }
}
