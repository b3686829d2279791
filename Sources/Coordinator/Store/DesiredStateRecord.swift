public import Foundation

/// The last desired state published to one device: the exact signed bytes (republished as is
/// after a restart or to a reconnecting device) and what they were for.
public struct DesiredStateRecord: Codable, Sendable, Equatable {
    public var deviceID: String
    /// The `DesiredState.sequence` inside `payload`, allocated by `allocateDesiredSequence`.
    public var sequence: UInt64
    /// The signed envelope as published (retained) on the device's desired topic.
    public var payload: Data
    public var rolloutID: String?
    /// The release the desired state asks for (nil: keep what runs).
    public var releaseSequence: UInt64?
    public var issuedAtMs: Int64

    public init(deviceID: String, sequence: UInt64, payload: Data, rolloutID: String?, releaseSequence: UInt64?, issuedAtMs: Int64) {
        self.deviceID = deviceID
        self.sequence = sequence
        self.payload = payload
        self.rolloutID = rolloutID
        self.releaseSequence = releaseSequence
        self.issuedAtMs = issuedAtMs
    }
}
