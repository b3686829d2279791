/// A tiny MQTT-like broker in process, for fast unit tests of anything that speaks through
/// `MessageTransport`: retained messages (an empty retained payload clears one), wildcard and
/// shared subscriptions (round-robin within a group; no retained delivery to shared
/// subscriptions, as in MQTT 5), last wills published on an unclean disconnect.
///
/// Deliberately simpler than a broker: every message reaches every matching connected
/// subscriber whatever the QoS, there are no persistent sessions, and order is publish order.
/// Loss, limits and reconnects are tested against a real Mosquitto.
public actor InMemoryBroker {
    struct Subscription {
        var id: Int
        var clientID: String
        var filter: TopicFilter
        var continuation: AsyncStream<InboundMessage>.Continuation
    }

    private var retained: [String: [UInt8]] = [:]
    private var subscriptions: [Subscription] = []
    private var connected: [String: LastWill?] = [:]
    private var eventStreams: [String: [AsyncStream<ConnectionEvent>.Continuation]] = [:]
    private var nextID = 0
    private var roundRobin: [String: Int] = [:]

    public init() {}

    /// A transport for one client; connect it before use.
    public nonisolated func client(_ clientID: String) -> InMemoryTransport {
        InMemoryTransport(broker: self, clientID: clientID)
    }

    /// What is retained on `topic` right now (for assertions).
    public func retainedMessage(on topic: String) -> [UInt8]? { retained[topic] }

    func connect(_ clientID: String, will: LastWill?) {
        connected[clientID] = .some(will)
        for c in eventStreams[clientID] ?? [] { c.yield(.connected) }
    }

    func disconnect(_ clientID: String, clean: Bool) {
        guard let entry = connected.removeValue(forKey: clientID) else { return }
        for s in subscriptions where s.clientID == clientID { s.continuation.finish() }
        subscriptions.removeAll { $0.clientID == clientID }
        for c in eventStreams[clientID] ?? [] { c.yield(.disconnected(reason: clean ? "disconnected" : "connection lost")) }
        if !clean, let will = entry {
            route(topic: will.topic, payload: will.payload, retain: will.retain)
        }
    }

    func publish(_ clientID: String, topic: String, payload: [UInt8], retain: Bool) throws(TransportError) {
        guard connected[clientID] != nil else { throw .notConnected(clientID: clientID) }
        try TopicFilter.validatePublishTopic(topic)
        route(topic: topic, payload: payload, retain: retain)
    }

    private func route(topic: String, payload: [UInt8], retain: Bool) {
        if retain { retained[topic] = payload.isEmpty ? nil : payload }
        var groups: [String: [Subscription]] = [:]
        for s in subscriptions where s.filter.matches(topic) {
            if let group = s.filter.shareGroup {
                groups["\(group)\u{0}\(s.filter.filter)", default: []].append(s)
            } else {
                s.continuation.yield(InboundMessage(topic: topic, payload: payload, retained: false))
            }
        }
        for (key, members) in groups.sorted(by: { $0.key < $1.key }) {
            let turn = roundRobin[key, default: 0]
            roundRobin[key] = turn + 1
            members[turn % members.count].continuation.yield(InboundMessage(topic: topic, payload: payload, retained: false))
        }
    }

    func subscribe(_ clientID: String, filter text: String) throws(TransportError) -> AsyncStream<InboundMessage> {
        guard connected[clientID] != nil else { throw .notConnected(clientID: clientID) }
        let filter = try TopicFilter(text)
        let (stream, continuation) = AsyncStream<InboundMessage>.makeStream()
        if filter.shareGroup == nil {
            for (topic, payload) in retained.sorted(by: { $0.key < $1.key }) where filter.matches(topic) {
                continuation.yield(InboundMessage(topic: topic, payload: payload, retained: true))
            }
        }
        nextID += 1
        subscriptions.append(Subscription(id: nextID, clientID: clientID, filter: filter, continuation: continuation))
        return stream
    }

    func events(_ clientID: String) -> AsyncStream<ConnectionEvent> {
        let (stream, continuation) = AsyncStream<ConnectionEvent>.makeStream()
        eventStreams[clientID, default: []].append(continuation)
        return stream
    }
}

/// One client of an `InMemoryBroker`.
public struct InMemoryTransport: MessageTransport {
    public let broker: InMemoryBroker
    public let clientID: String

    init(broker: InMemoryBroker, clientID: String) {
        self.broker = broker
        self.clientID = clientID
    }

    public func connect(will: LastWill? = nil) async {
        await broker.connect(clientID, will: will)
    }

    /// `clean: false` simulates a lost connection: the broker publishes the last will.
    public func disconnect(clean: Bool = true) async {
        await broker.disconnect(clientID, clean: clean)
    }

    public func publish(topic: String, payload: [UInt8], qos: QoS, retain: Bool) async throws(TransportError) {
        try await broker.publish(clientID, topic: topic, payload: payload, retain: retain)
    }

    public func subscribe(_ filter: String, qos: QoS) async throws(TransportError) -> AsyncStream<InboundMessage> {
        try await broker.subscribe(clientID, filter: filter)
    }

    public func connectionEvents() async -> AsyncStream<ConnectionEvent> {
        await broker.events(clientID)
    }
}
