/// Everything decoding, topic parsing and signature checking can refuse, as values. Each
/// description says what is wrong, names the message, topic, key or device, and says what to do.
/// A peer logs the description and drops the message; nothing here is fatal to the process.
public enum ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidTopic(topic: String, reason: String)
    case invalidID(id: String, what: String, reason: String)
    /// The message's `v` has a major version this peer does not speak.
    case unsupportedVersion(found: String, supportedMajor: Int)
    /// The bytes are not a v1 message of the expected type (bad JSON, a field missing or of the
    /// wrong type, a value out of range).
    case malformedMessage(type: String, detail: String)
    case wrongMessageType(expected: String, found: String)
    /// The signed envelope names a key that is not pinned here.
    case unknownSigningKey(keyID: String, pinned: [String])
    case badSignature(keyID: String)
    /// A desired state addressed to another device (a retained message copied across topics).
    case wrongDevice(expected: String, found: String)
    /// A desired state whose sequence is not above the last accepted one: a replay or a stale
    /// retained message.
    case replayedSequence(deviceID: String, sequence: UInt64, lastAccepted: UInt64)

    public var description: String {
        switch self {
        case .invalidTopic(let topic, let reason):
            return "topic '\(topic)' is not a Flotilla v1 topic: \(reason); check the publisher's topic builder and protocol version"
        case .invalidID(let id, let what, let reason):
            return "\(what) '\(id)' cannot be used in a topic: \(reason); rename it in the device or class configuration"
        case .unsupportedVersion(let found, let major):
            return "message version '\(found)' is not supported: this peer speaks major version \(major); "
                + "upgrade this peer (or the sender) so both speak the same major version"
        case .malformedMessage(let type, let detail):
            return "malformed \(type) message: \(detail); the sender is buggy or speaks another protocol, the message is dropped"
        case .wrongMessageType(let expected, let found):
            return "expected a '\(expected)' message but got '\(found)'; the sender published on the wrong topic"
        case .unknownSigningKey(let keyID, let pinned):
            return "message signed by key \(keyID), which is not pinned here (pinned: \(pinned.joined(separator: ", "))); "
                + "pin the coordinator's new key on this device if this is a legitimate rotation, otherwise ignore the message"
        case .badSignature(let keyID):
            return "the signature by key \(keyID) does not verify: the message was altered or forged; it is ignored"
        case .wrongDevice(let expected, let found):
            return "desired state is addressed to device '\(found)', not to this device '\(expected)'; "
                + "the coordinator published it on the wrong topic, it is ignored"
        case .replayedSequence(let device, let sequence, let last):
            return "desired state sequence \(sequence) for device '\(device)' is not above the last accepted \(last): "
                + "a replayed or stale message, ignored; the coordinator must publish a higher sequence"
        }
    }
}
