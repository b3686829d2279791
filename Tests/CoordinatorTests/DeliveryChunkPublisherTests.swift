import Coordinator
import FleetProtocol
import Foundation
import XCTest

final class DeliveryChunkPublisherTests: XCTestCase {
    struct Fixture {
        var path: String
        var plan: ChunkPlan
        var bytes: [UInt8]
    }

    func makeArtifact(size: Int, chunkSize: Int) throws -> Fixture {
        var state: UInt64 = 7
        let bytes = (0..<size).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chunks-\(UUID().uuidString).zst").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let digest = String(repeating: "ab", count: 32)
        return Fixture(path: path, plan: try ChunkPlan(artifactDigest: digest, totalSize: size, chunkSize: chunkSize), bytes: bytes)
    }

    /// The coordinator's publisher and one device on an in-memory broker: the device subscribed
    /// to the artifact's `kind` topic, the artifact registered under `hardwareClass`.
    func connect(
        _ f: Fixture, hardwareClass: String = "c", subscribe kind: Topics.ArtifactTopic = .chunks, bytesPerSecond: Int,
        gatherWindow: Duration = .zero
    ) async throws -> (device: InMemoryTransport, messages: AsyncStream<InboundMessage>, publisher: ChunkPublisher) {
        let broker = InMemoryBroker()
        let device = broker.client("dev")
        await device.connect()
        let coordinator = broker.client("coord")
        await coordinator.connect()
        let topic = try Topics.artifact(hardwareClass: hardwareClass, artifactDigest: f.plan.artifactDigest, kind)
        let messages = try await device.subscribe(topic, qos: .atLeastOnce)
        let publisher = ChunkPublisher(transport: coordinator, bytesPerSecond: bytesPerSecond, gatherWindow: gatherWindow)
        await publisher.register(.init(hardwareClass: hardwareClass, plan: f.plan, path: f.path))
        return (device, messages, publisher)
    }

    /// Collects decoded frames from the class topic until `count` arrived (or 10 s).
    func collect(_ stream: AsyncStream<InboundMessage>, count: Int) async -> [ChunkFrame] {
        let task = Task {
            var frames: [ChunkFrame] = []
            for await m in stream {
                if let f = try? ChunkFrame.decode(m.payload) { frames.append(f) }
                if frames.count >= count { break }
            }
            return frames
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(10))
            task.cancel()
        }
        let frames = await task.value
        timeout.cancel()
        return frames
    }

    func testRequestsInOneWindowAreMergedIntoOnePass() async throws {
        let f = try makeArtifact(size: 10_000, chunkSize: 1024)
        defer { try? FileManager.default.removeItem(atPath: f.path) }
        let (_, stream, publisher) = try await connect(
            f, hardwareClass: "x86_64-avx2", bytesPerSecond: 1 << 30, gatherWindow: .milliseconds(200))
        // 50 devices join ("everything"), two ask for ranges: one pass of 10 chunks.
        for i in 0..<50 {
            await publisher.handle(
                ChunkRequest(
                    deviceID: "d\(i)", hardwareClass: "x86_64-avx2", artifactDigest: f.plan.artifactDigest, missing: [], attempt: 1))
        }
        await publisher.handle(
            ChunkRequest(
                deviceID: "late", hardwareClass: "x86_64-avx2", artifactDigest: f.plan.artifactDigest,
                missing: [ChunkRange(first: 3, count: 2)], attempt: 2))
        let frames = await collect(stream, count: 10)
        XCTAssertEqual(frames.map(\.header.index), Array(0..<10))
        var rebuilt: [UInt8] = []
        for frame in frames { rebuilt += frame.payload }
        XCTAssertEqual(rebuilt, f.bytes)
        // The subscriber can see the last frame before the publish call returns and counts it.
        var counters = await publisher.counters
        for _ in 0..<100 where counters.framesPublished < 10 {
            try await Task.sleep(for: .milliseconds(10))
            counters = await publisher.counters
        }
        XCTAssertEqual(counters.framesPublished, 10)
        XCTAssertEqual(counters.requestsMerged, 51)
        await publisher.stop()
    }

    func testBandwidthCapIsALowerBoundOnDuration() async throws {
        // 64 KiB at 128 KiB/s: the 15 frames after the first take at least 15 × 4 KiB / 128 KiB/s.
        let f = try makeArtifact(size: 64 << 10, chunkSize: 4096)
        defer { try? FileManager.default.removeItem(atPath: f.path) }
        let (_, stream, publisher) = try await connect(f, bytesPerSecond: 128 << 10)
        let start = ContinuousClock.now
        await publisher.publishAll(hardwareClass: "c", digest: f.plan.artifactDigest)
        let frames = await collect(stream, count: 16)
        let elapsed = ContinuousClock.now - start
        XCTAssertEqual(frames.count, 16)
        // The first frame leaves at once; the cap paces the other 15.
        let framed = Double(15 * (4096 + ChunkHeader.encodedSize))
        XCTAssertGreaterThanOrEqual(elapsed, .seconds(framed / Double(128 << 10)))
        await publisher.stop()
    }

    func testCancelDropsQueueAndTellsDevices() async throws {
        let f = try makeArtifact(size: 40_000, chunkSize: 1024)
        defer { try? FileManager.default.removeItem(atPath: f.path) }
        // A slow cap keeps most chunks queued when the cancel comes.
        let (_, cancels, publisher) = try await connect(f, subscribe: .cancel, bytesPerSecond: 8192)
        await publisher.publishAll(hardwareClass: "c", digest: f.plan.artifactDigest)
        let queued = await publisher.pendingCount(hardwareClass: "c", digest: f.plan.artifactDigest)
        XCTAssertGreaterThan(queued, 30)
        await publisher.cancel(hardwareClass: "c", digest: f.plan.artifactDigest, releaseSequence: 4, reason: "gate failed")
        let left = await publisher.pendingCount(hardwareClass: "c", digest: f.plan.artifactDigest)
        XCTAssertEqual(left, 0)
        var iterator = cancels.makeAsyncIterator()
        let message = await iterator.next()
        let decoded = try MessageEnvelope.decode(DownloadCancel.self, from: message?.payload ?? [])
        XCTAssertEqual(decoded.releaseSequence, 4)
        XCTAssertEqual(decoded.reason, "gate failed")
        await publisher.stop()
    }

    /// A device that joins while a pass runs gets the rest of that pass and then only what it
    /// missed; the devices already in the pass are not sent back to chunk 0.
    func testAJoinerMidPassGetsTheRestThenWhatItMissed() async throws {
        let f = try makeArtifact(size: 40 * 1024, chunkSize: 1024)
        defer { try? FileManager.default.removeItem(atPath: f.path) }
        // ~16 frames a second: the pass is still running when the second device asks.
        let (device, stream, publisher) = try await connect(f, bytesPerSecond: 16 * (1024 + ChunkHeader.encodedSize))
        let everything = { (id: String) in
            ChunkRequest(deviceID: id, hardwareClass: "c", artifactDigest: f.plan.artifactDigest, missing: [], attempt: 1)
        }
        let received = Task {
            var indices: [Int] = []
            for await m in stream {
                if let frame = try? ChunkFrame.decode(m.payload) { indices.append(frame.header.index) }
            }
            return indices
        }
        await publisher.handle(everything("early"))
        var sent = 0
        for _ in 0..<1000 where sent < 5 {
            try await Task.sleep(for: .milliseconds(10))
            sent = await publisher.counters.framesPublished
        }
        await publisher.handle(everything("late"))
        var left = 1
        for _ in 0..<2000 where left > 0 {
            try await Task.sleep(for: .milliseconds(10))
            left = await publisher.pendingCount(hardwareClass: "c", digest: f.plan.artifactDigest)
        }
        XCTAssertEqual(left, 0)
        try await Task.sleep(for: .milliseconds(300))
        await device.disconnect()
        received.cancel()
        let indices = await received.value
        // One sweep 0...39 in order, then the missed head 0..<m: m frames for the late device.
        XCTAssertEqual(Array(indices.prefix(40)), Array(0..<40), "\(indices)")
        let missed = Array(indices.dropFirst(40))
        XCTAssertGreaterThanOrEqual(missed.count, 5)
        XCTAssertLessThan(missed.count, 40)
        XCTAssertEqual(missed, Array(0..<missed.count))
        let counters = await publisher.counters
        XCTAssertEqual(counters.framesPublished, 40 + missed.count)
        XCTAssertEqual(counters.passes, 1)
        await publisher.stop()
    }

    func testUnknownArtifactIsRefused() async throws {
        let broker = InMemoryBroker()
        let publisher = ChunkPublisher(transport: broker.client("coord"), bytesPerSecond: 1 << 20)
        await publisher.handle(
            ChunkRequest(deviceID: "d", hardwareClass: "c", artifactDigest: String(repeating: "0", count: 64), missing: [], attempt: 1))
        let counters = await publisher.counters
        XCTAssertEqual(counters.requestsRefused, 1)
        XCTAssertEqual(counters.framesPublished, 0)
    }
}
