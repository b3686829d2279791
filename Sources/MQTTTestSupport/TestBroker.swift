/// A broker a test can point clients at: Mosquitto or RabbitMQ, so one end-to-end harness runs
/// over either.
public protocol TestBroker: Sendable {
    /// The loopback address the MQTT listener is bound to.
    var host: String { get }
    /// The MQTT listener's port.
    var port: Int { get }
    /// What the broker logged so far, for failure messages.
    var log: String { get }
    /// Stops the broker cleanly and waits for it to exit.
    func stop() async throws
}

extension MosquittoBroker: TestBroker {}
