import FleetProtocol
import Foundation

extension CoordinatorService {
    /// The lease whose holder answers chunk requests when there are no shared subscriptions.
    static let chunkRequestLease = "chunk-requests"

    /// One device message: decoded, checked, applied to the store. A bad message is logged and
    /// counted, never thrown: one broken device must not disturb the rest.
    func ingest(_ message: InboundMessage) async {
        await ingest(message, decoded: Self.decode(message))
    }

    /// Decoding needs nothing of the actor: the subscription tasks decode before they hop onto
    /// it, so JSON parsing of one topic runs beside the store work of another.
    nonisolated static func decode(_ message: InboundMessage) -> Result<DeviceMessage, IngestError> {
        do throws(IngestError) { return .success(try DeviceMessageDecoder.decode(topic: message.topic, payload: message.payload)) } catch {
            return .failure(error)
        }
    }

    func ingest(_ message: InboundMessage, decoded result: Result<DeviceMessage, IngestError>) async {
        let decoded: DeviceMessage
        switch result {
        case .success(let d): decoded = d
        case .failure(let error):
            counters.dropped[error.reason.rawValue, default: 0] += 1
            logger.warning("\(error)")
            return
        }
        let now = Self.nowMs()
        do {
            switch decoded {
            case .state(let report):
                counters.messages["state", default: 0] += 1
                // A retained report replayed at subscribe time says when it was made, not now.
                _ = try store.applyStateReport(report, receivedAtMs: message.retained ? report.reportedAtMs : now)
            case .online(let status):
                counters.messages["online", default: 0] += 1
                _ = try store.applyOnlineStatus(status, receivedAtMs: message.retained ? status.atMs : now)
            case .event(let event):
                counters.messages["event", default: 0] += 1
                if try store.insertEvent(event) {
                    _ = try store.touchDevice(event.deviceID, seenAtMs: now)
                    if event.kind == .rolledBack || event.kind == .updateFailed || event.kind == .desiredStateRefused {
                        logger.notice("device \(event.deviceID): \(event.kind.rawValue) \(event.reason.map { "\($0)" } ?? "")")
                    }
                }
            case .telemetry(let summary):
                counters.messages["telemetry", default: 0] += 1
                let hardwareClass: String?
                if let known = telemetryClasses[summary.deviceID] {
                    hardwareClass = known
                } else {
                    hardwareClass = try store.device(summary.deviceID)?.hardwareClass
                    telemetryClasses[summary.deviceID] = hardwareClass
                }
                guard let hardwareClass else {
                    counters.dropped["unknownDevice", default: 0] += 1
                    logger.warning("telemetry from \(summary.deviceID), which has not reported its state yet: dropped")
                    return
                }
                // Merged by the next flush (at most `telemetryFlushInterval` from now).
                pendingTelemetry.append(TelemetryMergeItem(summary: summary, hardwareClass: hardwareClass, receivedAtMs: now))
                if pendingTelemetry.count >= Self.telemetryBatchLimit { flushTelemetry() }
            case .chunkRequest(let request):
                counters.messages["chunkRequest", default: 0] += 1
                // Without shared subscriptions every coordinator hears the request; the holder
                // of this lease answers it, so chunks are not sent once per coordinator. The
                // holder renews it with each request it answers; if it goes away, another takes
                // over 15 s later, and the device's re-request after its stall timeout gets the
                // answer.
                if !sharesDeviceMessages,
                    try !store.tryAcquireLease(name: Self.chunkRequestLease, holder: holder, ttlMs: Self.leaseMs, nowMs: now)
                {
                    counters.messages["chunkRequestLeftToPeer", default: 0] += 1
                    return
                }
                if !(await chunks.isRegistered(hardwareClass: request.hardwareClass, digest: request.artifactDigest)) {
                    try await registerArtifact(digest: request.artifactDigest, hardwareClass: request.hardwareClass)
                }
                await chunks.handle(request)
            case .cleared:
                break
            }
        } catch {
            counters.dropped["store", default: 0] += 1
            logger.error("could not apply \(message.topic): \(error)")
        }
    }

    /// Makes a built variant servable by the chunk publisher (after a restart, or on the first
    /// request of a wave).
    func registerArtifact(digest: String, hardwareClass: String) async throws {
        guard let variant = try store.variant(artifactDigest: digest), variant.hardwareClass == hardwareClass else { return }
        let plan = try ChunkPlan(artifactDigest: digest, totalSize: variant.compressedSize, chunkSize: variant.chunkSize)
        await chunks.register(.init(hardwareClass: hardwareClass, plan: plan, path: transportPath(of: variant)))
    }

    /// The compressed file of a variant (paths in the store are relative to the data directory).
    func transportPath(of variant: VariantRecord) -> String {
        config.dataDirectory.appendingPathComponent(variant.artifactPath).path + ".zst"
    }

    /// Merges the summaries received since the last flush in one store transaction. The
    /// hardware classes looked up for them are forgotten too, so a device that changed class
    /// is aggregated under its new one from the next interval on.
    func flushTelemetry() {
        telemetryClasses = [:]
        guard !pendingTelemetry.isEmpty else { return }
        let batch = pendingTelemetry
        pendingTelemetry = []
        let results: [TelemetryMergeResult]
        do { results = try store.mergeTelemetryBatch(batch, bucketWidthMs: Int64(config.telemetryBucketSeconds) * 1000) } catch {
            counters.dropped["store", default: 0] += batch.count
            logger.error("\(batch.count) telemetry summaries not stored: \(error)")
            return
        }
        for (item, result) in zip(batch, results) {
            switch result {
            case .success(.merged): counters.telemetryMerged += 1
            case .success(.duplicate): counters.telemetryDuplicates += 1
            case .success(.noModel), .success(.expired): break
            case .failure(let error):
                counters.dropped["store", default: 0] += 1
                logger.error("telemetry of \(item.summary.deviceID) refused: \(error)")
            }
        }
    }
}
