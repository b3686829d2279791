public import FleetProtocol
import MQTT

extension MQTTTransport {
    /// A fleet connection: persistent session (an agent's chunks and desired state, a
    /// coordinator's events and telemetry queue while it is offline), the configured MQTT
    /// version (`BrokerProtocol`), and `will()` asked before every connection attempt for that
    /// connection's last will (an agent's carries the connection's sequence).
    public convenience init(broker: BrokerConfig, clientID: String, will: (@Sendable () -> LastWill)? = nil) throws(TransportError) {
        var c = MQTTConfiguration(host: broker.host, port: broker.port, clientID: clientID)
        c.cleanSession = false
        c.protocolVersion = broker.mqttProtocol == .v311 ? .v311 : .v5
        c.fallBackToV311 = broker.mqttProtocol == .auto
        c.username = broker.username
        c.password = broker.password
        if broker.useTLS, let ca = broker.caFile {
            c.tls = MQTTConfiguration.TLS(caFile: ca, certificateFile: broker.certificateFile, keyFile: broker.keyFile)
        }
        if let will {
            c.willProvider = {
                let w = will()
                return MQTTMessage(topic: w.topic, payload: w.payload, qos: .atLeastOnce, retain: w.retain)
            }
        }
        do { try self.init(configuration: c) } catch { throw .failed(detail: "\(error)") }
    }
}
