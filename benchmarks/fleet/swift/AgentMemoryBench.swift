import FleetProtocol
import Foundation
import Glibc
import ModelArtifact
import ModelIR
import Runtime

/// Where an agent's memory goes with one committed model: `--devices` agents' worth of the
/// steps an agent takes for the fleet bench's release (receive every chunk frame as a fresh
/// array as MQTT delivers it, reassemble into a file; decompress and check the signature; open
/// the slot and plan it as `LoadedModel.load` does; run the validation bundle; keep the plan
/// as the serving model), all kept alive together like agents in one process. After each
/// step: RssAnon and RssFile of the process, then again after glibc `malloc_trim(0)` (which
/// returns freed heap pages the allocator kept). The same library calls as the agent; the
/// agent's actor, MQTT and persistence are left out, so this splits the model's cost from
/// theirs. No broker.
struct AgentMemoryBench {
    let options: Options

    struct Agent {
        var reassembler: ChunkReassembler?
        var artifact: Artifact?
        var plan: ExecutionPlan?
    }

    func run() throws {
        let dir = URL(fileURLWithPath: options.work.isEmpty ? NSTemporaryDirectory() + "agent-memory-\(getpid())" : options.work)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if options.work.isEmpty { try? FileManager.default.removeItem(at: dir) } }
        let key = ArtifactSigningKey.generate()
        // `--artifact-bytes` is the compressed size, as in `BenchRelease.register`.
        let built = try BenchRelease.artifact(
            version: "1", sequence: 1, hardwareClass: "bench", compressedBytes: options.artifactBytes, key: key)
        let digests = built.digests
        let plan = try ChunkPlan(artifactDigest: digests.uncompressedSHA256, totalSize: digests.compressedSize)
        let frames = try Chunker.frames(of: built.compressed, plan: plan).map(\.encoded)
        let trust = ArtifactTrust.pinnedKeys([key.publicKey])
        note(
            "agent-memory: \(options.devices) agents, artifact \(digests.uncompressedSize) B, compressed \(digests.compressedSize) B, "
                + "\(frames.count) chunks")
        var rows: [[String: Any]] = []
        func measure(_ step: String) {
            let before = ProcessMemory.read()
            trimHeap()
            let trimmed = ProcessMemory.read()
            note("\(step): anon \(before.anonKiB) KiB, file \(before.fileKiB) KiB; after malloc_trim anon \(trimmed.anonKiB) KiB")
            rows.append([
                "step": step, "anon_kib": before.anonKiB, "file_kib": before.fileKiB, "trimmed_anon_kib": trimmed.anonKiB,
                "trimmed_file_kib": trimmed.fileKiB,
            ])
        }
        measure("start")
        var agents = [Agent](repeating: Agent(), count: options.devices)
        for i in agents.indices {
            let r = try ChunkReassembler(
                plan: plan, expectedSHA256: digests.compressedSHA256, path: dir.appendingPathComponent("dl-\(i)").path,
                maxBytes: 1 << 30)
            // A fresh array per delivery, as the MQTT client hands each message over.
            for f in frames { _ = try r.accept(frameBytes: Array(f)) }
            _ = try r.checkpoint()
            try r.finish()
            agents[i].reassembler = r
        }
        measure("downloaded")
        for i in agents.indices {
            agents[i].reassembler?.close()
            agents[i].reassembler = nil
            let slot = dir.appendingPathComponent("slot-\(i)")
            try ArtifactTransport.decompress(
                fileAt: dir.appendingPathComponent("dl-\(i)"), to: slot, expected: digests, maxBytes: 1 << 30)
            _ = try ArtifactReader.open(slot, trust: trust)
        }
        measure("installed")
        for i in agents.indices {
            let artifact = try ArtifactReader.open(dir.appendingPathComponent("slot-\(i)"), trust: trust)
            agents[i].artifact = artifact
            agents[i].plan = try ExecutionPlan(
                model: artifact.model, bindings: [:], options: .init(packedWeights: artifact.packedWeights, threads: 1))
        }
        measure("loaded")
        var agreeing = 0
        for agent in agents {
            guard let plan = agent.plan, let bundle = agent.artifact?.validation else { throw BenchError("no plan or bundle") }
            let session = plan.makeSession()
            for sample in bundle.samples {
                let out = try session.run(inputs: sample.inputs)
                if let y = out["y"]?.asDoubles, let want = sample.referenceOutputs["y"]?.asDoubles,
                    y.indices.max(by: { y[$0] < y[$1] }) == want.indices.max(by: { want[$0] < want[$1] })
                {
                    agreeing += 1
                }
            }
        }
        measure("validated")
        let constantBytes = agents.first?.plan?.constantBytes ?? 0
        try emit([
            "mode": "agent-memory", "devices": options.devices, "artifact_bytes": digests.uncompressedSize,
            "compressed_bytes": digests.compressedSize, "plan_constant_bytes": constantBytes,
            "validation_agreeing": agreeing, "steps": rows,
        ])
        for i in 0..<options.devices { unlink(dir.appendingPathComponent("dl-\(i)").path) }
    }
}

/// RssAnon and RssFile of this process, in KiB, from /proc/self/status.
struct ProcessMemory {
    var anonKiB = 0
    var fileKiB = 0

    static func read() -> ProcessMemory {
        var m = ProcessMemory()
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return m }
        func value(_ line: Substring) -> Int {
            Int(line.split(separator: ":").last?.split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
        }
        for line in text.split(separator: "\n") {
            if line.hasPrefix("RssAnon:") { m.anonKiB = value(line) }
            if line.hasPrefix("RssFile:") { m.fileKiB = value(line) }
        }
        return m
    }
}

/// glibc's `malloc_trim(0)`, looked up at run time (Swift's Glibc module does not import
/// malloc.h); a no-op where the C library has none.
func trimHeap() {
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}
