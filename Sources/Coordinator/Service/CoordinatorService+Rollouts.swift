import FleetProtocol
import Foundation
import ModelArtifact

extension CoordinatorService {
    static let activeStatuses: Set<String> = Set(RolloutStatus.allCases.filter { !$0.isTerminal }.map(\.rawValue))
    static let leaseMs: Int64 = 15_000

    /// One step of every active rollout this coordinator holds the lease of.
    func stepRollouts() async {
        let records: [RolloutRecord]
        do { records = try store.activeRollouts(statuses: Self.activeStatuses) } catch {
            logger.error("could not list active rollouts: \(error)")
            return
        }
        for record in records { await step(record, commands: []) }
    }

    /// Loads the rollout, steps it with `commands`, carries out what it decided, and stores the
    /// new state. Actions are carried out before the state that acknowledges them is stored:
    /// a crash in between repeats them (harmless: a device sent the same release again does
    /// nothing), and never loses one.
    @discardableResult
    func step(_ record: RolloutRecord, commands: [RolloutCommand]) async -> RolloutRecord? {
        // The actor is re-entered at every await: one step of a rollout at a time, or two
        // would issue the same actions. A tick finding it busy skips; a command waits.
        if stepping.contains(record.id) {
            guard !commands.isEmpty else { return nil }
            while stepping.contains(record.id) { try? await Task.sleep(for: .milliseconds(20)) }
        }
        stepping.insert(record.id)
        defer { stepping.remove(record.id) }
        // Reload: a step that ran meanwhile has moved the rollout on.
        guard let record = (try? store.rollout(id: record.id)) ?? nil else { return nil }
        let now = Self.nowMs()
        do {
            guard try store.tryAcquireLease(name: "rollout:\(record.id)", holder: holder, ttlMs: Self.leaseMs, nowMs: now) else {
                return nil
            }
            var engine = try decodeEngine(record)
            // Whatever a previous run decided but did not confirm goes out first.
            try await execute(engine.pendingActions, rollout: record)
            if let last = engine.pendingActions.last { engine.acknowledge(through: last.id) }
            let input = try rolloutInput(engine, now: now, commands: commands)
            let issued = engine.step(input)
            try await execute(issued, rollout: record)
            if let last = issued.last { engine.acknowledge(through: last.id) }
            var updated = record
            updated.stateJSON = try encodeJSON(engine.state)
            updated.status = engine.state.status.rawValue
            updated.updatedAtMs = now
            guard try store.updateRollout(updated, expectedRevision: record.revision) else {
                logger.warning("rollout \(record.id) was changed by another coordinator during this step; it is stepped again next tick")
                return nil
            }
            updated.revision = record.revision + 1
            return updated
        } catch {
            logger.error("rollout \(record.id) step failed: \(error)")
            return nil
        }
    }

    func decodeEngine(_ record: RolloutRecord) throws -> RolloutEngine {
        let spec = try JSONDecoder().decode(RolloutSpec.self, from: Data(record.specJSON.utf8))
        let state = try JSONDecoder().decode(RolloutState.self, from: Data(record.stateJSON.utf8))
        return try RolloutEngine(spec: spec, state: state)
    }

    func encodeJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// What the engine reads: the devices the target selects, as they reported, and the
    /// telemetry of the release and its baseline per class.
    func rolloutInput(_ engine: RolloutEngine, now: Int64, commands: [RolloutCommand]) throws -> RolloutInput {
        let selector = try LabelSelector(parsing: engine.spec.target)
        let devices = try store.devices(matching: selector).map(Self.rolloutDevice)
        var metrics: [ReleaseClassKey: ClassMetrics] = [:]
        for query in engine.metricsQueries {
            // A baseline with no window: its last day of telemetry on this class.
            let since = query.sinceMs ?? (now - 86_400_000)
            if let totals = try store.telemetryTotals(
                artifactDigest: query.key.artifactDigest, hardwareClass: query.key.hardwareClass, sinceMs: since)
            {
                metrics[query.key] = Self.classMetrics(totals)
            }
        }
        return RolloutInput(nowMs: now, devices: devices, metrics: metrics, commands: commands)
    }

    static func rolloutDevice(_ d: DeviceRecord) -> RolloutDevice {
        RolloutDevice(
            deviceID: d.id, hardwareClass: d.hardwareClass, online: d.online, running: d.running, phase: d.phase ?? "idle",
            lastRollback: d.lastRollback, lastFailedReleaseSequence: d.phase == "failed" ? d.pendingReleaseSequence : nil)
    }

    static func classMetrics(_ t: TelemetryAggregate) -> ClassMetrics {
        ClassMetrics(
            devicesReporting: t.deviceIDs.count, latency: t.latencyUs, inferences: t.inferences, errors: t.errors,
            accuracySum: t.accuracySum, accuracyCount: Int(t.accuracyCount), agreementSum: t.agreementSum,
            agreementCount: Int(t.agreementCount))
    }

    func execute(_ actions: [IssuedRolloutAction], rollout: RolloutRecord) async throws {
        for issued in actions {
            switch issued.action {
            case .setDesired(let deviceID, let artifact, let trial, let rolloutID):
                try await publishDesired(deviceID: deviceID, artifact: artifact, trial: trial, rollback: nil, rolloutID: rolloutID)
            case .rollBack(let deviceID, let artifact, let directive, let rolloutID):
                try await publishDesired(
                    deviceID: deviceID, artifact: artifact, trial: TrialPolicy(), rollback: directive, rolloutID: rolloutID)
            case .clearDesired(let deviceID, _, let rolloutID):
                try await publishDesired(deviceID: deviceID, artifact: nil, trial: TrialPolicy(), rollback: nil, rolloutID: rolloutID)
            case .publishChunks(let hardwareClass, let digest, _):
                // Devices ask for the chunks when their desired state reaches them; the
                // publisher merges those requests into one pass per wave.
                try await registerArtifact(digest: digest, hardwareClass: hardwareClass)
            case .cancelDownloads(let hardwareClass, let digest, let releaseSequence, let reason):
                await chunks.cancel(hardwareClass: hardwareClass, digest: digest, releaseSequence: releaseSequence, reason: reason)
            case .gateEvaluated(let result):
                if result.verdict != .waiting {
                    logger.notice(
                        "rollout \(rollout.id) wave \(result.wave) \(result.hardwareClass): gate \(result.verdict.rawValue): \(result.summary)"
                    )
                    audit(
                        "coordinator", "gate.\(result.verdict.rawValue)", "\(rollout.id) wave \(result.wave) \(result.hardwareClass)",
                        ["summary": result.summary])
                }
            case .statusChanged(let from, let to):
                logger.notice("rollout \(rollout.id): \(from.rawValue) → \(to.rawValue)")
                audit("coordinator", "rollout.status", rollout.id, ["from": from.rawValue, "to": to.rawValue])
            case .audit(let text):
                audit("coordinator", "rollout.note", rollout.id, ["note": text])
            }
        }
    }

    /// Signs and publishes (retained) a device's next desired state, and records it.
    func publishDesired(
        deviceID: String, artifact: ArtifactDescriptor?, trial: TrialPolicy, rollback: RollbackDirective?, rolloutID: String?
    ) async throws {
        let sequence = try store.allocateDesiredSequence(deviceID: deviceID)
        let now = Self.nowMs()
        let desired = DesiredState(
            deviceID: deviceID, sequence: sequence, issuedAtMs: now, artifact: artifact, trial: trial, rollback: rollback,
            rolloutID: rolloutID)
        let envelope = try MessageSigner(key: keyring.activeKey).sign(desired)
        let payload = MessageEnvelope.encode(envelope)
        try await transport.publish(topic: try Topics.device(deviceID, .desired), payload: payload, qos: .atLeastOnce, retain: true)
        _ = try store.saveDesiredState(
            DesiredStateRecord(
                deviceID: deviceID, sequence: sequence, payload: Data(payload), rolloutID: rolloutID,
                releaseSequence: artifact?.releaseSequence,
                issuedAtMs: now))
        counters.desiredPublished += 1
    }
}
