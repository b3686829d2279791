import FleetProtocol
import Foundation
import ModelArtifact

/// The operator API, implemented on the store and the rollout engine. Every mutating call is
/// written to the audit log with the operator's name.
extension CoordinatorService: CoordinatorOperations {
    // MARK: Devices

    public func listDevices(_ query: APIDeviceQuery, actor: String) async throws -> [APIDevice] {
        let selector: LabelSelector
        do { selector = try LabelSelector(parsing: query.selector ?? "") } catch {
            throw APIError.invalidRequest(field: "selector", error.description)
        }
        return try store.devices(matching: selector)
            .filter { d in query.hardwareClass.map { d.hardwareClass == $0 } ?? true }
            .filter { d in query.online.map { d.online == $0 } ?? true }
            .map(Self.apiDevice)
    }

    public func device(id: String, actor: String) async throws -> APIDevice {
        guard let d = try store.device(id) else { throw APIError.notFound("no device '\(id)' has reported to this coordinator") }
        return Self.apiDevice(d)
    }

    public func updateLabels(deviceID: String, change: APILabelChange, actor: String) async throws -> APIDevice {
        guard try store.device(deviceID) != nil else { throw APIError.notFound("no device '\(deviceID)' has reported to this coordinator") }
        if !change.set.isEmpty { try store.setLabels(change.set, deviceID: deviceID) }
        if !change.remove.isEmpty { try store.removeLabels(change.remove, deviceID: deviceID) }
        audit(
            actor, "device.labels", deviceID,
            change.set.merging(Dictionary(uniqueKeysWithValues: change.remove.map { ($0, "<removed>") })) { a, _ in a })
        return try await device(id: deviceID, actor: actor)
    }

    static func apiDevice(_ d: DeviceRecord) -> APIDevice {
        APIDevice(
            id: d.id, hardwareClass: d.hardwareClass, agentVersion: d.agentVersion, labels: d.labels, online: d.online,
            running: d.running.map {
                APIRunningModel(
                    modelName: $0.modelName, modelVersion: $0.modelVersion, releaseSequence: Int($0.releaseSequence),
                    artifactDigest: $0.artifactDigest, slot: $0.slot.rawValue, status: $0.status.rawValue)
            }, phase: d.phase, pendingReleaseSequence: d.pendingReleaseSequence.map { Int($0) }, lastSeenMs: d.lastSeenMs,
            firstSeenMs: d.firstSeenMs, lastRollbackReason: d.lastRollback.map { "\($0.reason)" })
    }

    // MARK: Uploads and releases

    public func registerUpload(_ file: APIReceivedUpload, actor: String) async throws -> APIUpload {
        try storeUpload(file, actor: actor)
    }

    public func addRelease(_ request: APIAddReleaseRequest, actor: String) async throws -> APIRelease {
        let record = try addRelease(request: request, actor: actor)
        return try apiRelease(record)
    }

    public func listReleases(actor: String) async throws -> [APIRelease] {
        try store.releases(name: nil).map { try apiRelease($0) }
    }

    public func release(name: String, version: String, actor: String) async throws -> APIRelease {
        guard let r = try store.release(name: name, version: version) else {
            throw APIError.notFound("no release \(name) \(version); `flotilla model list` shows the releases")
        }
        return try apiRelease(r)
    }

    func apiRelease(_ r: ReleaseRecord) throws -> APIRelease {
        let options = try? JSONDecoder().decode(ReleaseOptions.self, from: Data(r.optionsJSON.utf8))
        let variants = try store.variants(name: r.name, version: r.version)
        var rows: [APIVariant] = variants.map { v in
            let report = try? String(
                contentsOf: config.dataDirectory.appendingPathComponent(v.artifactPath + ".report.txt"), encoding: .utf8)
            return APIVariant(
                hardwareClass: v.hardwareClass, status: .ready, artifactDigest: v.artifactDigest, uncompressedSize: v.uncompressedSize,
                compressedSize: v.compressedSize, compressedSHA256: v.compressedSHA256, metrics: Self.apiVariantMetrics(v.metrics),
                report: report)
        }
        let built = Set(variants.map(\.hardwareClass))
        let progress = buildProgress["\(r.name) \(r.version)"]
        for c in options?.classes ?? [] where !built.contains(c) {
            let status: APIBuildStatus = r.status == .building ? .building : .failed
            let note = progress.flatMap { $0.hardwareClass == c ? "\($0.phase) \(Int($0.fraction * 100))%" : nil }
            rows.append(
                APIVariant(
                    hardwareClass: c, status: status, error: status == .failed ? r.error : note, artifactDigest: nil, uncompressedSize: nil,
                    compressedSize: nil, compressedSHA256: nil, metrics: [:], report: nil))
        }
        return APIRelease(
            name: r.name, version: r.version, releaseSequence: Int(r.releaseSequence),
            status: APIBuildStatus(rawValue: r.status.rawValue) ?? .failed,
            error: r.error, createdBy: r.createdBy, createdAtMs: r.createdAtMs, sourceSHA256: r.sourceSHA256, budget: options?.budget ?? 0,
            minAgreement: options?.minAgreement, classes: options?.classes ?? [],
            variants: rows.sorted { $0.hardwareClass < $1.hardwareClass })
    }

    /// The build's measurements under their stored names, plus the three the API documents
    /// and `flotilla model show` prints: the figures on the whole evaluation set
    /// (`eval_*`, written by VariantPackager).
    static func apiVariantMetrics(_ stored: [String: Double]) -> [String: Double] {
        var metrics = stored
        let documented = ["fp32Accuracy": "eval_fp32_accuracy", "int8Accuracy": "eval_int8_accuracy", "agreement": "eval_agreement"]
        for (name, source) in documented where metrics[name] == nil {
            if let value = stored[source] { metrics[name] = value }
        }
        return metrics
    }

    // MARK: Rollouts

    public func planRollout(_ request: APIRolloutRequest, actor: String) async throws -> APIRolloutPlan {
        let spec = try rolloutSpec(request, id: "dry-run")
        let devices = try targetDevices(spec.target)
        let plan: RolloutPlan
        do { plan = try RolloutEngine.plan(spec: spec, devices: devices) } catch {
            throw APIError.invalidRequest(field: "waves", error.description)
        }
        return APIRolloutPlan(
            modelName: request.modelName, version: request.version, target: request.target,
            waves: plan.waves.map { w in
                APIPlannedWave(
                    index: w.index, fraction: w.fraction,
                    classes: w.devices.keys.sorted().map { APIPlannedClass(hardwareClass: $0, deviceIDs: w.devices[$0] ?? []) })
            })
    }

    public func startRollout(_ request: APIRolloutRequest, actor: String) async throws -> APIRollout {
        let id = "ro-" + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(10))
        let spec = try rolloutSpec(request, id: id)
        for other in try store.activeRollouts(statuses: Self.activeStatuses) where other.modelName == request.modelName {
            throw APIError.conflict(
                "rollout \(other.id) of \(other.modelName) \(other.modelVersion) is still \(other.status); abort or finish it first")
        }
        let now = Self.nowMs()
        let record = RolloutRecord(
            id: id, modelName: spec.modelName, modelVersion: spec.version, releaseSequence: spec.releaseSequence,
            specJSON: try encodeJSON(spec),
            stateJSON: try encodeJSON(RolloutState()), status: RolloutStatus.planned.rawValue, createdBy: actor, createdAtMs: now,
            updatedAtMs: now, revision: 0)
        try store.insertRollout(record)
        audit(actor, "rollout.start", id, ["model": spec.modelName, "version": spec.version, "target": spec.target])
        let stepped = await step(record, commands: [])
        return try apiRollout(stepped ?? record)
    }

    public func listRollouts(limit: Int, actor: String) async throws -> [APIRollout] {
        try store.rollouts(limit: limit).map { try apiRollout($0) }
    }

    public func rollout(id: String, actor: String) async throws -> APIRollout {
        guard let r = try store.rollout(id: id) else { throw APIError.notFound("no rollout '\(id)'; `flotilla rollout status` lists them") }
        return try apiRollout(r)
    }

    public func controlRollout(id: String, command: APIRolloutCommand, actor: String) async throws -> APIRollout {
        guard let r = try store.rollout(id: id) else { throw APIError.notFound("no rollout '\(id)'; `flotilla rollout status` lists them") }
        let operation: RolloutCommand.Operation =
            switch command {
            case .pause: .pause
            case .resume: .resume
            case .abort: .abort
            case .rollback(let c): .rollBack(hardwareClass: c)
            }
        let engine = try decodeEngine(r)
        let command = RolloutCommand(operation, by: actor)
        if let refusal = engine.refusal(of: command) { throw APIError.conflict(refusal) }
        audit(actor, "rollout.\(Self.commandName(command.operation))", id)
        guard let stepped = await step(r, commands: [command]) else {
            throw APIError(
                .unavailable, "rollout \(id) is being stepped by another coordinator or could not be stepped; retry in a few seconds")
        }
        return try apiRollout(stepped)
    }

    static func commandName(_ op: RolloutCommand.Operation) -> String {
        switch op {
        case .pause: "pause"
        case .resume: "resume"
        case .abort: "abort"
        case .rollBack: "rollback"
        }
    }

    func targetDevices(_ target: String) throws -> [RolloutDevice] {
        let selector: LabelSelector
        do { selector = try LabelSelector(parsing: target) } catch { throw APIError.invalidRequest(field: "target", error.description) }
        return try store.devices(matching: selector).map(Self.rolloutDevice)
    }

    /// The spec of a rollout request: the release's variants, and per class the baseline the
    /// gates compare with — the release of this model most of the class's target devices run
    /// committed, or else the latest ready one before it.
    func rolloutSpec(_ request: APIRolloutRequest, id: String) throws -> RolloutSpec {
        guard let release = try store.release(name: request.modelName, version: request.version) else {
            throw APIError.notFound("no release \(request.modelName) \(request.version); add it with `flotilla model add`")
        }
        guard release.status == .ready else {
            throw APIError.conflict(
                "release \(request.modelName) \(request.version) is \(release.status.rawValue)\(release.error.map { ": \($0)" } ?? ""); roll out a ready release"
            )
        }
        var variants: [String: ArtifactDescriptor] = [:]
        for v in try store.variants(name: release.name, version: release.version) {
            variants[v.hardwareClass] = Self.descriptor(v, releaseSequence: release.releaseSequence)
        }
        let devices = try targetDevices(request.target)
        var baselines: [String: ArtifactDescriptor] = [:]
        let fallback = try store.latestReadyRelease(name: release.name, before: release.releaseSequence)
        for hardwareClass in Set(devices.map(\.hardwareClass)) {
            var counts: [UInt64: Int] = [:]
            for d in devices where d.hardwareClass == hardwareClass {
                if let r = d.running, r.modelName == release.name, r.status == .committed, r.releaseSequence < release.releaseSequence {
                    counts[r.releaseSequence, default: 0] += 1
                }
            }
            let chosen = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) }.map(\.key)
            let base = try chosen.flatMap { try store.release(name: release.name, releaseSequence: $0) } ?? fallback
            if let base, let v = try store.variant(name: base.name, version: base.version, hardwareClass: hardwareClass) {
                baselines[hardwareClass] = Self.descriptor(v, releaseSequence: base.releaseSequence)
            }
        }
        let g = request.gate
        let defaults = GatePolicy()
        let gate = GatePolicy(
            minDevicesReporting: g.minDevices ?? defaults.minDevicesReporting,
            minInstallSuccessRate: g.minSuccessRate ?? defaults.minInstallSuccessRate,
            maxLatencyP95Ratio: g.maxP95Ratio ?? defaults.maxLatencyP95Ratio,
            maxAccuracyDrop: g.maxAccuracyDrop ?? defaults.maxAccuracyDrop,
            maxAgreementDrop: g.maxAgreementDrop ?? defaults.maxAgreementDrop,
            gateTimeoutMs: g.gateTimeoutSeconds.map { Int64($0 * 1000) } ?? defaults.gateTimeoutMs,
            minLatencySamples: g.minLatencySamples ?? defaults.minLatencySamples)
        let policy: RollbackPolicy =
            switch request.onFailure {
            case .failingClass: .failingClass
            case .all: .all
            case .none: .none
            }
        let spec = RolloutSpec(
            rolloutID: id, modelName: release.name, version: release.version, releaseSequence: release.releaseSequence,
            target: request.target,
            waves: request.waves, soakMs: Int64(request.soakSeconds * 1000), variants: variants, baselines: baselines, gate: gate,
            rollbackPolicy: policy, trial: TrialPolicy(shadowSeconds: 0, watchSeconds: 600))
        do { try spec.validate() } catch { throw APIError.invalidRequest(field: "rollout", error.description) }
        return spec
    }

    static func descriptor(_ v: VariantRecord, releaseSequence: UInt64) -> ArtifactDescriptor {
        ArtifactDescriptor(
            modelName: v.modelName, modelVersion: v.modelVersion, releaseSequence: releaseSequence, hardwareClass: v.hardwareClass,
            transport: TransportDigests(
                uncompressedSize: v.uncompressedSize, uncompressedSHA256: v.uncompressedSHA256, compressedSize: v.compressedSize,
                compressedSHA256: v.compressedSHA256), chunkSize: v.chunkSize)
    }
}
