public import FleetProtocol
import MQTT

extension MQTTTransport {
    /// The agent's connection: client id = device id, persistent session (chunks and the
    /// desired state queue while offline), the last will registered.
    public convenience init(broker: BrokerConfig, clientID: String, will: LastWill) throws(TransportError) {
        var c = MQTTConfiguration(host: broker.host, port: broker.port, clientID: clientID)
        c.cleanSession = false
        c.username = broker.username
        c.password = broker.password
        if broker.useTLS, let ca = broker.caFile {
            c.tls = MQTTConfiguration.TLS(caFile: ca, certificateFile: broker.certificateFile, keyFile: broker.keyFile)
        }
        c.will = MQTTMessage(topic: will.topic, payload: will.payload, qos: .atLeastOnce, retain: will.retain)
        do { try self.init(configuration: c) } catch { throw .failed(detail: "\(error)") }
    }
}
