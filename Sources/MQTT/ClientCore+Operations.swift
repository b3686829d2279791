internal import CMosquitto
import Glibc

// Publish, subscribe and unsubscribe, run on the event loop thread. Acknowledgements arrive
// through the callbacks in ClientCore+Callbacks.swift, matched by message id.
extension ClientCore {
    func loopPublish(_ message: MQTTMessage, _ continuation: CheckedContinuation<Void, any Error>) {
        switch phase {
        case .closed, .disconnecting:
            continuation.resume(throwing: MQTTError(.closed, "\(label): cannot publish to '\(message.topic)': the client is closed"))
            return
        case .connected:
            break
        default:
            guard offlineQueue.count < configuration.offlineQueueLimit else {
                continuation.resume(
                    throwing: MQTTError(
                        .offlineQueueFull(limit: configuration.offlineQueueLimit),
                        "\(label): not connected and \(offlineQueue.count) messages already wait for the connection; raise offlineQueueLimit or slow down publishing"
                    ))
                return
            }
            offlineQueue.append((message, continuation))
            return
        }
        guard let mosq else { return }
        var props: OpaquePointer? = nil
        if protocolVersion == .v5 {
            do { props = try message.properties.makeMosquittoList() } catch {
                continuation.resume(throwing: error)
                return
            }
        }
        var mid: Int32 = 0
        let rc = message.payload.withUnsafeBytes {
            mosquitto_publish_v5(
                mosq, &mid, message.topic, Int32(clamping: $0.count), $0.baseAddress, message.qos.rawValue, message.retain, props)
        }
        mosquitto_property_free_all(&props)
        switch rc {
        case MOSQ_ERR_SUCCESS.rawValue:
            if message.qos == .atMostOnce {
                continuation.resume()
            } else {
                pendingPublishes[mid] = (message.payload.count, continuation)
            }
        case MOSQ_ERR_NO_CONN.rawValue, MOSQ_ERR_CONN_LOST.rawValue, MOSQ_ERR_ERRNO.rawValue:
            // The connection broke under us before libmosquitto noticed. A QoS ≥ 1 message has
            // already been queued in libmosquitto's outgoing store under `mid` and is resent after
            // the reconnect; a QoS 0 message waits in our offline queue.
            if message.qos != .atMostOnce && mid != 0 {
                pendingPublishes[mid] = (message.payload.count, continuation)
            } else {
                offlineQueue.append((message, continuation))
            }
        case MOSQ_ERR_OVERSIZE_PACKET.rawValue, MOSQ_ERR_PAYLOAD_SIZE.rawValue:
            let limit = rc == MOSQ_ERR_PAYLOAD_SIZE.rawValue ? 268_435_455 : maximumPacketSize
            continuation.resume(
                throwing: MQTTError(
                    .payloadTooLarge(size: message.payload.count, limit: limit),
                    "\(label): a \(message.payload.count)-byte message to '\(message.topic)' exceeds the \(limit.map { "\($0)-byte " } ?? "")packet size limit the broker announced; send it in smaller chunks or raise the broker's max_packet_size"
                ))
        case MOSQ_ERR_INVAL.rawValue, MOSQ_ERR_MALFORMED_UTF8.rawValue:
            continuation.resume(
                throwing: MQTTError(
                    .invalidTopic(message.topic),
                    "\(label): cannot publish to '\(message.topic)': a publish topic must be non-empty UTF-8 without '+' or '#'"))
        default:
            continuation.resume(
                throwing: MQTTError(
                    .library(code: rc), "\(label): publish to '\(message.topic)' failed: \(String(cString: mosquitto_strerror(rc)))"))
        }
        loopRefreshInterest()
    }

    func loopPublishAcknowledged(mid: Int32, reasonCode: Int) {
        guard let pending = pendingPublishes.removeValue(forKey: mid) else { return }
        if pendingPublishes.isEmpty { pendingPublishes = [:] }  // give back the table's storage
        if reasonCode < 0x80 {
            pending.continuation.resume()
        } else if reasonCode == 0x95 {
            pending.continuation.resume(
                throwing: MQTTError(
                    .payloadTooLarge(size: pending.size, limit: nil),
                    "\(label): the broker refused a \(pending.size)-byte message as too large (its message_size_limit); send it in smaller chunks"
                ))
        } else {
            pending.continuation.resume(
                throwing: MQTTError(
                    .publishRejected(reasonCode: reasonCode),
                    "\(label): the broker refused a publish: \(MQTTError.reasonName(reasonCode)); for 'not authorized' check the broker's ACL for this client"
                ))
        }
    }

    func loopSubscribe(_ filter: String, qos: MQTTQoS, _ continuation: CheckedContinuation<MQTTQoS, any Error>) {
        if phase == .closed || phase == .disconnecting {
            continuation.resume(throwing: MQTTError(.closed, "\(label): cannot subscribe to '\(filter)': the client is closed"))
            return
        }
        guard mosquitto_sub_topic_check(filter) == MOSQ_ERR_SUCCESS.rawValue else {
            continuation.resume(
                throwing: MQTTError(
                    .invalidTopic(filter),
                    "\(label): '\(filter)' is not a valid topic filter: '+' and '#' must fill a whole level and '#' must be last"))
            return
        }
        if subscriptions[filter] == nil { subscriptionOrder.append(filter) }
        subscriptions[filter] = Subscription(qos: qos, confirmed: false)
        subscribeWaiters[filter, default: []].append(continuation)
        if phase == .connected { loopSendSubscribe(filter) }
    }

    func loopSendSubscribe(_ filter: String) {
        guard let mosq, let sub = subscriptions[filter] else { return }
        var mid: Int32 = 0
        let rc = mosquitto_subscribe_v5(mosq, &mid, filter, sub.qos.rawValue, 0, nil)
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            pendingSubAcks[mid] = filter
        } else if rc != MOSQ_ERR_NO_CONN.rawValue {
            loopSubscriptionFailed(
                filter,
                MQTTError(.library(code: rc), "\(label): subscribe to '\(filter)' failed: \(String(cString: mosquitto_strerror(rc)))"))
        }
        loopRefreshInterest()
    }

    func loopSubscribeAcknowledged(mid: Int32, granted: [Int32]) {
        guard let filter = pendingSubAcks.removeValue(forKey: mid) else { return }
        if pendingSubAcks.isEmpty { pendingSubAcks = [:] }  // give back the table's storage
        let code = Int(granted.first ?? 0x80)
        if code >= 0x80 {
            loopSubscriptionFailed(
                filter,
                MQTTError(
                    .subscriptionRejected(filter: filter, reasonCode: code),
                    "\(label): the broker refused the subscription to '\(filter)': \(MQTTError.reasonName(code)); check the broker's ACL for this client"
                ))
            return
        }
        subscriptions[filter]?.confirmed = true
        let ws = subscribeWaiters.removeValue(forKey: filter) ?? []
        if subscribeWaiters.isEmpty { subscribeWaiters = [:] }
        for w in ws { w.resume(returning: MQTTQoS(rawValue: Int32(code)) ?? .atMostOnce) }
    }

    private func loopSubscriptionFailed(_ filter: String, _ error: MQTTError) {
        subscriptions.removeValue(forKey: filter)
        subscriptionOrder.removeAll { $0 == filter }
        let ws = subscribeWaiters.removeValue(forKey: filter) ?? []
        for w in ws { w.resume(throwing: error) }
    }

    func loopUnsubscribe(_ filter: String, _ continuation: CheckedContinuation<Void, any Error>) {
        subscriptions.removeValue(forKey: filter)
        subscriptionOrder.removeAll { $0 == filter }
        guard phase == .connected, let mosq else {
            continuation.resume()
            return
        }
        var mid: Int32 = 0
        let rc = mosquitto_unsubscribe_v5(mosq, &mid, filter, nil)
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            pendingUnsubAcks[mid] = continuation
        } else {
            continuation.resume(
                throwing: MQTTError(
                    .library(code: rc), "\(label): unsubscribe from '\(filter)' failed: \(String(cString: mosquitto_strerror(rc)))"))
        }
        loopRefreshInterest()
    }

    func loopUnsubscribeAcknowledged(mid: Int32) {
        pendingUnsubAcks.removeValue(forKey: mid)?.resume()
    }
}
