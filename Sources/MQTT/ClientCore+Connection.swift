internal import CMosquitto
import Foundation
import Glibc

// Connection lifecycle: connect attempts (blocking connect on a worker), socket I/O on the loop,
// CONNACK, loss, reconnect with backoff, graceful and abrupt close. All `loop…` methods run on
// the event loop thread.
extension ClientCore {
    func loopConnect(retrying: Bool, continuation: CheckedContinuation<Bool, any Error>) {
        switch phase {
        case .closed, .disconnecting:
            continuation.resume(throwing: MQTTError(.closed, "\(label): the client is closed; create a new client to connect again"))
        case .connected:
            continuation.resume(returning: true)
        case .connecting, .awaitingConnack, .waitingToReconnect:
            if retrying { retryInitialConnect = true }
            connectWaiters.append(continuation)
        case .idle:
            retryInitialConnect = retrying
            connectWaiters.append(continuation)
            loop.adopt(self)
            loopStartAttempt()
        }
    }

    /// Starts one connection attempt.
    ///
    /// When the CONNECT needs no properties (MQTT 3.1.1, or a clean session) and the host is an
    /// IP literal (no DNS lookup to block on), libmosquitto's non-blocking connect runs right
    /// here on the loop. Otherwise — an MQTT 5 persistent session needs a session-expiry
    /// property, which libmosquitto 2.0's asynchronous connect cannot send — the blocking
    /// `mosquitto_connect_bind_v5` runs on a connect worker and hands the socket back.
    func loopStartAttempt() {
        guard let mosq else { return }
        phase = .connecting
        lastRefusal = nil
        lastLibraryError = nil
        loop.unwatch(self)
        if let provider = configuration.willProvider {
            // A will that cannot be set keeps the previous one; the connection still matters more.
            do { try setWill(provider(), on: mosq) } catch { logger.error("\(error.message)") }
        }
        let host = configuration.host, port = Int32(configuration.port), keepAlive = Int32(configuration.keepAlive)
        let props = makeConnectProperties()
        // libmosquitto keeps the CONNECT properties of a blocking connect in the handle, and its
        // asynchronous connect refuses a handle holding some once the protocol is 3.1.1 (NOT
        // SUPPORTED): after a fallback from a persistent MQTT 5 attempt only the blocking call,
        // given no properties, clears them. So a client that may fall back stays on that path.
        let mayHoldProperties = configuration.fallBackToV311 && !configuration.cleanSession
        if props == nil && Self.isIPLiteral(host) && !mayHoldProperties {
            let rc = mosquitto_connect_bind_async(mosq, host, port, keepAlive, nil)
            loopAttemptReturned(rc: rc, errno: errno)
            return
        }
        nonisolated(unsafe) let handle = mosq
        nonisolated(unsafe) var ownedProps = props
        loop.connectQueue.async { [self] in
            let rc = mosquitto_connect_bind_v5(handle, host, port, keepAlive, nil, ownedProps)
            let savedErrno = errno
            mosquitto_property_free_all(&ownedProps)
            loop.execute { [self] in loopAttemptReturned(rc: rc, errno: savedErrno) }
        }
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    private func loopAttemptReturned(rc: Int32, errno savedErrno: Int32) {
        guard phase == .connecting else {
            // Closed while the worker connected: finish the close now that the handle is ours.
            loopDestroyHandle()
            return
        }
        guard rc == MOSQ_ERR_SUCCESS.rawValue, let mosq else {
            loopConnectionEnded(error: connectError(rc: rc, errno: savedErrno))
            return
        }
        let deadline = ContinuousClock.now + configuration.connectTimeout
        phase = .awaitingConnack(deadline: deadline)
        loop.wake(by: deadline)
        loop.watch(self, fd: mosquitto_socket(mosq), wantWrite: mosquitto_want_write(mosq))
    }

    private func connectError(rc: Int32, errno e: Int32) -> MQTTError {
        let target = "\(configuration.host):\(configuration.port)"
        switch rc {
        case MOSQ_ERR_ERRNO.rawValue where e == ECONNREFUSED:
            return MQTTError(
                .connectionRefused, "\(label): connection refused — no MQTT broker listens on \(target); start the broker or fix host/port")
        case MOSQ_ERR_EAI.rawValue:
            return MQTTError(
                .hostNotFound, "\(label): host '\(configuration.host)' could not be resolved; check the broker address and DNS")
        case MOSQ_ERR_TLS.rawValue, MOSQ_ERR_TLS_HANDSHAKE.rawValue:
            return tlsError()
        case MOSQ_ERR_ERRNO.rawValue:
            return MQTTError(.connectionLost, "\(label): could not connect to \(target): \(String(cString: strerror(e)))")
        default:
            return MQTTError(.library(code: rc), "\(label): could not connect to \(target): \(String(cString: mosquitto_strerror(rc)))")
        }
    }

    func tlsError() -> MQTTError {
        let detail = lastLibraryError.map { " (\($0))" } ?? ""
        return MQTTError(
            .tlsFailure,
            "\(label): TLS handshake failed\(detail); check that the CA file signed the broker's certificate, that the certificate names this host, and that a client certificate is given if the broker requires one"
        )
    }

    /// Socket readiness from epoll.
    func handleIO(readable: Bool, writable: Bool) {
        guard let mosq, isSocketPhase else { return }
        if readable {
            let rc = mosquitto_loop_read(mosq, 1)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                loopSocketFailed(rc: rc)
                return
            }
        }
        if writable || mosquitto_want_write(mosq) {
            let rc = mosquitto_loop_write(mosq, 1)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                loopSocketFailed(rc: rc)
                return
            }
        }
        loopRefreshInterest()
    }

    var isSocketPhase: Bool {
        switch phase {
        case .awaitingConnack, .connected, .disconnecting: true
        default: false
        }
    }

    func loopRefreshInterest() {
        guard let mosq, isSocketPhase else { return }
        let fd = mosquitto_socket(mosq)
        if fd >= 0 { loop.watch(self, fd: fd, wantWrite: mosquitto_want_write(mosq)) }
    }

    /// A libmosquitto loop call failed. libmosquitto has already closed the socket and called
    /// on_disconnect for most failures, in which case the phase has moved on and this is a no-op.
    private func loopSocketFailed(rc: Int32) {
        guard isSocketPhase else { return }
        let savedErrno = errno
        let error: MQTTError
        if case .awaitingConnack = phase, rc == MOSQ_ERR_ERRNO.rawValue {
            // A non-blocking connect that failed surfaces here (ECONNREFUSED, EHOSTUNREACH...).
            error = connectError(rc: rc, errno: savedErrno)
        } else if let refusal = lastRefusal {
            error = refusalError(refusal)
        } else if rc == MOSQ_ERR_TLS.rawValue || rc == MOSQ_ERR_TLS_HANDSHAKE.rawValue {
            error = tlsError()
        } else {
            error = MQTTError(.connectionLost, "\(label): connection lost: \(String(cString: mosquitto_strerror(rc)))")
        }
        loopConnectionEnded(error: error)
    }

    func refusalError(_ code: Int) -> MQTTError {
        MQTTError(
            .connectionRejected(reasonCode: code),
            "\(label): the broker refused the connection: \(MQTTError.reasonName(code)); \(MQTTError.connackAdvice(code))")
    }

    /// CONNACK accepted.
    func loopConnected(sessionPresent: Bool) {
        phase = .connected
        connected.store(true, ordering: .relaxed)
        everConnected = true
        reconnectAttempt = 0
        events.yield(.connected(sessionPresent: sessionPresent))
        if !sessionPresent {
            for filter in subscriptionOrder { subscriptions[filter]?.confirmed = false }
        }
        for filter in subscriptionOrder where subscriptions[filter]?.confirmed == false {
            loopSendSubscribe(filter)
        }
        let queued = offlineQueue
        offlineQueue.removeAll()
        for item in queued { loopPublish(item.message, item.continuation) }
        let waiters = connectWaiters
        connectWaiters.removeAll()
        for w in waiters { w.resume(returning: sessionPresent) }
        loopRefreshInterest()
    }

    /// The connection (or attempt) ended with `error`; nil means a disconnect we asked for.
    func loopConnectionEnded(error: MQTTError?) {
        let wasConnected = phase == .connected
        var beforeConnack = false
        if case .awaitingConnack = phase { beforeConnack = true }
        connected.store(false, ordering: .relaxed)
        loop.unwatch(self)
        if phase == .disconnecting {
            loopFinishClose(error: nil)
            return
        }
        if phase == .closed { return }
        if let error { logger.debug("\(error.message)") }
        if wasConnected { events.yield(.disconnected(error)) }

        let initial = !everConnected
        if initial, let error, loopFallBack(after: error, beforeConnack: beforeConnack) { return }
        if initial && !retryInitialConnect {
            phase = .idle
            let waiters = connectWaiters
            connectWaiters.removeAll()
            for w in waiters { w.resume(throwing: error ?? MQTTError(.connectionLost, "\(label): connection lost")) }
            return
        }
        guard configuration.reconnect.enabled else {
            loopFinishClose(error: error ?? MQTTError(.connectionLost, "\(label): connection lost and reconnect is disabled"))
            return
        }
        reconnectAttempt += 1
        let delay = configuration.reconnect.delay(attempt: reconnectAttempt, random: Double.random(in: 0...1))
        var at = ContinuousClock.now + delay
        if let notBefore = reconnectNotBefore {
            at = max(at, notBefore)
            reconnectNotBefore = nil
        }
        phase = .waitingToReconnect(at: at)
        loop.wake(by: at)
        events.yield(.reconnecting(attempt: reconnectAttempt, delay: delay))
    }

    /// Timers: keepalive, CONNACK timeout, reconnect. Called by the loop at least twice a second.
    func tick(now: ContinuousClock.Instant) {
        switch phase {
        case .connected:
            if let mosq {
                let rc = mosquitto_loop_misc(mosq)
                if rc != MOSQ_ERR_SUCCESS.rawValue { loopSocketFailed(rc: rc) } else { loopRefreshInterest() }
            }
        case .awaitingConnack(let deadline):
            if now >= deadline {
                if let mosq, mosquitto_socket(mosq) >= 0 { shutdown(mosquitto_socket(mosq), Int32(SHUT_RDWR)) }
                loopConnectionEnded(
                    error: MQTTError(
                        .timedOut,
                        "\(label): no CONNACK within \(configuration.connectTimeout); the broker is unreachable or overloaded, or the port is not an MQTT listener (TLS on a plain port?)"
                    ))
            } else {
                loop.wake(by: deadline)
            }
        case .waitingToReconnect(let at):
            if now >= at { loopStartAttempt() } else { loop.wake(by: at) }
        case .disconnecting:
            if let d = disconnectDeadline, now >= d { loopFinishClose(error: nil) }
        default:
            break
        }
    }

    /// Graceful close: DISCONNECT (the broker drops the last will), then destroy.
    func loopDisconnect(waiter: CheckedContinuation<Void, Never>?) {
        if phase == .closed {
            waiter?.resume()
            return
        }
        if let waiter { disconnectWaiters.append(waiter) }
        switch phase {
        case .connected:
            phase = .disconnecting
            if let mosq {
                _ = mosquitto_disconnect_v5(mosq, 0, nil)
                loopRefreshInterest()
                // Bound the wait for the DISCONNECT to be written to a broker that stopped reading.
                let deadline = ContinuousClock.now + .seconds(2)
                disconnectDeadline = deadline
                loop.wake(by: deadline)
            }
        case .disconnecting:
            break
        default:
            loopFinishClose(error: nil)
        }
    }

    /// Abrupt close: the socket goes away without DISCONNECT, as when a device loses power (the
    /// broker publishes the last will).
    func loopAbort() {
        loopFinishClose(error: nil)
    }

    /// Closes the TCP connection under libmosquitto's feet; with reconnect enabled the client
    /// comes back by itself. For fault-injection tests and the fleet simulator.
    func loopDropConnection(offlineFor: Duration) {
        guard let mosq, isSocketPhase else { return }
        reconnectNotBefore = offlineFor > .zero ? ContinuousClock.now + offlineFor : nil
        let fd = mosquitto_socket(mosq)
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    func loopFinishClose(error: MQTTError?) {
        guard phase != .closed else { return }
        let workerOwnsHandle = phase == .connecting
        phase = .closed
        connected.store(false, ordering: .relaxed)
        loop.forget(self)
        let closedError = error ?? MQTTError(.closed, "\(label): the client was closed before the operation completed")
        for w in connectWaiters { w.resume(throwing: closedError) }
        connectWaiters.removeAll()
        for (_, p) in pendingPublishes { p.continuation.resume(throwing: closedError) }
        pendingPublishes.removeAll()
        for item in offlineQueue { item.continuation.resume(throwing: closedError) }
        offlineQueue.removeAll()
        for (_, ws) in subscribeWaiters { for w in ws { w.resume(throwing: closedError) } }
        subscribeWaiters.removeAll()
        for (_, w) in pendingUnsubAcks { w.resume(throwing: closedError) }
        pendingUnsubAcks.removeAll()
        for w in disconnectWaiters { w.resume() }
        disconnectWaiters.removeAll()
        events.yield(.disconnected(error))
        events.finish()
        messages.finish()
        // libmosquitto must not be destroyed from inside one of its own callbacks, nor while a
        // connect worker still uses the handle (that worker destroys it when it hands back).
        if !workerOwnsHandle {
            loop.execute { [self] in loopDestroyHandle() }
        }
    }

    func loopDestroyHandle() {
        if let mosq {
            mosquitto_destroy(mosq)
            self.mosq = nil
        }
    }
}
