public import FleetProtocol
import Foundation
import ModelArtifact
public import ModelIR
import Runtime

/// The device agent: drives the update state machine from signed desired states, chunk frames
/// and its own I/O outcomes, executes the machine's actions in order (persist first), serves the
/// committed model and reports state, events and telemetry.
///
/// One actor owns everything mutable; messages arrive on tasks that call into it. Events are
/// queued and handled one at a time, so an action's outcome never interleaves with another
/// event's actions. The actor runs on a dispatch queue of its own (`AgentExecutor`), since its
/// durable writes block.
public actor AgentService {
    public let config: AgentConfig
    /// The serial queue this actor runs on instead of the cooperative pool (AgentExecutor:
    /// its file work blocks).
    let executor = AgentExecutors.assign()
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    let connection: ConnectionSequence
    let store: AgentStore
    let outbox: EventOutbox
    var machine: UpdateStateMachine
    var counters: AgentCounters
    /// What counters.json holds: a ceiling above every sequence handed out (see saveCounters).
    var countersCeiling: AgentCounters
    var transport: (any MessageTransport)?
    var tasks: [Task<Void, Never>] = []
    var queue: [UpdateEvent] = []
    var processing = false

    /// The download in flight (nil: none).
    var download: CheckpointedDownload?
    var reassembler: ChunkReassembler? { download?.reassembler }
    var chunkTask: Task<Void, Never>?
    var cancelTask: Task<Void, Never>?
    /// The download `verifyDownload` checked (size and SHA-256) in this process, and the version
    /// of its file then: the install skips hashing it again while the file is unchanged.
    var verifiedDownload: (artifactDigest: String, version: FileVersion)?
    /// The committed release's live requests during its watch window.
    var watch: PostCommitWatch?
    /// The shadow period of the trial model, if one runs.
    var shadow: ShadowRun?
    var trialModel: (slot: Slot, model: LoadedModel)?
    /// The artifact `installToSlot` verified in a slot, mapped, until the trial loads it.
    var installedArtifact: (slot: Slot, artifact: Artifact)?
    /// Whether the last install in this process opened its slot with the section digests
    /// covered by the decompression's whole-file digest (true) or hashed them (false); nil
    /// before any install. For tests and diagnosis.
    public internal(set) var lastInstallSkippedSectionHashes: Bool?
    var serving: (slot: Slot, model: LoadedModel)? {
        didSet { servingRunner = serving.map { ModelRunner(model: $0.model, faults: Self.faults(config.faults, for: $0.model)) } }
    }
    /// Runs the serving model off this actor (see ModelRunner).
    var servingRunner: ModelRunner?
    var lastValidation: ValidationReport?
    /// The last validation report of each artifact on this device (the committed one and the
    /// one on trial), by artifact digest: telemetry carries the running artifact's own, so a
    /// trial that failed and rolled back does not lend its figures to the release running
    /// again.
    var validationReports: [String: ValidationReport] = [:]
    var telemetry = TelemetryWindow(startMs: 0)
    /// Wall time per kind of step since this agent started (for benchmarks and diagnosis).
    public internal(set) var stepTimes = AgentStepTimes()

    let outgoing: AsyncStream<Outgoing>
    let outgoingSink: AsyncStream<Outgoing>.Continuation

    /// Set by `kill()`: from then on the agent does nothing at all.
    var killed = false
    /// The test pause point (config.testPause) held once already.
    var pausedOnce = false
    /// The download in flight was reopened from a checkpoint with chunks in it (an injected
    /// killMidDownload does not fire twice for one download).
    var downloadResumedFromCheckpoint = false
    /// The last download this agent resumed from a checkpoint (nil: none since it started).
    public internal(set) var lastResume: DownloadResume?
    /// Each injected kill (FaultInjection.killMidDownload), as it happens.
    public nonisolated let injectedKills: AsyncStream<InjectedKill>
    let injectedKillSink: AsyncStream<InjectedKill>.Continuation

    enum Outgoing: Sendable {
        case message(topic: String, payload: [UInt8], retain: Bool)
        /// From the outbox: retried until acknowledged, then marked delivered.
        case event(topic: String, payload: [UInt8])
    }

    /// Opens the data directory and the persisted state.
    public init(config: AgentConfig) throws(AgentError) {
        self.config = config
        store = try AgentStore(root: config.dataDirectory.path)
        outbox = EventOutbox(path: "\(config.dataDirectory.path)/outbox.jsonl")
        let state = try store.loadState()
        machine = UpdateStateMachine(
            config: UpdateConfig(
                hardwareClass: config.hardwareClass, crashLoopLimit: config.crashLoopLimit, maxDownloadAttempts: config.maxDownloadAttempts,
                stallTimeoutMs: config.stallTimeoutMs, cancelBackoffMs: config.cancelBackoffMs,
                maxArtifactBytes: config.maxArtifactBytes),
            state: state)
        let counters = try store.loadCounters()
        // The file holds a ceiling: starting from it keeps every sequence above the ones a
        // previous run may have used.
        self.counters = counters
        countersCeiling = counters
        connection = ConnectionSequence(path: store.connectionPath, floor: counters.connection)
        (outgoing, outgoingSink) = AsyncStream<Outgoing>.makeStream()
        (injectedKills, injectedKillSink) = AsyncStream<InjectedKill>.makeStream()
    }

    /// The last will for the next connection attempt: takes (and persists) a new connection
    /// sequence. Give it to the transport as its will provider, so every reconnect registers a
    /// will naming that connection (`MQTTTransport(broker:clientID:will:)`).
    public nonisolated func nextConnectionWill() -> LastWill {
        let will = OnlineStatus(
            deviceID: config.deviceID, online: false, connectionSequence: connection.next(), hardwareClass: config.hardwareClass,
            atMs: Self.nowMs())
        let topic = (try? Topics.device(config.deviceID, .online)) ?? ""
        return LastWill(topic: topic, payload: MessageEnvelope.encode(will), qos: .atLeastOnce, retain: true)
    }

    /// The sequence of the connection attempt in progress or established.
    public nonisolated var connectionSequence: UInt64 { connection.current }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Observation

    public var updateState: UpdateState { machine.state }
    /// The digest of the model answering inference requests.
    public var servingDigest: String? { serving?.model.artifact.contentDigest }
    public var servingRelease: UInt64? { serving?.model.artifact.manifest.releaseSequence }

    /// A one-line status for the service manager, answered on the actor: the systemd watchdog
    /// awaits it before every keep-alive, so an actor that stops answering stops the pings.
    public func heartbeat() -> String {
        let serving = servingRelease.map { "release \($0)" } ?? "no model"
        return "\(machine.state.phase.kind.rawValue), serving \(serving)"
    }

    // MARK: Life cycle

    /// Starts on a connected transport: resends the outbox, reports, subscribes to the desired
    /// state and resumes whatever update was in flight (crash-loop counting included).
    public func start(transport: any MessageTransport) async throws(AgentError) {
        self.transport = transport
        telemetry = TelemetryWindow(startMs: Self.nowMs())
        let stream = outgoing
        tasks.append(Task { [weak self] in await self?.runPublisher(stream) })
        for event in outbox.pending() {
            guard let topic = try? Topics.device(config.deviceID, .events) else { continue }
            outgoingSink.yield(.event(topic: topic, payload: MessageEnvelope.encode(event)))
        }
        let events = await transport.connectionEvents()
        tasks.append(
            Task { [weak self] in
                for await e in events where e == .connected { await self?.announce() }
            })
        let desiredTopic: String
        do { desiredTopic = try Topics.device(config.deviceID, .desired) } catch {
            throw .invalidConfig(field: "deviceId", detail: error.description)
        }
        let desired: AsyncStream<InboundMessage>
        do { desired = try await transport.subscribe(desiredTopic, qos: .atLeastOnce) } catch {
            throw .fileOperationFailed(path: desiredTopic, operation: "subscribe to", detail: error.description)
        }
        await feed(.agentRestarted)
        tasks.append(
            Task { [weak self] in
                for await m in desired { await self?.receiveDesired(m.payload) }
            })
        tasks.append(
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await self?.tick()
                }
            })
        let interval = config.telemetryIntervalSeconds
        tasks.append(
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(interval))
                    if Task.isCancelled { break }
                    await self?.publishTelemetry()
                }
            })
    }

    /// Ordered shutdown: stop taking messages, report offline (a clean disconnect sends no
    /// will), flush what can be flushed, close files.
    public func stop() async {
        guard !killed else { return }
        for t in tasks { t.cancel() }
        tasks = []
        chunkTask?.cancel()
        chunkTask = nil
        cancelTask?.cancel()
        cancelTask = nil
        if let transport, let topic = try? Topics.device(config.deviceID, .online) {
            let status = OnlineStatus(
                deviceID: config.deviceID, online: false, connectionSequence: connection.current, hardwareClass: config.hardwareClass,
                atMs: Self.nowMs())
            let payload = MessageEnvelope.encode(status)
            // With the broker unreachable the publish would wait for a reconnect: give up after
            // 2 s (the last will reports offline then).
            let (done, signal) = AsyncStream<Void>.makeStream()
            Task {
                try? await transport.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: true)
                signal.yield()
            }
            Task {
                try? await Task.sleep(for: .seconds(2))
                signal.yield()
            }
            for await _ in done { break }
        }
        outgoingSink.finish()
        // A clean stop keeps every chunk already written.
        if let d = download, d.unsaved > 0 {
            do { try d.checkpoint(now: Self.nowMs()) } catch { log("cannot checkpoint the download on stop: \(error)") }
        }
        reassembler?.close()
        download = nil
    }

    // MARK: The event loop

    /// Queues `event` and, unless an event is already being handled, handles the queue.
    func feed(_ event: UpdateEvent) async {
        guard !killed else { return }
        queue.append(event)
        guard !processing else { return }
        processing = true
        while !queue.isEmpty, !killed {
            let next = queue.removeFirst()
            for action in machine.handle(next, now: Self.nowMs()) { await execute(action) }
            // The rollback's effects (activate the restored slot, erase the left one) are
            // done once its actions ran: report it finished.
            if case .rollingBack = machine.state.phase, next != .rollbackFinished { queue.append(.rollbackFinished) }
        }
        processing = false
    }

    /// An outcome of an action: handled after the current event's remaining actions.
    func enqueue(_ event: UpdateEvent) { queue.append(event) }

    // MARK: Inbound messages

    func receiveDesired(_ bytes: [UInt8]) async {
        guard !bytes.isEmpty, !killed else { return }  // a cleared retained message
        let verifier = MessageVerifier(pinnedKeys: config.pinnedKeys)
        do {
            let verified = try verifier.verifyDesiredState(bytes, deviceID: config.deviceID, lastAcceptedSequence: nil)
            // The retained message redelivered on reconnect or restart: already handled.
            if verified.sequence == machine.state.lastDesiredSequence { return }
            await feed(.desiredState(verified.state))
        } catch {
            let reason = FailureReason(code: .invalidDesiredState, detail: error.description)
            publishEvent(.desiredStateRefused, releaseSequence: nil, artifactDigest: nil, reason: reason)
        }
    }

    // MARK: Local inference

    /// Runs the serving model; the latency goes into the telemetry histogram (and the post-commit
    /// watch). During a shadow period the trial model runs the same inputs afterwards. The run
    /// itself happens off this actor (the actor is held only to pick the model and count the
    /// result).
    public func infer(_ inputs: [String: Tensor]) async throws(AgentError) -> [String: Tensor] {
        guard let runner = servingRunner else { throw .noModelServing }
        let result: (outputs: [String: Tensor], latency: Duration)
        do { result = try await runner.run(inputs) } catch {
            telemetry.errors += 1
            watch?.recordError()
            throw .inferenceFailed(detail: "\(error)")
        }
        let (s, atto) = result.latency.components
        let us = UInt64(max(0, s)) * 1_000_000 + UInt64(max(0, atto)) / 1_000_000_000_000
        telemetry.record(latencyUs: us)
        watch?.record(latencyUs: us)
        shadow?.compare(inputs: inputs, servingOutputs: result.outputs, servingUs: us, outputName: runner.model.plan.outputs.first?.name)
        return result.outputs
    }

    static func microseconds(since start: ContinuousClock.Instant) -> UInt64 {
        let (s, atto) = (ContinuousClock.now - start).components
        return UInt64(max(0, s)) * 1_000_000 + UInt64(max(0, atto)) / 1_000_000_000_000
    }

    /// Runs the serving model on sample `index` (modulo their count) of its own validation
    /// bundle: a synthetic workload with realistic inputs, for the fleet simulator and smoke
    /// tests. Its latency goes into telemetry like any other inference.
    @discardableResult
    public func inferValidationSample(_ index: Int) async throws(AgentError) -> [String: Tensor] {
        guard let runner = servingRunner else { throw .noModelServing }
        guard let samples = runner.model.artifact.validation?.samples, !samples.isEmpty else {
            throw .inferenceFailed(detail: "the serving model has no validation bundle to take inputs from")
        }
        return try await infer(samples[abs(index % samples.count)].inputs)
    }

    /// The trial validation's p95 latency in milliseconds, as measured on this device (nil
    /// before the first validation).
    public var lastValidationLatencyP95Ms: Double? { lastValidation?.latencyP95Ms }
}
