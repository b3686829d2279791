internal import CMosquitto
import Foundation
import Glibc
import Logging
import Synchronization

/// The per-client machinery behind `MQTTClient`: owns the libmosquitto handle and all mutable
/// connection state.
///
/// Proof of `@unchecked Sendable`: every mutable stored property is read and written only on
/// the owning event loop's thread (methods named `loop…` and the libmosquitto callbacks, which
/// libmosquitto invokes from inside `mosquitto_loop_*` calls made on that thread). The single
/// exception is `mosq` during a blocking connect, which runs on a connect worker while `phase`
/// is `.connecting`; in that phase the loop makes no libmosquitto call for this client, and the
/// hand-over in both directions goes through the loop's mutex-protected work queue.
/// `connected` is an Atomic for lock-free reads from any thread.
final class ClientCore: @unchecked Sendable {
    enum Phase: Equatable {
        case idle
        case connecting
        case awaitingConnack(deadline: ContinuousClock.Instant)
        case connected
        case waitingToReconnect(at: ContinuousClock.Instant)
        case disconnecting
        case closed
    }

    struct Subscription {
        var qos: MQTTQoS
        var confirmed: Bool
    }

    let token: UInt64
    let configuration: MQTTConfiguration
    unowned(unsafe) let loop: MQTTEventLoop
    let messages: AsyncStream<MQTTMessage>.Continuation
    /// When set, messages go to this handler on the loop thread instead of `messages`.
    let messageHandler: (@Sendable (MQTTMessage) -> Void)?
    let events: AsyncStream<MQTTConnectionEvent>.Continuation
    let connected = Atomic<Bool>(false)
    /// The protocol version of the next (or current) CONNECT: `configuration.protocolVersion`
    /// until a fallback to 3.1.1 (`fallBackToV311`). Written on the loop thread, read anywhere.
    let speaksV5: Atomic<Bool>
    var protocolVersion: MQTTProtocolVersion { speaksV5.load(ordering: .relaxed) ? .v5 : .v311 }

    var mosq: OpaquePointer?
    var phase: Phase = .idle
    var everConnected = false
    var retryInitialConnect = false
    var reconnectAttempt = 0
    var lastLibraryError: String?
    var lastRefusal: Int?
    /// Set once the hint about a 3.1.1-only broker has been logged (see loopFallBack).
    var warnedAboutVersion = false
    var maximumPacketSize: Int?
    var disconnectDeadline: ContinuousClock.Instant?
    /// Set by `loopDropConnection(offlineFor:)`: the next reconnect waits at least until then.
    var reconnectNotBefore: ContinuousClock.Instant?

    var connectWaiters: [CheckedContinuation<Bool, any Error>] = []
    var disconnectWaiters: [CheckedContinuation<Void, Never>] = []
    var pendingPublishes: [Int32: (size: Int, continuation: CheckedContinuation<Void, any Error>)] = [:]
    var offlineQueue: [(message: MQTTMessage, continuation: CheckedContinuation<Void, any Error>)] = []
    var subscriptions: [String: Subscription] = [:]
    var subscriptionOrder: [String] = []
    var subscribeWaiters: [String: [CheckedContinuation<MQTTQoS, any Error>]] = [:]
    var pendingSubAcks: [Int32: String] = [:]
    var pendingUnsubAcks: [Int32: CheckedContinuation<Void, any Error>] = [:]

    private static let nextToken = Atomic<UInt64>(1)

    init(
        configuration: MQTTConfiguration, loop: MQTTEventLoop,
        messages: AsyncStream<MQTTMessage>.Continuation,
        messageHandler: (@Sendable (MQTTMessage) -> Void)?,
        events: AsyncStream<MQTTConnectionEvent>.Continuation
    ) throws(MQTTError) {
        self.token = Self.nextToken.add(1, ordering: .relaxed).newValue
        self.configuration = configuration
        self.loop = loop
        self.messages = messages
        self.messageHandler = messageHandler
        self.events = events
        self.speaksV5 = Atomic(configuration.protocolVersion == .v5)
        MosquittoLibrary.initializeOnce()
        try validate(configuration)
        guard let handle = mosquitto_new(configuration.clientID, configuration.cleanSession, Unmanaged.passUnretained(self).toOpaque())
        else {
            throw MQTTError(
                .invalidConfiguration,
                "\(label): libmosquitto could not create a client (\(String(cString: strerror(errno)))); a persistent session needs a non-empty client id"
            )
        }
        mosq = handle
        do {
            try configure(handle)
        } catch {
            mosquitto_destroy(handle)
            mosq = nil
            throw error
        }
        installCallbacks(handle)
    }

    var logger: Logger { configuration.logger ?? MQTTConfiguration.defaultLogger }

    /// "client 'id' → host:port", for messages.
    var label: String { "MQTT client '\(configuration.clientID)' → \(configuration.host):\(configuration.port)" }

    private func validate(_ c: MQTTConfiguration) throws(MQTTError) {
        guard (1...65535).contains(c.port) else {
            throw MQTTError(.invalidConfiguration, "\(label): port \(c.port) is out of range; use 1–65535 (1883 plain, 8883 TLS)")
        }
        guard c.keepAlive >= 5, c.keepAlive <= 65535 else {
            throw MQTTError(.invalidConfiguration, "\(label): keepAlive \(c.keepAlive) s is out of range; libmosquitto needs 5–65535 s")
        }
        if !c.cleanSession && c.clientID.isEmpty {
            throw MQTTError(
                .invalidConfiguration, "\(label): a persistent session (cleanSession false) needs a stable, non-empty client id")
        }
        if let tls = c.tls {
            for (what, path) in [("CA file", tls.caFile), ("client certificate", tls.certificateFile), ("client key", tls.keyFile)] {
                guard let path else { continue }
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw MQTTError(
                        .invalidConfiguration,
                        "\(label): TLS \(what) '\(path)' does not exist or is not readable; fix the path or its permissions")
                }
            }
            if (tls.certificateFile == nil) != (tls.keyFile == nil) {
                throw MQTTError(
                    .invalidConfiguration,
                    "\(label): a TLS client certificate needs its key and a key needs its certificate; set both or neither")
            }
        }
    }

    private func configure(_ handle: OpaquePointer) throws(MQTTError) {
        let c = configuration
        try setProtocolVersion(c.protocolVersion, on: handle)
        _ = mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1)
        try check(mosquitto_max_inflight_messages_set(handle, UInt32(max(1, min(65535, c.maxInflightMessages)))), "set max inflight")
        if c.username != nil || c.password != nil {
            try check(mosquitto_username_pw_set(handle, c.username, c.password), "set username/password")
        }
        if let tls = c.tls {
            try check(
                mosquitto_tls_set(handle, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil), "load TLS files (CA '\(tls.caFile)')")
            try check(mosquitto_tls_insecure_set(handle, tls.insecureSkipHostnameVerification), "set TLS host name verification")
        }
        if let will = c.will { try setWill(will, on: handle) }
    }

    func setProtocolVersion(_ version: MQTTProtocolVersion, on handle: OpaquePointer) throws(MQTTError) {
        let code: Int32 = version == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, code), "set protocol version")
        speaksV5.store(version == .v5, ordering: .relaxed)
    }

    /// `mosquitto_will_set_v5` keeps the will in the handle and sends it with the next CONNECT,
    /// so calling it between attempts changes the will of the next connection only.
    func setWill(_ will: MQTTMessage, on handle: OpaquePointer) throws(MQTTError) {
        var props: OpaquePointer? = protocolVersion == .v5 ? try will.properties.makeMosquittoList() : nil
        let rc = will.payload.withUnsafeBytes {
            mosquitto_will_set_v5(handle, will.topic, Int32($0.count), $0.baseAddress, will.qos.rawValue, will.retain, props)
        }
        if rc != MOSQ_ERR_SUCCESS.rawValue { mosquitto_property_free_all(&props) }  // owned by the library on success only
        try check(rc, "set last will on '\(will.topic)'")
    }

    private func check(_ rc: Int32, _ action: String) throws(MQTTError) {
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            throw MQTTError(.invalidConfiguration, "\(label): could not \(action): \(String(cString: mosquitto_strerror(rc)))")
        }
    }

    /// The CONNECT properties: MQTT 5 needs a session expiry interval for a session to outlive
    /// the connection (clean start alone does not keep it).
    func makeConnectProperties() -> OpaquePointer? {
        guard protocolVersion == .v5, !configuration.cleanSession else { return nil }
        var list: OpaquePointer? = nil
        _ = mosquitto_property_add_int32(&list, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), configuration.sessionExpiry)
        return list
    }
}

/// libmosquitto's process-wide initialisation, done once.
enum MosquittoLibrary {
    private static let initialized: Bool = {
        _ = mosquitto_lib_init()
        // A peer closing a socket must surface as an error code, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    static func initializeOnce() { _ = initialized }
}
