import FleetProtocol
import Foundation
import ModelArtifact
import Quantizer

/// The options a release was added with, kept as the release's `optionsJSON`.
struct ReleaseOptions: Codable, Sendable {
    var budget: Double
    var minAgreement: Double?
    var classes: [String]
    var modelUpload: String
    var calibrationUpload: String?
    var evalUpload: String
    var labelsUpload: String
    var modelFileName: String?
}

/// An uploaded file's record, kept beside it as `uploads/<id>.json`.
struct UploadRecord: Codable, Sendable {
    var id: String
    var kind: String
    var fileName: String
    /// The file's name under uploads/: the id plus the original extension.
    var storedName: String
    var size: Int
    var sha256: String
    var uploadedBy: String
    var atMs: Int64
}

extension CoordinatorService {
    var uploadsDirectory: URL { config.dataDirectory.appendingPathComponent("uploads") }

    /// Moves a received upload into the data directory; its id names it from then on.
    func storeUpload(_ file: APIReceivedUpload, actor: String) throws -> APIUpload {
        let id = "up-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        // The extension stays: the quantizer tells .npy from .npz (and .onnx) by it.
        let ext = URL(fileURLWithPath: file.fileName).pathExtension.filter { $0.isLetter || $0.isNumber }.prefix(8)
        let storedName = ext.isEmpty ? String(id) : "\(id).\(ext)"
        try FileManager.default.moveItem(at: file.temporaryPath, to: uploadsDirectory.appendingPathComponent(storedName))
        let record = UploadRecord(
            id: String(id), kind: file.kind.rawValue, fileName: file.fileName, storedName: storedName, size: file.size, sha256: file.sha256,
            uploadedBy: actor, atMs: Self.nowMs())
        try JSONEncoder().encode(record).write(to: uploadsDirectory.appendingPathComponent("\(id).json"), options: .atomic)
        audit(actor, "upload", String(id), ["kind": file.kind.rawValue, "file": file.fileName, "sha256": file.sha256])
        return APIUpload(id: String(id), kind: file.kind, fileName: file.fileName, size: file.size, sha256: file.sha256)
    }

    func upload(_ id: String, kind: APIUploadKind, field: String) throws(APIError) -> (url: URL, record: UploadRecord) {
        let meta = uploadsDirectory.appendingPathComponent("\(id).json")
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), let data = try? Data(contentsOf: meta),
            let record = try? JSONDecoder().decode(UploadRecord.self, from: data)
        else { throw .invalidRequest(field: field, "no upload '\(id)'; upload the file first (POST /v1/uploads/\(kind.rawValue))") }
        guard record.kind == kind.rawValue else {
            throw .invalidRequest(field: field, "upload '\(id)' is a \(record.kind) file, not a \(kind.rawValue) file")
        }
        return (uploadsDirectory.appendingPathComponent(record.storedName), record)
    }

    /// Creates the release (allocating its sequence) and starts its build in the background.
    func addRelease(request: APIAddReleaseRequest, actor: String) throws -> ReleaseRecord {
        if try store.release(name: request.name, version: request.version) != nil {
            throw APIError.conflict("release \(request.name) \(request.version) exists; releases are immutable, add a new version")
        }
        let model = try upload(request.modelUpload, kind: .model, field: "modelUpload")
        let eval = try upload(request.evalUpload, kind: .eval, field: "evalUpload")
        let labels = try upload(request.labelsUpload, kind: .labels, field: "labelsUpload")
        let calibration = try request.calibrationUpload.map { id throws(APIError) in
            try upload(id, kind: .calibration, field: "calibrationUpload")
        }
        let known = try classRegistry()
        var classes = request.classes ?? []
        if classes.isEmpty {
            classes = Array(Set(try store.devices().map(\.hardwareClass))).sorted()
            guard !classes.isEmpty else {
                throw APIError.invalidRequest(
                    field: "classes", "no device has reported yet, so no class is present in the fleet; name the classes to build")
            }
        }
        for c in classes where known.named(c) == nil {
            throw APIError.invalidRequest(
                field: "classes", "unknown hardware class '\(c)'; known: \(known.classes.map(\.name).joined(separator: ", "))")
        }
        let options = ReleaseOptions(
            budget: request.budget, minAgreement: request.minAgreement, classes: classes, modelUpload: request.modelUpload,
            calibrationUpload: request.calibrationUpload, evalUpload: request.evalUpload, labelsUpload: request.labelsUpload,
            modelFileName: model.record.fileName)
        let optionsJSON = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        let release = try store.createRelease(
            NewRelease(
                name: request.name, version: request.version, createdBy: actor, createdAtMs: Self.nowMs(),
                sourceSHA256: model.record.sha256,
                optionsJSON: optionsJSON))
        audit(
            actor, "release.add", "\(request.name) \(request.version)",
            ["classes": classes.joined(separator: ","), "budget": "\(request.budget)"])
        let output = config.dataDirectory.appendingPathComponent("artifacts/\(request.name)/\(request.version)")
        let buildRequest = ReleaseBuildRequest(
            model: model.url, calibration: calibration?.url, evaluation: eval.url, labels: labels.url,
            budget: AccuracyBudget(maxDropPoints: request.budget, minAgreement: request.minAgreement), hardwareClasses: classes,
            artifacts: ArtifactOptions(
                modelName: request.name, modelVersion: request.version, releaseSequence: release.releaseSequence,
                signingKey: keyring.activeKey, outputDirectory: output, createdBy: actor))
        let builder = ReleaseBuilder(request: buildRequest, registry: known)
        let key = "\(request.name) \(request.version)"
        // The build blocks for minutes: it runs off the actor; progress comes back as a stream.
        let (progress, sink) = AsyncStream<BuildProgress>.makeStream(bufferingPolicy: .bufferingNewest(4))
        tasks.append(
            Task { [weak self] in
                for await p in progress { await self?.noteProgress(key, p) }
            })
        let work = Task.detached { () -> Result<ReleaseBuildResult, any Error> in
            defer { sink.finish() }
            do { return .success(try builder.build(progress: { sink.yield($0) })) } catch { return .failure(error) }
        }
        builds[key] = Task { [weak self] in
            let result = await work.value
            await self?.finishBuild(release: release, result: result)
        }
        return release
    }

    /// The built-in profiles plus the configured directory, unless that is the built-in one.
    func classRegistry() throws -> HardwareClassRegistry {
        let dir = config.hardwareClassDirectory.standardizedFileURL
        var isDirectory: ObjCBool = false
        let builtIn = try? HardwareClassRegistry.builtInDirectory().standardizedFileURL
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue, dir != builtIn else {
            return try ReleaseBuilder.registry(profileDirectories: [])
        }
        return try ReleaseBuilder.registry(profileDirectories: [dir])
    }

    func noteProgress(_ key: String, _ p: BuildProgress) {
        buildProgress[key] = BuildProgressNote(hardwareClass: p.hardwareClass, phase: p.phase.rawValue, fraction: p.fraction)
    }

    func finishBuild(release: ReleaseRecord, result: Result<ReleaseBuildResult, any Error>) {
        let key = "\(release.name) \(release.version)"
        builds[key] = nil
        buildProgress[key] = nil
        do {
            switch result {
            case .failure(let error):
                try store.updateReleaseStatus(name: release.name, version: release.version, status: .failed, error: "\(error)")
                logger.error("build of \(key) failed: \(error)")
            case .success(let built):
                for v in built.built {
                    let relative = "artifacts/\(release.name)/\(release.version)/\(v.artifactPath.lastPathComponent)"
                    let report = String(decoding: v.reportJSON, as: UTF8.self)
                    try store.putVariant(
                        VariantRecord(
                            modelName: release.name, modelVersion: release.version, hardwareClass: v.hardwareClass,
                            artifactDigest: v.artifactDigest,
                            artifactPath: relative, uncompressedSize: v.transport.uncompressedSize,
                            uncompressedSHA256: v.transport.uncompressedSHA256, compressedSize: v.transport.compressedSize,
                            compressedSHA256: v.transport.compressedSHA256, chunkSize: config.chunkSize,
                            reportJSON: report.isEmpty ? "{}" : report,
                            metrics: v.metrics.merging(["budgetMet": v.budgetMet ? 1 : 0]) { a, _ in a }))
                    try? v.reportText.write(
                        to: config.dataDirectory.appendingPathComponent(relative + ".report.txt"), atomically: true, encoding: .utf8)
                }
                let failures = built.failures.map { "\($0.hardwareClass): \($0.reason)" }
                if built.built.isEmpty {
                    try store.updateReleaseStatus(
                        name: release.name, version: release.version, status: .failed, error: failures.joined(separator: "; "))
                } else {
                    try store.updateReleaseStatus(
                        name: release.name, version: release.version, status: .ready,
                        error: failures.isEmpty ? nil : "not built: " + failures.joined(separator: "; "))
                }
                logger.info("built \(key): \(built.built.count) variants\(failures.isEmpty ? "" : ", failed: \(failures)")")
            }
            audit("coordinator", "release.built", key, ["status": (try? result.get()).map { "\($0.built.count) variants" } ?? "failed"])
        } catch { logger.error("recording the build of \(key) failed: \(error)") }
    }

    /// A build does not survive a restart: say so on the release instead of leaving it "building".
    func failInterruptedBuilds() {
        do {
            for r in try store.releases(name: nil) where r.status == .building && builds["\(r.name) \(r.version)"] == nil {
                try store.updateReleaseStatus(
                    name: r.name, version: r.version, status: .failed,
                    error: "the coordinator restarted during the build; add the model again under a new version")
            }
        } catch { logger.error("could not check interrupted builds: \(error)") }
    }
}
