import FleetProtocol
import Foundation
import ModelArtifact

#if canImport(Glibc)
    import Glibc
#endif

/// Executing the state machine's actions; each I/O outcome goes back in as an event.
extension AgentService {
    func execute(_ action: UpdateAction) async {
        let start = ContinuousClock.now
        await perform(action)
        stepTimes.record(action.stepName, since: start)
    }

    private func perform(_ action: UpdateAction) async {
        switch action {
        case .persist(let state):
            do { try store.saveState(state) } catch { log("cannot persist the update state: \(error)") }
            await pauseIfAsked(after: state)
        case .startDownload(let artifact):
            openDownload(artifact, resume: false)
        case .resumeDownload(let artifact):
            openDownload(artifact, resume: true)
        case .requestMissingChunks(let artifact, let attempt):
            requestChunks(artifact, missing: reassembler?.missingRanges ?? [], attempt: attempt)
        case .abandonDownload(let artifact):
            closeDownload()
            verifiedDownload = nil
            store.removeDownload(artifact.artifactDigest)
        case .verifyDownload(let artifact):
            if reassembler == nil { openDownload(artifact, resume: true, subscribe: false) }
            guard let r = reassembler else { return enqueue(.digestMismatch(detail: "the download file could not be reopened")) }
            verifiedDownload = nil
            do {
                // Recorded only if the file kept one version across the whole check.
                let path = store.downloadPath(artifact.artifactDigest)
                let before = FileVersion.of(path: path)
                try r.finish()
                if let before, before == FileVersion.of(path: path) { verifiedDownload = (artifact.artifactDigest, before) }
                enqueue(.digestVerified)
            } catch {
                store.removeDownload(artifact.artifactDigest)
                enqueue(.digestMismatch(detail: error.description))
            }
        case .eraseSlot(let slot):
            if installedArtifact?.slot == slot { installedArtifact = nil }
            if trialModel?.slot == slot { trialModel = nil }
            if shadow?.slot == slot { shadow = nil }
            store.eraseSlot(slot)
        case .installToSlot(let slot, let artifact):
            install(artifact, into: slot)
        case .loadTrial(let slot):
            shadow = nil
            if let release = trialRelease(in: slot),
                config.faults.crashesOnLoad(modelVersion: release.modelVersion, releaseSequence: release.releaseSequence)
            {
                return enqueue(.crashDetected(detail: "injected fault crashOnLoad (simulation)"))
            }
            // The artifact the install just verified in this slot, if this process installed
            // it; after a restart the slot is opened (and verified) again.
            let verified = installedArtifact?.slot == slot ? installedArtifact?.artifact : nil
            installedArtifact = nil
            do {
                let model =
                    try verified.map { try LoadedModel.plan($0, threads: config.inferenceThreads) }
                    ?? LoadedModel.load(path: store.slotPath(slot), pinnedKeys: config.pinnedKeys, threads: config.inferenceThreads)
                trialModel = (slot, model)
                enqueue(.modelLoaded)
            } catch { enqueue(.loadFailed(detail: "\(error)")) }
        case .runValidation(let slot, let policy):
            await validate(slot, policy: policy)
        case .commitSlot(let slot):
            do { try store.setCurrentSlot(slot) } catch { log("cannot write the current-slot pointer: \(error)") }
            shadow = nil
            // A commit (not a rollback moving the pointer back) starts the watch window, against
            // this release's own validation figures.
            if case .committed = machine.state.phase { watch = PostCommitWatch(baselineP95Ms: lastValidation?.latencyP95Ms) }
            HeapTrim.releaseFreedMemory()
        case .activateSlot(let slot):
            activate(slot)
        case .publishState:
            publishState()
        case .publishEvent(let kind, let sequence, let digest, let reason):
            publishEvent(kind, releaseSequence: sequence, artifactDigest: digest, reason: reason)
        }
    }

    // MARK: Download

    func openDownload(_ artifact: ArtifactDescriptor, resume: Bool, subscribe: Bool = true) {
        closeDownload()
        let digest = artifact.artifactDigest
        do {
            let plan = try artifact.chunkPlan
            var progress = resume ? store.loadProgress(digest) : nil
            if progress?.plan != plan { progress = nil }
            if progress == nil { store.removeDownload(digest) }
            let r = try ChunkReassembler(
                plan: plan, expectedSHA256: artifact.transport.compressedSHA256, path: store.downloadPath(digest),
                maxBytes: config.maxArtifactBytes, resume: progress)
            download = CheckpointedDownload(reassembler: r, policy: config.downloadCheckpoint, now: Self.nowMs()) {
                [store] (p: ChunkProgress) throws(AgentError) in try store.saveProgress(p)
            }
            downloadResumedFromCheckpoint = r.have.setCount > 0
            if resume, r.have.setCount > 0 {
                lastResume = DownloadResume(
                    releaseSequence: artifact.releaseSequence, artifactDigest: digest, storedChunks: r.have.setCount,
                    chunkCount: plan.chunkCount)
            }
            guard subscribe else { return }
            if r.isComplete { return enqueue(.downloadComplete) }
            let topic = try Topics.artifact(hardwareClass: artifact.hardwareClass, artifactDigest: digest, .chunks)
            let cancelTopic = try Topics.artifact(hardwareClass: artifact.hardwareClass, artifactDigest: digest, .cancel)
            guard let transport else { return }
            cancelTask = Task { [weak self] in
                guard let stream = try? await transport.subscribe(cancelTopic, qos: .atLeastOnce) else { return }
                for await m in stream { await self?.receiveCancel(m.payload, artifact: artifact) }
            }
            // Nothing yet: "send it all" (joins the broadcast); else only the gaps (resume).
            let missing = r.have.setCount == 0 ? [] : r.missingRanges
            chunkTask = Task { [weak self] in
                guard let stream = try? await transport.subscribe(topic, qos: .atLeastOnce) else { return }
                await self?.requestChunks(artifact, missing: missing, attempt: 1)
                for await m in stream { await self?.receiveChunk(m.payload, digest: digest) }
            }
        } catch {
            enqueue(.downloadFailed(detail: "\(error)"))
        }
    }

    func closeDownload() {
        chunkTask?.cancel()
        chunkTask = nil
        cancelTask?.cancel()
        cancelTask = nil
        reassembler?.close()
        download = nil
    }

    func receiveChunk(_ bytes: [UInt8], digest: String) async {
        guard !killed, let d = download, d.reassembler.plan.artifactDigest == digest, !d.reassembler.isComplete else { return }
        let stored: Bool
        let start = ContinuousClock.now
        do { stored = try d.accept(frameBytes: bytes) } catch {
            switch error {
            case .chunkDigestMismatch(let index, _, _):
                // Corrupted in transit: drop it and ask for that chunk again at once.
                log("refused chunk \(index) of \(digest): \(error)")
                if case .downloading(let release, let p) = machine.state.phase {
                    requestChunks(release.artifact, missing: [ChunkRange(first: index, count: 1)], attempt: p.attempt)
                }
            case .diskFull, .fileOperationFailed:
                await feed(.downloadFailed(detail: error.description))
            default:
                log("dropped a chunk frame for \(digest): \(error)")
            }
            return
        }
        stepTimes.record("chunkWrite", since: start)
        if stored, d.isDue(now: Self.nowMs()) || killIsDue(d.reassembler) { await checkpointDownload(d) }
    }

    /// Makes the stored chunks durable (file, then bitmap) and only then tells the state
    /// machine: the progress it persists and reports is always what a restart would find.
    func checkpointDownload(_ d: CheckpointedDownload) async {
        let start = ContinuousClock.now
        do { try d.checkpoint(now: Self.nowMs()) } catch {
            return await feed(.downloadFailed(detail: error.description))
        }
        stepTimes.record("checkpoint", since: start)
        let r = d.reassembler
        if killsHere(r) { return }
        await feed(.chunkStored(storedChunks: d.persisted.setCount))
        if r.isComplete { await feed(.downloadComplete) }
    }

    /// From the 1 s tick: chunks that arrived and then stopped are made durable after the
    /// checkpoint interval even though no further chunk comes to trigger it.
    func checkpointDownloadIfDue() async {
        guard !killed, let d = download, d.isDue(now: Self.nowMs()) else { return }
        await checkpointDownload(d)
    }

    /// A cancel names its artifact twice (topic and body): both must be the download in flight.
    /// Cancels are not signed (protocol v1), so all one can do is pause that download: the
    /// machine retries it after a backoff while the signed desired state still names it.
    func receiveCancel(_ bytes: [UInt8], artifact: ArtifactDescriptor) async {
        guard !bytes.isEmpty else { return }
        let cancel: DownloadCancel
        do { cancel = try MessageEnvelope.decode(DownloadCancel.self, from: bytes) } catch {
            return log("ignored a cancel for \(artifact.artifactDigest): \(error)")
        }
        guard cancel.artifactDigest == artifact.artifactDigest, cancel.hardwareClass == config.hardwareClass else {
            return log(
                "ignored a cancel naming \(cancel.hardwareClass)/\(cancel.artifactDigest) on the topic of \(artifact.artifactDigest)")
        }
        await feed(.cancel(cancel))
    }

    func requestChunks(_ artifact: ArtifactDescriptor, missing: [ChunkRange], attempt: Int) {
        guard let topic = try? Topics.device(config.deviceID, .chunkRequest) else { return }
        let request = ChunkRequest(
            deviceID: config.deviceID, hardwareClass: config.hardwareClass, artifactDigest: artifact.artifactDigest, missing: missing,
            attempt: attempt)
        outgoingSink.yield(.message(topic: topic, payload: MessageEnvelope.encode(request), retain: false))
    }

    // MARK: Install, validate, activate

    func install(_ artifact: ArtifactDescriptor, into slot: Slot) {
        closeDownload()
        let source = URL(fileURLWithPath: store.downloadPath(artifact.artifactDigest))
        let destination = URL(fileURLWithPath: store.slotPath(slot))
        let verified = verifiedDownload?.artifactDigest == artifact.artifactDigest ? verifiedDownload?.version : nil
        verifiedDownload = nil
        do {
            let written = try ArtifactTransport.decompress(
                fileAt: source, to: destination, expected: artifact.transport.artifactTransportDigests, maxBytes: config.maxArtifactBytes,
                compressedVerifiedAt: verified)
            // The signature and the sections, from the slot, before anything loads it. The
            // whole file's digest was just checked against the signed desired state while it was
            // written: while the slot still has the version it had then, that covers every
            // section and the reader does not hash them again (else it does). The mapping is
            // kept for the trial's load (the same file, already verified).
            let opened = try ArtifactReader.open(destination, trust: .pinnedKeys(config.pinnedKeys), verified: written)
            lastInstallSkippedSectionHashes = opened.sectionDigests != .hashed
            installedArtifact = (slot, opened)
            // The download stays until the trial state is persisted (the machine drops it then).
            HeapTrim.releaseFreedMemory()
            enqueue(.installed)
        } catch {
            installedArtifact = nil
            unlink(destination.path)
            store.removeDownload(artifact.artifactDigest)
            enqueue(.installFailed(detail: error.description))
        }
    }

    func validate(_ slot: Slot, policy: TrialPolicy) async {
        guard let trial = trialModel, trial.slot == slot else {
            return enqueue(.validationFailed(metric: "loaded", measured: 0, threshold: 1))
        }
        let model = trial.model
        var validatingDigest: String?
        if case .validating(let release, _) = machine.state.phase { validatingDigest = release.artifact.artifactDigest }
        let thresholds = config.thresholds
        let faults = Self.faults(config.faults, for: model)
        let result = await Task.detached { () -> Result<ValidationReport, any Error> in
            do { return .success(try await ModelValidator.run(model, thresholds: thresholds, faults: faults)) } catch {
                return .failure(error)
            }
        }.value
        switch result {
        case .success(let report):
            recordValidation(report, of: validatingDigest)
            if let f = report.failure {
                enqueue(.validationFailed(metric: f.metric, measured: f.measured, threshold: f.threshold))
            } else if policy.shadowSeconds > 0, serving != nil {
                // Judged on the ticks until the period ends (`endShadowIfDue`).
                shadow = ShadowRun(slot: slot, model: model, untilMs: Self.nowMs() + Int64(policy.shadowSeconds) * 1000, report: report)
            } else {
                if policy.shadowSeconds > 0 { log("no model serving: nothing to shadow, the validation bundle decides alone") }
                enqueue(.validationPassed)
            }
        case .failure(let error):
            log("validation bundle did not run: \(error)")
            enqueue(.validationFailed(metric: "bundleRuns", measured: 0, threshold: 1))
        }
    }

    func activate(_ slot: Slot?) {
        guard let slot else {
            serving = nil
            return
        }
        if let trial = trialModel, trial.slot == slot {
            serving = trial
            return
        }
        if serving?.slot == slot { return }
        do {
            serving = (
                slot, try LoadedModel.load(path: store.slotPath(slot), pinnedKeys: config.pinnedKeys, threads: config.inferenceThreads)
            )
        } catch {
            serving = nil
            log("cannot serve slot \(slot.rawValue): \(error)")
        }
    }

    /// The release under trial in `slot`, from the persisted phase.
    func trialRelease(in slot: Slot) -> ArtifactDescriptor? {
        switch machine.state.phase {
        case .trial(let r, _), .validating(let r, _): r.slot == slot ? r.artifact : nil
        default: nil
        }
    }

    static func faults(_ injection: FaultInjection, for model: LoadedModel) -> ModelFaults {
        guard !injection.isEmpty else { return .none }
        let m = model.artifact.manifest
        return ModelFaults(injection, modelVersion: m.modelVersion, releaseSequence: m.releaseSequence)
    }

    nonisolated func log(_ text: String) {
        FileHandle.standardError.write(Data("flotilla-agent: \(text)\n".utf8))
    }
}
