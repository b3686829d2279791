public import FleetProtocol
import Foundation
public import Logging
import ModelArtifact

/// The coordinator: keeps the device registry from what agents report, builds releases per
/// hardware class, steps every active rollout, signs and publishes desired states, serves
/// artifact chunks, aggregates telemetry, and answers the operator API
/// (`CoordinatorOperations`).
///
/// One actor owns the mutable parts; every durable fact lives in the store first
/// (`CoordinatorStore`), so a restarted coordinator — or another one on the same database —
/// carries on from there. Device messages arrive on tasks, one per subscription.
public actor CoordinatorService {
    public let config: CoordinatorConfig
    let store: any CoordinatorStore
    var keyring: SigningKeyring
    let transport: any MessageTransport
    let chunks: ChunkPublisher
    let logger: Logger
    var tasks: [Task<Void, Never>] = []
    var builds: [String: Task<Void, Never>] = [:]
    var buildProgress: [String: BuildProgressNote] = [:]
    var counters = ServiceCounters()
    /// Per-device rate limits, consulted by the subscription tasks before decoding.
    let ingestGate: IngestGate
    /// Telemetry received since the last flush, merged in one transaction by `flushTelemetry`.
    var pendingTelemetry: [TelemetryMergeItem] = []
    /// Hardware classes of the devices whose telemetry arrived since the last flush.
    var telemetryClasses: [String: String?] = [:]
    /// Rollouts being stepped right now (see `step`).
    var stepping: Set<String> = []
    /// False on MQTT 3.1.1, where every coordinator hears every device message (see `start`).
    var sharesDeviceMessages = true
    /// The coordinator's name in leases and audit entries.
    var holder: String { config.clientID }

    public init(
        config: CoordinatorConfig, store: any CoordinatorStore, transport: any MessageTransport,
        logger: Logger = Logger(label: "flotilla.coordinator")
    ) throws(CoordinatorServiceError) {
        self.config = config
        self.store = store
        self.transport = transport
        self.logger = logger
        ingestGate = IngestGate(budget: config.ingestBudget)
        do { keyring = try SigningKeyring.open(dataDirectory: config.dataDirectory) } catch {
            throw .keyring(detail: "\(error)")
        }
        let log = logger
        chunks = ChunkPublisher(
            transport: transport, bytesPerSecond: config.chunkBandwidthBytesPerSecond, log: { log.warning("\($0)") })
        for dir in ["artifacts", "uploads"] {
            let url = config.dataDirectory.appendingPathComponent(dir)
            do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
                throw .dataDirectory(path: url.path, detail: "\(error)")
            }
        }
    }

    /// How long a received summary may wait in memory before it is in the store: the most
    /// telemetry a coordinator crash loses, and the extra delay before a gate sees it.
    static let telemetryFlushInterval: Duration = .seconds(1)
    /// A flush also happens as soon as this many summaries wait, which bounds the memory and
    /// the length of one transaction under a burst.
    static let telemetryBatchLimit = 20_000

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Life cycle

    /// Subscribes to the devices' topics and starts the rollout and retention loops. Builds
    /// that a previous run left unfinished are marked failed (their inputs are kept: add the
    /// release again under a new version).
    public func start() async throws(CoordinatorServiceError) {
        failInterruptedBuilds()
        // State and online status are read by every coordinator (retained messages are not
        // sent to shared subscriptions, and the store ignores stale reports); the rest is split
        // among the coordinators of the group.
        // On MQTT 3.1.1 there are no shared subscriptions: this coordinator takes in everything
        // (docs/brokers.md; the store deduplicates, a lease picks who answers chunk requests).
        let plain: [Topics.DeviceTopic] = [.state, .online]
        let shared: [Topics.DeviceTopic] = [.events, .telemetry, .chunkRequest]
        let sharing = await transport.supportsSharedSubscriptions
        sharesDeviceMessages = sharing
        for kind in plain { try await subscribe(Topics.deviceFilter(kind)) }
        for kind in shared { try await subscribe(sharing ? Topics.sharedDeviceFilter(kind) : Topics.deviceFilter(kind)) }
        if !sharing {
            logger.notice(
                "MQTT 3.1.1: no shared subscriptions; this coordinator receives every device message (events and telemetry are deduplicated by the store, chunk requests answered by the holder of the chunk-requests lease; docs/brokers.md)"
            )
        }
        let tick = config.tickSeconds
        tasks.append(
            Task { [weak self] in
                while !Task.isCancelled {
                    await self?.stepRollouts()
                    try? await Task.sleep(for: .seconds(tick))
                }
            })
        tasks.append(
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.telemetryFlushInterval)
                    await self?.flushTelemetry()
                }
            })
        tasks.append(
            Task { [weak self] in
                while !Task.isCancelled {
                    await self?.applyRetention()
                    try? await Task.sleep(for: .seconds(300))
                }
            })
        logger.info("coordinator \(holder) started; data in \(config.dataDirectory.path)")
    }

    /// Stops the loops and the chunk publisher, and stores the telemetry still waiting; builds
    /// in flight are cancelled.
    public func stop() async {
        for t in tasks { t.cancel() }
        tasks = []
        flushTelemetry()
        for (_, b) in builds { b.cancel() }
        builds = [:]
        await chunks.stop()
    }

    /// A one-line status for the service manager, answered on the actor: the systemd watchdog
    /// awaits it before every keep-alive, so an actor that stops answering stops the pings.
    /// Builds run off the actor and do not delay it.
    public func heartbeat() -> String {
        "\(builds.count) build(s) running, \(stepping.count) rollout(s) stepping, \(counters.desiredPublished) desired states published"
    }

    func subscribe(_ filter: String) async throws(CoordinatorServiceError) {
        let stream: AsyncStream<InboundMessage>
        do { stream = try await transport.subscribe(filter, qos: .atLeastOnce) } catch {
            throw .transport(detail: "subscribing to \(filter): \(error)")
        }
        let gate = ingestGate
        tasks.append(
            Task { [weak self] in
                for await m in stream {
                    guard gate.admit(topic: m.topic, nowMs: Self.nowMs()) else { continue }
                    let decoded = Self.decode(m)
                    await self?.ingest(m, decoded: decoded)
                }
            })
    }

    func applyRetention() {
        let cutoff = Self.nowMs() - Int64(config.telemetryRetentionSeconds) * 1000
        do {
            let removed = try store.deleteTelemetry(olderThanMs: cutoff)
            if removed > 0 { logger.info("telemetry retention removed \(removed) buckets") }
        } catch { logger.error("telemetry retention failed: \(error)") }
    }

    func audit(_ actor: String, _ action: String, _ target: String, _ detail: [String: String] = [:]) {
        let json = (try? JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
        do {
            _ = try store.appendAudit(
                AuditEntry(atMs: Self.nowMs(), actor: actor, action: action, target: target, detailJSON: json ?? "{}"))
        } catch {
            logger.error("audit entry '\(action) \(target)' by \(actor) not written: \(error)")
        }
    }
}

/// What the service counts for `/metrics`.
struct ServiceCounters: Sendable {
    var messages: [String: Int] = [:]
    var dropped: [String: Int] = [:]
    var desiredPublished = 0
    var telemetryMerged = 0
    var telemetryDuplicates = 0
}

/// A build's last progress report, shown by `model show` while it runs.
struct BuildProgressNote: Sendable {
    var hardwareClass: String
    var phase: String
    var fraction: Double
}

/// Why the service could not start or act.
public enum CoordinatorServiceError: Error, Sendable, CustomStringConvertible {
    case keyring(detail: String)
    case dataDirectory(path: String, detail: String)
    case transport(detail: String)

    public var description: String {
        switch self {
        case .keyring(let d): "signing keys: \(d)"
        case .dataDirectory(let p, let d): "data directory '\(p)': \(d); check it exists and is writable by the coordinator"
        case .transport(let d): "MQTT: \(d)"
        }
    }
}
