public import FleetProtocol
import Foundation

/// State reports, online status, events through the outbox, telemetry, and the one task that
/// publishes them in order.
extension AgentService {
    public static let agentVersion = "0.1.0"

    /// On every (re)connect: online status and the current state, both retained.
    func announce() {
        guard let topic = try? Topics.device(config.deviceID, .online) else { return }
        let status = OnlineStatus(
            deviceID: config.deviceID, online: true, connectionSequence: connection.current, hardwareClass: config.hardwareClass,
            atMs: Self.nowMs())
        outgoingSink.yield(.message(topic: topic, payload: MessageEnvelope.encode(status), retain: true))
        publishState()
    }

    public func stateReport() -> DeviceStateReport {
        let s = machine.state
        var running: RunningModel?
        var pending: UInt64?
        switch s.phase {
        case .trial(let r, _), .validating(let r, _):
            running = RunningModel(
                modelName: r.artifact.modelName, modelVersion: r.artifact.modelVersion, releaseSequence: r.artifact.releaseSequence,
                artifactDigest: r.artifact.artifactDigest, slot: r.slot, status: .trial)
            pending = r.artifact.releaseSequence
        case .downloading(let r, _), .verifying(let r, _), .installing(let r):
            pending = r.artifact.releaseSequence
        default: break
        }
        if running == nil, let a = s.active {
            running = RunningModel(
                modelName: a.artifact.modelName, modelVersion: a.artifact.modelVersion, releaseSequence: a.artifact.releaseSequence,
                artifactDigest: a.artifact.artifactDigest, slot: a.slot, status: .committed)
        }
        return DeviceStateReport(
            deviceID: config.deviceID, hardwareClass: config.hardwareClass, agentVersion: Self.agentVersion, sequence: counters.stateReport,
            reportedAtMs: Self.nowMs(), running: running, phase: s.phase.kind.rawValue, pendingReleaseSequence: pending,
            desiredSequence: s.lastDesiredSequence, lastRollback: s.lastRollback)
    }

    func publishState() {
        counters.stateReport += 1
        saveCounters()
        guard let topic = try? Topics.device(config.deviceID, .state) else { return }
        outgoingSink.yield(.message(topic: topic, payload: MessageEnvelope.encode(stateReport()), retain: true))
    }

    /// Written to the outbox (fsync) first, then sent; the publisher marks it delivered.
    func publishEvent(_ kind: DeviceEvent.Kind, releaseSequence: UInt64?, artifactDigest: String?, reason: FailureReason?) {
        counters.event += 1
        saveCounters()
        let event = DeviceEvent(
            deviceID: config.deviceID, sequence: counters.event, atMs: Self.nowMs(), kind: kind, releaseSequence: releaseSequence,
            artifactDigest: artifactDigest, reason: reason)
        do { try outbox.append(event) } catch { log("cannot keep event \(kind.rawValue) in the outbox: \(error)") }
        guard let topic = try? Topics.device(config.deviceID, .events) else { return }
        outgoingSink.yield(.event(topic: topic, payload: MessageEnvelope.encode(event)))
    }

    func publishTelemetry() {
        counters.telemetry += 1
        saveCounters()
        let now = Self.nowMs()
        let window = telemetry
        telemetry = TelemetryWindow(startMs: now)
        let running = stateReport().running
        let status = running?.status.rawValue ?? machine.state.phase.kind.rawValue
        let validation = running.flatMap { validationReports[$0.artifactDigest] }
        let summary = TelemetrySummary(
            deviceID: config.deviceID, sequence: counters.telemetry, windowStartMs: window.startMs, windowEndMs: now,
            artifactDigest: running?.artifactDigest, releaseSequence: running?.releaseSequence, state: status,
            latencyUs: window.latency, inferences: window.inferences, errors: window.errors, validationAccuracy: validation?.accuracy,
            validationAgreement: validation?.agreement, rssBytes: ResidentMemory.currentBytes() ?? 0)
        guard let topic = try? Topics.device(config.deviceID, .telemetry) else { return }
        outgoingSink.yield(.message(topic: topic, payload: MessageEnvelope.encode(summary), retain: false))
    }

    /// Keeps `report` as the last validation and as the report of the artifact `digest` (the
    /// one in the validating phase); reports of artifacts neither committed nor this one are
    /// dropped.
    func recordValidation(_ report: ValidationReport, of digest: String?) {
        lastValidation = report
        guard let digest else { return }
        validationReports[digest] = report
        let keep = Set([digest, machine.state.active?.artifact.artifactDigest].compactMap { $0 })
        validationReports = validationReports.filter { keep.contains($0.key) }
    }

    /// Sequences handed out per write of counters.json.
    static let counterLease: UInt64 = 64

    /// Makes sure counters.json holds a value at or above every sequence in use, before that
    /// sequence leaves. Rather than a durable write (two fsyncs) per state report, event and
    /// telemetry summary — a dozen per update, the largest share of an update's fsyncs — it
    /// reserves `counterLease` sequences ahead; a restart continues from the reserved ceiling,
    /// skipping at most that many numbers, which receivers (who only need them to grow) ignore.
    func saveCounters() {
        guard
            counters.stateReport > countersCeiling.stateReport || counters.event > countersCeiling.event
                || counters.telemetry > countersCeiling.telemetry
        else { return }
        var ceiling = counters
        ceiling.stateReport += Self.counterLease
        ceiling.event += Self.counterLease
        ceiling.telemetry += Self.counterLease
        do {
            try store.saveCounters(ceiling)
            countersCeiling = ceiling
        } catch { log("cannot persist counters: \(error)") }
    }

    /// Publishes in order. Events are retried until the broker takes them (the MQTT client
    /// itself holds publishes across a reconnect), then acknowledged in the outbox.
    func runPublisher(_ stream: AsyncStream<Outgoing>) async {
        for await item in stream {
            // After stop(): what is left is either an event (kept in the outbox, resent on the
            // next start) or a report the next start republishes anyway.
            if Task.isCancelled { break }
            guard let transport else { continue }
            switch item {
            case .message(let topic, let payload, let retain):
                do { try await transport.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: retain) } catch {
                    log("publish to \(topic) failed: \(error)")
                }
            case .event(let topic, let payload):
                while !Task.isCancelled {
                    do {
                        try await transport.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: false)
                        let start = ContinuousClock.now
                        do { try outbox.acknowledgeOne() } catch { log("cannot update the outbox: \(error)") }
                        stepTimes.record("outboxAcknowledge", since: start)
                        break
                    } catch {
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
            }
        }
    }
}

/// One telemetry window's counts.
struct TelemetryWindow: Sendable {
    var startMs: Int64
    var latency = LatencyHistogram()
    var inferences: UInt64 = 0
    var errors: UInt64 = 0

    init(startMs: Int64) { self.startMs = startMs }

    mutating func record(latencyUs: UInt64) {
        latency.record(latencyUs)
        inferences += 1
    }
}

/// Resident set size from /proc/self/status (Linux); nil elsewhere.
enum ResidentMemory {
    static func currentBytes() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { UInt64($0) }
            return kb.map { $0 * 1024 }
        }
        return nil
    }
}
