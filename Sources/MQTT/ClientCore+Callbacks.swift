internal import CMosquitto
import Foundation

// libmosquitto's callbacks. They are C function pointers: no captures, so the client is found
// through the user-data pointer given to mosquitto_new (an unretained ClientCore, which outlives
// its handle). libmosquitto calls them from inside mosquitto_loop_* on the loop thread.
extension ClientCore {
    static func from(_ obj: UnsafeMutableRawPointer?) -> ClientCore? {
        obj.map { Unmanaged<ClientCore>.fromOpaque($0).takeUnretainedValue() }
    }

    func installCallbacks(_ handle: OpaquePointer) {
        mosquitto_connect_v5_callback_set(handle) { _, obj, rc, flags, props in
            guard let core = ClientCore.from(obj) else { return }
            core.onConnack(rc: Int(rc), flags: flags, props: props)
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, obj, rc, _ in
            ClientCore.from(obj)?.onDisconnect(rc: rc)
        }
        mosquitto_publish_v5_callback_set(handle) { _, obj, mid, reason, _ in
            ClientCore.from(obj)?.loopPublishAcknowledged(mid: mid, reasonCode: Int(reason))
        }
        mosquitto_subscribe_v5_callback_set(handle) { _, obj, mid, count, granted, _ in
            let codes = granted.map { Array(UnsafeBufferPointer(start: $0, count: Int(count))) } ?? []
            ClientCore.from(obj)?.loopSubscribeAcknowledged(mid: mid, granted: codes)
        }
        mosquitto_unsubscribe_v5_callback_set(handle) { _, obj, mid, _ in
            ClientCore.from(obj)?.loopUnsubscribeAcknowledged(mid: mid)
        }
        mosquitto_message_v5_callback_set(handle) { _, obj, msg, props in
            guard let core = ClientCore.from(obj), let msg else { return }
            core.onMessage(UnsafeMutablePointer(mutating: msg), props: props)
        }
        mosquitto_log_callback_set(handle) { _, obj, level, text in
            guard let core = ClientCore.from(obj), let text else { return }
            // Errors (OpenSSL's among them) explain a following failure code; keep the last one.
            if level == MOSQ_LOG_ERR || level == MOSQ_LOG_WARNING {
                core.lastLibraryError = String(cString: text)
            }
        }
    }

    private func onConnack(rc: Int, flags: Int32, props: OpaquePointer?) {
        guard rc == 0 else {
            lastRefusal = protocolVersion == .v5 ? rc : MQTTError.v5ReasonCode(fromV311: rc)
            return  // libmosquitto fails the read and closes the socket next; see loopSocketFailed
        }
        var size: UInt32 = 0
        if mosquitto_property_read_int32(props, Int32(MQTT_PROP_MAXIMUM_PACKET_SIZE.rawValue), &size, false) != nil {
            maximumPacketSize = Int(size)
        }
        loopConnected(sessionPresent: flags & 1 == 1)
    }

    private func onDisconnect(rc: Int32) {
        guard isSocketPhase else { return }
        if phase == .disconnecting {
            loopConnectionEnded(error: nil)
            return
        }
        let error: MQTTError
        if let refusal = lastRefusal {
            error = refusalError(refusal)
        } else if rc == MOSQ_ERR_TLS.rawValue || rc == MOSQ_ERR_TLS_HANDSHAKE.rawValue {
            error = tlsError()
        } else if case .awaitingConnack = phase,
            lastLibraryError?.contains("SSL") == true || lastLibraryError?.contains("certificate") == true
        {
            error = tlsError()
        } else {
            let why = rc > 0 && rc < 0x80 ? String(cString: mosquitto_strerror(rc)) : MQTTError.reasonName(Int(rc))
            error = MQTTError(
                .connectionLost, "\(label): connection lost (\(why)); the client reconnects with backoff if reconnect is enabled")
        }
        loopConnectionEnded(error: error)
    }

    /// Adopts the payload buffer instead of copying it. libmosquitto (2.0) frees a received
    /// message with message__cleanup right after this callback returns — for QoS 0 and 1 in
    /// handle__publish, for QoS 2 in handle__pubrel — and never reads the payload after the
    /// callback; free(NULL) is a no-op, so taking the pointer and leaving NULL behind hands
    /// ownership to the Data, which frees it with free() (libmosquitto allocates with calloc).
    private func onMessage(_ m: UnsafeMutablePointer<mosquitto_message>, props: OpaquePointer?) {
        let topic = m.pointee.topic.map { String(cString: $0) } ?? ""
        var payload = Data()
        if let bytes = m.pointee.payload, m.pointee.payloadlen > 0 {
            payload = Data(bytesNoCopy: bytes, count: Int(m.pointee.payloadlen), deallocator: .free)
            m.pointee.payload = nil
            m.pointee.payloadlen = 0
        }
        let message = MQTTMessage(
            topic: topic, payload: payload, qos: MQTTQoS(rawValue: m.pointee.qos) ?? .atMostOnce, retain: m.pointee.retain,
            properties: props == nil ? MQTTProperties() : MQTTProperties(mosquittoList: props))
        if let handler = messageHandler {
            handler(message)
        } else {
            messages.yield(message)
        }
    }
}
