internal import CMosquitto

// Falling back from MQTT 5 to 3.1.1 (`MQTTConfiguration.fallBackToV311`). Runs on the event
// loop thread, like every `loop…` method.
extension ClientCore {
    /// The protocol fallback of `MQTTConfiguration.fallBackToV311`, before the first CONNACK
    /// only. Returns true when it started the next attempt itself (at once: the broker answered,
    /// so there is nothing to back off from).
    func loopFallBack(after error: MQTTError, beforeConnack: Bool) -> Bool {
        if !configuration.fallBackToV311, protocolVersion == .v5, beforeConnack, error.code == .connectionLost, !warnedAboutVersion {
            // Otherwise a client pointed at a 3.1.1-only broker retries at debug level forever.
            warnedAboutVersion = true
            logger.warning(
                "\(label): the broker closed the connection before answering the MQTT 5 CONNECT; if it speaks only MQTT 3.1.1 (RabbitMQ before 3.13), set the protocol to \"3.1.1\" or \"auto\""
            )
        }
        guard configuration.fallBackToV311, configuration.protocolVersion == .v5, let mosq else { return false }
        if protocolVersion == .v311 {
            // The 3.1.1 attempt failed as well: the next one asks for MQTT 5 again.
            try? setProtocolVersion(.v5, on: mosq)
            return false
        }
        let refusedVersion = error.code == .connectionRejected(reasonCode: 0x84)
        let closedBeforeConnack = beforeConnack && error.code == .connectionLost
        guard refusedVersion || closedBeforeConnack else { return false }
        do { try setProtocolVersion(.v311, on: mosq) } catch {
            logger.error("\(error.message)")
            return false
        }
        let why = refusedVersion ? "refused MQTT 5 (unsupported protocol version)" : "closed an MQTT 5 connection before its CONNACK"
        logger.warning("\(label): the broker \(why); trying MQTT 3.1.1 (protocol \"auto\")")
        // Through the timer rather than from here: this may run inside libmosquitto's
        // disconnect callback, where the handle must not be reconnected.
        let now = ContinuousClock.now
        phase = .waitingToReconnect(at: now)
        loop.wake(by: now)
        return true
    }
}
