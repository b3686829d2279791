/// The versioned MQTT topic namespace every Flotilla message lives under, with builders and a
/// parser. The full wire contract (messages, QoS, retain) is in docs/protocol.md.
///
/// Every identifier that becomes a topic level is validated first (`TopicID`): an id holding
/// `/`, `+` or `#` would let one device publish into, or subscribe to, another's topics.
public enum Topics {
    /// Major protocol version carried in every topic; a peer refuses an unknown one.
    public static let version = "v1"
    /// The root of all Flotilla topics: `flotilla/v1`.
    public static let root = "flotilla/\(version)"
    /// The MQTT 5 shared-subscription group coordinators join, so several share the load (on
    /// MQTT 3.1.1 there is no such group: see docs/brokers.md).
    public static let coordinatorGroup = "coordinators"

    /// The device-scoped topics: `flotilla/v1/devices/{id}/{kind}`.
    public enum DeviceTopic: String, Sendable, CaseIterable, Codable {
        /// Coordinator → device, retained, signed: what the device should run.
        case desired
        /// Device → coordinator, retained: what the device actually runs.
        case state
        /// Device → coordinator, retained + last will: liveness with a sequence number.
        case online
        /// Device → coordinator: download/trial/commit/rollback events, at once.
        case events
        /// Device → coordinator: periodic summaries.
        case telemetry
        /// Device → coordinator: missing chunk indices to publish again.
        case chunkRequest = "chunks/request"
    }

    /// The artifact-scoped topics: `flotilla/v1/artifacts/{class}/{digest}/{kind}`.
    public enum ArtifactTopic: String, Sendable, CaseIterable, Codable {
        /// Binary chunk frames; the index is in the frame header, so one topic per artifact.
        case chunks
        /// Coordinator → devices: stop downloading this artifact.
        case cancel
    }

    /// What a concrete topic names.
    public enum Parsed: Sendable, Equatable {
        case device(id: String, kind: DeviceTopic)
        case artifact(hardwareClass: String, artifactDigest: String, kind: ArtifactTopic)
    }

    public static func device(_ id: String, _ kind: DeviceTopic) throws(ProtocolError) -> String {
        try TopicID.validate(id, as: "device id")
        return "\(root)/devices/\(id)/\(kind.rawValue)"
    }

    public static func artifact(hardwareClass: String, artifactDigest: String, _ kind: ArtifactTopic) throws(ProtocolError) -> String {
        try TopicID.validate(hardwareClass, as: "hardware class")
        try TopicID.validateDigest(artifactDigest)
        return "\(root)/artifacts/\(hardwareClass)/\(artifactDigest)/\(kind.rawValue)"
    }

    /// The filter that receives `kind` from every device: `flotilla/v1/devices/+/{kind}`.
    public static func deviceFilter(_ kind: DeviceTopic) -> String {
        "\(root)/devices/+/\(kind.rawValue)"
    }

    /// The filter a coordinator subscribes with to receive `kind` from every device, sharing
    /// the stream with other coordinators: `$share/coordinators/flotilla/v1/devices/+/{kind}`.
    public static func sharedDeviceFilter(_ kind: DeviceTopic) -> String {
        "$share/\(coordinatorGroup)/\(root)/devices/+/\(kind.rawValue)"
    }

    /// Maps a received topic back to what it names, validating every id level. Anything outside
    /// the v1 namespace, or with an unknown kind, is refused with the reason.
    public static func parse(_ topic: String) throws(ProtocolError) -> Parsed {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard levels.count >= 2, levels[0] == "flotilla" else {
            throw .invalidTopic(topic: topic, reason: "not under the flotilla/ namespace")
        }
        guard levels[1] == version else {
            throw .invalidTopic(topic: topic, reason: "protocol version '\(levels[1])' is not \(version); this peer speaks only \(version)")
        }
        let rest = Array(levels.dropFirst(2))
        switch rest.first {
        case "devices":
            guard rest.count >= 3 else { throw .invalidTopic(topic: topic, reason: "expected devices/{id}/{kind}") }
            let id = rest[1]
            do { try TopicID.validate(id, as: "device id") } catch { throw .invalidTopic(topic: topic, reason: error.description) }
            let kindText = rest[2...].joined(separator: "/")
            guard let kind = DeviceTopic(rawValue: kindText) else {
                throw .invalidTopic(topic: topic, reason: "unknown device topic kind '\(kindText)'")
            }
            return .device(id: id, kind: kind)
        case "artifacts":
            guard rest.count == 4 else { throw .invalidTopic(topic: topic, reason: "expected artifacts/{class}/{digest}/{kind}") }
            do {
                try TopicID.validate(rest[1], as: "hardware class")
                try TopicID.validateDigest(rest[2])
            } catch { throw .invalidTopic(topic: topic, reason: error.description) }
            guard let kind = ArtifactTopic(rawValue: rest[3]) else {
                throw .invalidTopic(topic: topic, reason: "unknown artifact topic kind '\(rest[3])'")
            }
            return .artifact(hardwareClass: rest[1], artifactDigest: rest[2], kind: kind)
        default:
            throw .invalidTopic(topic: topic, reason: "expected devices/... or artifacts/... after \(root)")
        }
    }
}

/// The rules for an identifier used as one topic level (device id, hardware class).
public enum TopicID {
    /// Long enough for a UUID, a serial number or a hostname with a prefix; short enough that
    /// topics stay far below MQTT's 65535-byte limit.
    public static let maxLength = 128

    /// Letters, digits and `-_.:` only: no MQTT separators or wildcards (`/ + #`), no `$`
    /// (reserved by brokers), no spaces or controls that make ids unreadable in logs.
    public static func validate(_ id: String, as what: String) throws(ProtocolError) {
        guard !id.isEmpty else { throw .invalidID(id: id, what: what, reason: "it is empty") }
        guard id.utf8.count <= maxLength else {
            throw .invalidID(id: String(id.prefix(32)) + "…", what: what, reason: "it is \(id.utf8.count) bytes, the limit is \(maxLength)")
        }
        for byte in id.utf8 {
            let ok =
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
            guard ok else {
                throw .invalidID(
                    id: id, what: what, reason: "byte 0x\(String(byte, radix: 16)) is not allowed (use letters, digits, '-', '_', '.', ':')"
                )
            }
        }
    }

    /// An artifact digest: SHA-256 as 64 lower-case hex digits.
    public static func validateDigest(_ digest: String) throws(ProtocolError) {
        guard digest.utf8.count == 64,
            digest.utf8.allSatisfy({
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            })
        else {
            throw .invalidID(id: String(digest.prefix(80)), what: "artifact digest", reason: "expected 64 lower-case hex digits (SHA-256)")
        }
    }
}
