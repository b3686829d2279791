public import FleetProtocol
import Foundation

/// Publishes artifact chunks on their class topic (`artifacts/{class}/{digest}/chunks`) for
/// every device that asks, once per gathering window, within a bandwidth cap.
///
/// Devices ask for chunks (`ChunkRequest`): "everything" when they start or join a download,
/// the missing ranges when they stall or resume. Requests for the same artifact are merged
/// into one pass (`ChunkPass`), so a thousand devices joining a wave cause one pass over the
/// file, not a thousand. A first request waits `gatherWindow` before the pass starts, and each
/// further request before it starts extends the wait to `gatherWindow` after itself, up to
/// `maxGather` after the first, so devices that get their desired state over a few seconds
/// still ride the same pass. A device joining a pass in progress gets the rest of it and then
/// the chunks it missed, when the sweep wraps round. Frames are read from the compressed file
/// one chunk at a time (pread), never the whole artifact.
public actor ChunkPublisher {
    /// One artifact this coordinator can serve.
    public struct Source: Sendable, Equatable {
        public var hardwareClass: String
        public var plan: ChunkPlan
        /// The zstd transport file (`ArtifactTransport`), the bytes the plan cuts.
        public var path: String

        public init(hardwareClass: String, plan: ChunkPlan, path: String) {
            self.hardwareClass = hardwareClass
            self.plan = plan
            self.path = path
        }
    }

    struct Key: Hashable, Sendable {
        var hardwareClass: String
        var digest: String
    }

    struct Pending {
        var source: Source
        var pass: ChunkPass<ContinuousClock.Instant>
    }

    /// What has gone out, for metrics and tests.
    public struct Counters: Sendable, Equatable {
        public var framesPublished = 0
        public var bytesPublished = 0
        public var requestsMerged = 0
        public var requestsRefused = 0
        public var publishFailures = 0
        /// Passes started (a pass runs from its gathering window until nothing is pending).
        public var passes = 0
    }

    let transport: any MessageTransport
    let bytesPerSecond: Double
    let gatherWindow: Duration
    let maxGather: Duration
    let log: @Sendable (String) -> Void
    var sources: [Key: Source] = [:]
    var pending: [Key: Pending] = [:]
    /// Round-robin order of artifacts with pending chunks, so one big artifact cannot starve
    /// another class's wave.
    var order: [Key] = []
    public private(set) var counters = Counters()
    /// The earliest instant the next frame may leave under the cap.
    var nextSlot = ContinuousClock.now
    var worker: Task<Void, Never>?
    var wake: AsyncStream<Void>.Continuation?

    public init(
        transport: any MessageTransport, bytesPerSecond: Int, gatherWindow: Duration = .milliseconds(500), maxGather: Duration? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.transport = transport
        self.bytesPerSecond = Double(max(1, bytesPerSecond))
        self.gatherWindow = gatherWindow
        // Four quiet windows by default: 2 s at the default 500 ms.
        self.maxGather = max(maxGather ?? gatherWindow * 4, gatherWindow)
        self.log = log
    }

    /// Makes an artifact servable (idempotent). Requests for unknown artifacts are refused.
    public func register(_ source: Source) {
        sources[Key(hardwareClass: source.hardwareClass, digest: source.plan.artifactDigest)] = source
    }

    public func isRegistered(hardwareClass: String, digest: String) -> Bool {
        sources[Key(hardwareClass: hardwareClass, digest: digest)] != nil
    }

    /// Merges a device's request into the pending set of its artifact.
    public func handle(_ request: ChunkRequest) {
        let key = Key(hardwareClass: request.hardwareClass, digest: request.artifactDigest)
        guard let source = sources[key] else {
            counters.requestsRefused += 1
            log("chunk request from \(request.deviceID) for unknown artifact \(request.hardwareClass)/\(request.artifactDigest) dropped")
            return
        }
        let wanted = request.indices(chunkCount: source.plan.chunkCount)
        enqueue(key, source: source, indices: wanted)
        counters.requestsMerged += 1
    }

    /// Queues every chunk of an artifact (a wave start with devices already listening).
    public func publishAll(hardwareClass: String, digest: String) {
        let key = Key(hardwareClass: hardwareClass, digest: digest)
        guard let source = sources[key] else { return }
        enqueue(key, source: source, indices: Array(0..<source.plan.chunkCount))
    }

    /// Drops whatever is still queued for an artifact and tells its devices to stop.
    public func cancel(hardwareClass: String, digest: String, releaseSequence: UInt64, reason: String) async {
        let key = Key(hardwareClass: hardwareClass, digest: digest)
        pending[key] = nil
        order.removeAll { $0 == key }
        guard let topic = try? Topics.artifact(hardwareClass: hardwareClass, artifactDigest: digest, .cancel) else { return }
        let message = DownloadCancel(hardwareClass: hardwareClass, artifactDigest: digest, releaseSequence: releaseSequence, reason: reason)
        do { try await transport.publish(topic: topic, payload: MessageEnvelope.encode(message), qos: .atLeastOnce, retain: false) } catch {
            counters.publishFailures += 1
            log("could not publish the cancel of \(hardwareClass)/\(digest): \(error)")
        }
    }

    /// Chunks still queued for an artifact.
    public func pendingCount(hardwareClass: String, digest: String) -> Int {
        pending[Key(hardwareClass: hardwareClass, digest: digest)]?.pass.count ?? 0
    }

    public func stop() {
        worker?.cancel()
        worker = nil
        wake?.finish()
        wake = nil
    }

    func enqueue(_ key: Key, source: Source, indices: [Int]) {
        guard !indices.isEmpty else { return }
        let now = ContinuousClock.now
        if var p = pending[key] {
            p.pass.merge(indices, quietUntil: now + gatherWindow)
            pending[key] = p
        } else {
            var pass = ChunkPass(now: now, quietUntil: now + gatherWindow, latest: now + maxGather)
            pass.merge(indices, quietUntil: now + gatherWindow)
            pending[key] = Pending(source: source, pass: pass)
            order.append(key)
        }
        startWorker()
        wake?.yield()
    }

    func startWorker() {
        guard worker == nil else { return }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wake = continuation
        worker = Task { [weak self] in
            var iterator = stream.makeAsyncIterator()
            while !Task.isCancelled {
                guard let self else { return }
                switch await self.step() {
                case .sent: continue
                case .wait(let until): try? await Task.sleep(until: until, clock: .continuous)
                case .idle: if await iterator.next() == nil { return }
                }
            }
        }
    }

    enum Step { case sent, wait(ContinuousClock.Instant), idle }

    /// Sends the next frame due, or says how long to wait.
    func step() async -> Step {
        let now = ContinuousClock.now
        if nextSlot > now { return .wait(nextSlot) }
        guard let (position, key) = order.enumerated().first(where: { pending[$0.element]?.pass.isDue(now) ?? false })
        else {
            let earliest = order.compactMap { pending[$0]?.pass.notBefore }.min()
            return earliest.map { .wait($0) } ?? .idle
        }
        guard var p = pending[key] else {
            order.remove(at: position)
            return .sent
        }
        if !p.pass.started { counters.passes += 1 }
        guard let index = p.pass.next() else {
            pending[key] = nil
            order.remove(at: position)
            return .sent
        }
        if p.pass.isEmpty {
            pending[key] = nil
            order.remove(at: position)
        } else {
            pending[key] = p
            // Round robin: the next frame comes from the next artifact.
            order.append(order.remove(at: position))
        }
        do {
            let frame = try Chunker.frame(fileAt: p.source.path, plan: p.source.plan, index: index)
            let bytes = frame.encoded
            let topic = try Topics.artifact(hardwareClass: key.hardwareClass, artifactDigest: key.digest, .chunks)
            // Charge the cap before the publish, so concurrent waits see the slot taken.
            nextSlot = max(nextSlot, now) + .seconds(Double(bytes.count) / bytesPerSecond)
            try await transport.publish(topic: topic, payload: bytes, qos: .atLeastOnce, retain: false)
            counters.framesPublished += 1
            counters.bytesPublished += bytes.count
        } catch {
            counters.publishFailures += 1
            log("chunk \(index) of \(key.hardwareClass)/\(key.digest) not published: \(error)")
        }
        return .sent
    }
}
