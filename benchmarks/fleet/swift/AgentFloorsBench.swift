import Crypto
import FleetProtocol
import Foundation
import Glibc
import ModelArtifact
import ModelIR
import Runtime
import Zstd

/// The per-device floors of an update, each step measured alone on this machine for the fleet
/// bench's release (`fleet-bench agent-floors --work DIR [--artifact-bytes N] [--devices REPS]`):
/// the same library calls the agent makes, one step at a time, `--devices` repetitions each,
/// thread CPU time and wall time (medians). `DIR` is where the files go, so the fsync and
/// write figures are those of that file system (run.sh passes the data root). No broker,
/// actor or MQTT: what is left when those are taken away.
struct AgentFloorsBench {
    let options: Options

    struct Row {
        var step: String
        var cpuUs: [Double] = []
        var wallUs: [Double] = []
    }

    func run() throws {
        let dir = URL(fileURLWithPath: options.work).appendingPathComponent("floors-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = ArtifactSigningKey.generate()
        // `--artifact-bytes` is the compressed size, as in `BenchRelease.register`.
        let built = try BenchRelease.artifact(
            version: "1", sequence: 1, hardwareClass: "bench", compressedBytes: options.artifactBytes, key: key)
        let digests = built.digests
        let plan = try ChunkPlan(artifactDigest: digests.uncompressedSHA256, totalSize: digests.compressedSize)
        let frames = try Chunker.frames(of: built.compressed, plan: plan).map(\.encoded)
        let trust = ArtifactTrust.pinnedKeys([key.publicKey])
        let reps = max(3, min(options.devices, 200))
        note(
            "agent-floors: \(reps) repetitions, artifact \(digests.uncompressedSize) B, compressed \(digests.compressedSize) B in \(dir.path)"
        )

        var rows: [Row] = []
        func measure(_ step: String, _ body: (Int) throws -> Void) rethrows {
            var row = Row(step: step)
            for i in 0..<reps {
                let cpu0 = threadCPUus(), wall0 = ContinuousClock.now
                try body(i)
                row.cpuUs.append(threadCPUus() - cpu0)
                row.wallUs.append((ContinuousClock.now - wall0).ms * 1000)
            }
            note("\(step): cpu p50 \(Int(median(row.cpuUs))) µs, wall p50 \(Int(median(row.wallUs))) µs")
            rows.append(row)
        }

        let download = dir.appendingPathComponent("download").path
        let slot = dir.appendingPathComponent("model.flt")
        // Receive: a fresh array per delivery (the MQTT transport copies the payload), the
        // frame decoded and its payload hashed, as `ChunkReassembler.accept` does.
        try measure("chunk frames: copy, decode, SHA-256 of each payload") { _ in
            for f in frames { _ = try ChunkFrame.decode(Array(f)) }
        }
        try measure("chunk accept: decode, SHA-256 and pwrite every chunk (no sync)") { _ in
            let r = try ChunkReassembler(plan: plan, expectedSHA256: digests.compressedSHA256, path: download, maxBytes: 1 << 30)
            for f in frames { _ = try r.accept(frameBytes: f) }
            r.close()
        }
        measure("fsync of the written download") { _ in
            let fd = open(download, O_RDWR)
            _ = fsync(fd)
            close(fd)
        }
        measure("SHA-256 of the compressed artifact (in memory)") { _ in _ = SHA256.hash(data: built.compressed) }
        try measure("SHA-256 of the compressed download (file, 1 MiB reads)") { _ in
            _ = try ArtifactTransport.sha256(fileAt: URL(fileURLWithPath: download))
        }
        try measure("zstd decompress (in memory)") { _ in _ = try Zstd.decompress(built.compressed, maxOutputBytes: 1 << 30) }
        var proof: VerifiedFile?
        try measure("install: ArtifactTransport.decompress file → slot (hashes, write, rename)") { _ in
            proof = try ArtifactTransport.decompress(fileAt: URL(fileURLWithPath: download), to: slot, expected: digests, maxBytes: 1 << 30)
        }
        // What the reader verifies: an Ed25519 signature over a context string and a 32-byte
        // header digest (the same algorithm, through swift-crypto).
        let signer = Curve25519.Signing.PrivateKey()
        let message = Array("flotilla-artifact-v1".utf8) + Array(SHA256.hash(data: built.bytes))
        let signature = try signer.signature(for: message)
        try measure("Ed25519 verify of one signature (context + header digest)") { _ in
            guard signer.publicKey.isValidSignature(signature, for: message) else { throw BenchError("signature did not verify") }
        }
        try measure("ArtifactReader.open of the slot (signature, section SHA-256s, JSON)") { _ in
            _ = try ArtifactReader.open(slot, trust: trust)
        }
        // What the agent does after its own install: the whole-file digest covers the sections.
        try measure("ArtifactReader.open of the slot, verified: the install's whole-file digest") { _ in
            let a = try ArtifactReader.open(slot, trust: trust, verified: proof)
            guard case .coveredByWholeFile = a.sectionDigests else { throw BenchError("the install's proof did not cover the sections") }
        }
        let artifact = try ArtifactReader.open(slot, trust: trust)
        let packed = artifact.packedWeights
        try measure("plan: ExecutionPlan (Gemm weight pre-packed in the artifact, read in place)") { _ in
            _ = try ExecutionPlan(model: artifact.model, bindings: [:], options: .init(packedWeights: packed, threads: 1))
        }
        let executionPlan = try ExecutionPlan(model: artifact.model, bindings: [:], options: .init(packedWeights: packed, threads: 1))
        guard let bundle = artifact.validation, let first = bundle.samples.first else { throw BenchError("no validation bundle") }
        try measure("validation bundle: \(bundle.samples.count) samples + 3 timed runs") { _ in
            let session = executionPlan.makeSession()
            for sample in bundle.samples { _ = try session.run(inputs: sample.inputs) }
            for _ in 0..<3 { _ = try session.run(inputs: first.inputs) }
        }
        let state = Array(repeating: UInt8(ascii: "x"), count: 1200)
        let statePath = dir.appendingPathComponent("state.json").path
        measure("durable small file: write, fsync, rename, fsync dir") { _ in
            let tmp = statePath + ".tmp"
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            _ = state.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            _ = fsync(fd)
            close(fd)
            rename(tmp, statePath)
            let d = open(dir.path, O_RDONLY)
            _ = fsync(d)
            close(d)
        }
        try emit([
            "mode": "agent-floors", "repetitions": reps, "artifact_bytes": digests.uncompressedSize,
            "compressed_bytes": digests.compressedSize, "chunks": frames.count, "directory": options.work,
            "steps": rows.map { ["step": $0.step, "cpu_us_p50": median($0.cpuUs), "wall_us_p50": median($0.wallUs)] as [String: Any] },
        ])
    }
}

/// CPU time of the calling thread, in microseconds.
func threadCPUus() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1e6 + Double(t.tv_nsec) / 1e3
}
