/// The versioned MQTT topic namespace every Flotilla message lives under. The full wire contract
/// (messages, QoS, retain) is specified in docs/protocol.md as it is built (issue #6).
public enum Topics {
    /// Major protocol version carried in every topic; a peer refuses an unknown one.
    public static let version = "v1"
    /// The root of all Flotilla topics: `flotilla/v1`.
    public static let root = "flotilla/\(version)"
}
