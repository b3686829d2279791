public import FleetProtocol

/// A message a device published, decoded and checked against the topic it came on.
public enum DeviceMessage: Sendable, Equatable {
    case state(DeviceStateReport)
    case online(OnlineStatus)
    case event(DeviceEvent)
    case telemetry(TelemetrySummary)
    case chunkRequest(ChunkRequest)
    /// An empty retained payload: someone cleared the topic (a decommissioned device).
    case cleared(deviceID: String, kind: Topics.DeviceTopic)

    public var deviceID: String {
        switch self {
        case .state(let m): m.deviceID
        case .online(let m): m.deviceID
        case .event(let m): m.deviceID
        case .telemetry(let m): m.deviceID
        case .chunkRequest(let m): m.deviceID
        case .cleared(let id, _): id
        }
    }
}

/// Why an inbound message was dropped: the topic, and what was wrong with it. The service logs
/// it and counts it (`flotilla_coordinator_messages_dropped_total{reason}`); nothing else
/// happens, so one bad device cannot disturb the rest.
public struct IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Equatable {
        case badTopic, notADeviceTopic, malformed, wrongDevice
    }
    public var topic: String
    public var reason: Reason
    public var detail: String

    public var description: String { "dropped a message on '\(topic)' (\(reason.rawValue)): \(detail)" }
}

/// Decodes what devices publish. Every field was already bounded by `MessageEnvelope`
/// (1 MiB cap, version check, message type); here the topic decides the type, and a message
/// naming another device than its topic is refused, so a device cannot speak for another
/// even where the broker's ACLs are missing.
public enum DeviceMessageDecoder {
    public static func decode(topic: String, payload: [UInt8]) throws(IngestError) -> DeviceMessage {
        let parsed: Topics.Parsed
        do { parsed = try Topics.parse(topic) } catch { throw IngestError(topic: topic, reason: .badTopic, detail: error.description) }
        guard case .device(let id, let kind) = parsed else {
            throw IngestError(topic: topic, reason: .notADeviceTopic, detail: "coordinators only read device topics")
        }
        if payload.isEmpty { return .cleared(deviceID: id, kind: kind) }
        let message: DeviceMessage
        do {
            switch kind {
            case .state: message = .state(try MessageEnvelope.decode(DeviceStateReport.self, from: payload))
            case .online: message = .online(try MessageEnvelope.decode(OnlineStatus.self, from: payload))
            case .events: message = .event(try MessageEnvelope.decode(DeviceEvent.self, from: payload))
            case .telemetry: message = .telemetry(try MessageEnvelope.decode(TelemetrySummary.self, from: payload))
            case .chunkRequest: message = .chunkRequest(try MessageEnvelope.decode(ChunkRequest.self, from: payload))
            case .desired:
                throw IngestError(topic: topic, reason: .notADeviceTopic, detail: "desired states are the coordinator's own messages")
            }
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(topic: topic, reason: .malformed, detail: "\(error)")
        }
        guard message.deviceID == id else {
            throw IngestError(
                topic: topic, reason: .wrongDevice, detail: "the message names device '\(message.deviceID)', the topic '\(id)'")
        }
        if case .telemetry(let t) = message {
            guard t.windowEndMs >= t.windowStartMs else {
                throw IngestError(topic: topic, reason: .malformed, detail: "window ends before it starts")
            }
            for (name, value) in [("validationAccuracy", t.validationAccuracy), ("validationAgreement", t.validationAgreement)] {
                if let value, !(0...1).contains(value) {
                    throw IngestError(topic: topic, reason: .malformed, detail: "\(name) \(value) is outside 0...1")
                }
            }
        }
        return message
    }
}
