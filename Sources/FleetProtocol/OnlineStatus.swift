/// Liveness, published retained on `.../online`: `online: true` right after connecting, and the
/// same message with `online: false` registered as the MQTT last will (the broker publishes it
/// when the connection dies). Both carry the connection's sequence, so a late will from an
/// older connection (sequence below the latest online message) is recognised and ignored.
public struct OnlineStatus: WireMessage, Equatable {
    public static let messageType = "onlineStatus"

    public var deviceID: String
    public var online: Bool
    /// Incremented (and persisted) by the agent on every connect.
    public var connectionSequence: UInt64
    public var hardwareClass: String
    /// Time of the connect the status belongs to (a will carries its connection's time too).
    public var atMs: Int64

    public init(deviceID: String, online: Bool, connectionSequence: UInt64, hardwareClass: String, atMs: Int64) {
        self.deviceID = deviceID
        self.online = online
        self.connectionSequence = connectionSequence
        self.hardwareClass = hardwareClass
        self.atMs = atMs
    }

    /// Which of two statuses for the same device is current.
    public func supersedes(_ other: OnlineStatus) -> Bool {
        if connectionSequence != other.connectionSequence { return connectionSequence > other.connectionSequence }
        // Same connection: its will (offline) comes after its online message.
        return !online && other.online
    }
}
