// MQTT fan-out benchmark, Swift side; the plain C peer is benchmarks/mqtt-fanout/c/fanout.c and
// benchmarks/mqtt-fanout/run.sh runs both against a private broker.
//
// Scenario (identical in both): N subscribers and one publisher in this process, all on ONE
// MQTTEventLoop; MQTT 5, QoS 1, every subscriber on one topic. Once all are connected and
// subscribed, the publisher sends `chunks` messages of `chunkBytes` (index in the first 4 bytes,
// big-endian). The clock runs from the first publish until the last subscriber holds every
// index exactly once and the full byte count. Memory per client: VmRSS after all N are connected
// and subscribed (with their consumer tasks running) and one idle second has passed, minus VmRSS
// before creating them (the publisher is connected by then), over N; the figure right at the
// last SUBACK is printed too. Only the public MQTT API is used.
import Foundation
import MQTT
import Synchronization

/// What a subscriber's consumer reports: done (and when), or what was wrong.
enum Outcome: Sendable {
    case complete(at: ContinuousClock.Instant)
    case failed(String)
}

/// What the watchdog prints if the run hangs.
final class Progress: Sendable {
    let phase = Mutex("starting")
    let completed = Atomic<Int>(0)
}

struct Result {
    var timeMs: Double
    var publishAckedMs: Double
    var connectMs: Double
    var rssBeforeKiB: Int
    var rssSubscribedKiB: Int
    var rssAfterKiB: Int
    /// Process CPU (all threads) and minor page faults from the first publish to the end.
    var cpuMs: Double
    var minorFaults: Int
    /// CPU of the event loop's thread over the same span.
    var loopCPUMs: Double
}

func configuration(_ o: Options, clientID: String) -> MQTTConfiguration {
    var c = MQTTConfiguration(host: o.host, port: o.port, clientID: clientID)
    c.protocolVersion = .v5
    c.cleanSession = true
    c.keepAlive = 60
    c.reconnect.enabled = false  // a lost connection is a failed run, not something to hide
    return c
}

/// Checks every message against the scenario and reports completion once all chunks arrived.
func consume(_ client: MQTTClient, index: Int, _ o: Options, into sink: AsyncStream<Outcome>.Continuation) async {
    let all: UInt64 = o.chunks == 64 ? ~0 : (1 << UInt64(o.chunks)) - 1
    var seen: UInt64 = 0
    var bytes = 0
    for await m in client.messages {
        guard m.topic == o.topic, m.payload.count == o.chunkBytes, m.qos == .atLeastOnce else {
            sink.yield(
                .failed(
                    "subscriber \(index): unexpected message on '\(m.topic)' (\(m.payload.count) bytes, QoS \(m.qos.rawValue)); wanted \(o.chunkBytes) bytes at QoS 1 on '\(o.topic)'"
                ))
            return
        }
        let idx = m.payload.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard idx < o.chunks, seen & (1 << UInt64(idx)) == 0 else {
            sink.yield(.failed("subscriber \(index): chunk index \(idx) is out of range or a duplicate"))
            return
        }
        seen |= 1 << UInt64(idx)
        bytes += m.payload.count
        if seen == all && bytes == o.chunks * o.chunkBytes {
            sink.yield(.complete(at: .now))
            return
        }
    }
    sink.yield(.failed("subscriber \(index): message stream ended after \(seen.nonzeroBitCount) of \(o.chunks) chunks (connection lost?)"))
}

/// The same checks as `consume`, for the callback API: called on the event loop's thread only
/// (proof of @unchecked Sendable: libmosquitto callbacks for one client never run concurrently).
final class SubscriberCheck: @unchecked Sendable {
    let index: Int
    let options: Options
    let sink: AsyncStream<Outcome>.Continuation
    var seen: UInt64 = 0
    var bytes = 0
    var done = false

    init(index: Int, options: Options, sink: AsyncStream<Outcome>.Continuation) {
        self.index = index
        self.options = options
        self.sink = sink
    }

    func handle(_ m: MQTTMessage) {
        guard !done else { return }
        let o = options
        guard m.topic == o.topic, m.payload.count == o.chunkBytes, m.qos == .atLeastOnce else {
            done = true
            sink.yield(.failed("subscriber \(index): unexpected message on '\(m.topic)' (\(m.payload.count) bytes)"))
            return
        }
        let idx = m.payload.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard idx < o.chunks, seen & (1 << UInt64(idx)) == 0 else {
            done = true
            sink.yield(.failed("subscriber \(index): chunk index \(idx) is out of range or a duplicate"))
            return
        }
        seen |= 1 << UInt64(idx)
        bytes += m.payload.count
        let all: UInt64 = o.chunks == 64 ? ~0 : (1 << UInt64(o.chunks)) - 1
        if seen == all && bytes == o.chunks * o.chunkBytes {
            done = true
            sink.yield(.complete(at: .now))
        }
    }
}

func run(_ o: Options, loop: MQTTEventLoop, progress: Progress) async throws -> Result {
    // Payloads are built before the clock starts; the index goes in the first 4 bytes.
    let payloads: [[UInt8]] = (0..<o.chunks).map { i in
        var p = (0..<o.chunkBytes).map { b in UInt8(truncatingIfNeeded: b &* 31 &+ i) }
        p[0] = UInt8(truncatingIfNeeded: i >> 24)
        p[1] = UInt8(truncatingIfNeeded: i >> 16)
        p[2] = UInt8(truncatingIfNeeded: i >> 8)
        p[3] = UInt8(truncatingIfNeeded: i)
        return p
    }
    let pid = ProcessInfo.processInfo.processIdentifier
    progress.phase.withLock { $0 = "the publisher's CONNACK" }
    let publisher = try MQTTClient(configuration: configuration(o, clientID: "fanout-swift-pub-\(pid)"), eventLoop: loop)
    try await publisher.connect()

    let rssBefore = try residentKiB()
    let connectStart = ContinuousClock.now
    progress.phase.withLock { $0 = "every CONNACK and SUBACK" }
    let (outcomes, sink) = AsyncStream.makeStream(of: Outcome.self, bufferingPolicy: .unbounded)
    var subscribers: [MQTTClient] = []
    subscribers.reserveCapacity(o.subscribers)
    for i in 0..<o.subscribers {
        let config = configuration(o, clientID: "fanout-swift-\(pid)-\(i)")
        if o.api == "handler" {
            let check = SubscriberCheck(index: i, options: o, sink: sink)
            subscribers.append(try MQTTClient(configuration: config, eventLoop: loop, onMessage: { check.handle($0) }))
        } else {
            subscribers.append(try MQTTClient(configuration: config, eventLoop: loop))
        }
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for (i, client) in subscribers.enumerated() {
            group.addTask {
                try await client.connect()
                let granted = try await client.subscribe(o.topic, qos: .atLeastOnce)
                guard granted == .atLeastOnce else {
                    throw BenchmarkError("subscriber \(i): the broker granted QoS \(granted.rawValue) on '\(o.topic)'; wanted 1")
                }
            }
        }
        try await group.waitForAll()
    }
    if o.api == "stream" {
        for (i, client) in subscribers.enumerated() {
            Task { await consume(client, index: i, o, into: sink) }
        }
    }
    let connectMs = milliseconds(.now - connectStart)
    let rssSubscribed = try residentKiB()
    // Transient memory of the connect phase (connect workers, task-group children) is given
    // back or reused within a moment; the steady cost of a connected client is measured after
    // an idle second, as in the C peer.
    try await Task.sleep(for: .seconds(1))
    let rssAfter = try residentKiB()

    progress.phase.withLock { $0 = "every chunk at every subscriber" }
    let usageStart = ProcessUsage.now()
    let loopCPUStart = eventLoopThreadCPUMs()
    let start = ContinuousClock.now
    async let lastAck: ContinuousClock.Instant = withThrowingTaskGroup(of: ContinuousClock.Instant.self) { group in
        for p in payloads {
            group.addTask {
                try await publisher.publish(topic: o.topic, payload: p, qos: .atLeastOnce)
                return .now
            }
        }
        return try await group.reduce(start) { max($0, $1) }
    }
    var lastComplete = start
    var completed = 0
    for await outcome in outcomes {
        switch outcome {
        case .complete(let at):
            lastComplete = max(lastComplete, at)
            completed += 1
            progress.completed.add(1, ordering: .relaxed)
        case .failed(let why):
            throw BenchmarkError(why)
        }
        if completed == o.subscribers { break }
    }
    let acked = try await lastAck
    let usageEnd = ProcessUsage.now()
    let loopCPUEnd = eventLoopThreadCPUMs()

    await withTaskGroup(of: Void.self) { group in
        for c in subscribers + [publisher] { group.addTask { await c.disconnect() } }
    }
    return Result(
        timeMs: milliseconds(lastComplete - start), publishAckedMs: milliseconds(acked - start),
        connectMs: connectMs, rssBeforeKiB: rssBefore, rssSubscribedKiB: rssSubscribed, rssAfterKiB: rssAfter,
        cpuMs: usageEnd.cpuMs - usageStart.cpuMs, minorFaults: usageEnd.minorFaults - usageStart.minorFaults,
        loopCPUMs: loopCPUEnd - loopCPUStart)
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("mqtt-fanout (swift): \(message)\n".utf8))
    exit(status)
}

let options: Options
do {
    options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.description, status: 2)
}
// Created here, on the main thread, so the loop thread inherits the process's name and its CPU
// time can be found (see eventLoopThreadCPUMs).
let loop = MQTTEventLoop(name: "mqtt-fanout")
let progress = Progress()
// A hung run (a message lost, a client stuck) must end with a message, not block run.sh forever.
Task.detached {
    try? await Task.sleep(for: .seconds(options.timeoutSeconds))
    let phase = progress.phase.withLock { $0 }
    fail(
        "timed out after \(options.timeoutSeconds) s waiting for \(phase) (\(progress.completed.load(ordering: .relaxed)) of \(options.subscribers) subscribers complete); raise --timeout-s or check the broker",
        status: 1)
}
do {
    let r = try await run(options, loop: loop, progress: progress)
    let totalMiB = Double(options.subscribers * options.chunks * options.chunkBytes) / 1_048_576
    let fields: [String] = [
        "\"impl\":\"swift\"", "\"api\":\"\(options.api)\"", "\"subscribers\":\(options.subscribers)", "\"chunks\":\(options.chunks)",
        "\"chunk_bytes\":\(options.chunkBytes)", String(format: "\"time_ms\":%.3f", r.timeMs),
        String(format: "\"publish_acked_ms\":%.3f", r.publishAckedMs),
        String(format: "\"mib_per_s\":%.2f", totalMiB / (r.timeMs / 1000)),
        String(format: "\"connect_ms\":%.1f", r.connectMs), "\"rss_before_kib\":\(r.rssBeforeKiB)",
        "\"rss_subscribed_kib\":\(r.rssSubscribedKiB)", "\"rss_after_kib\":\(r.rssAfterKiB)",
        String(format: "\"kib_per_client\":%.2f", Double(r.rssAfterKiB - r.rssBeforeKiB) / Double(options.subscribers)),
        String(format: "\"kib_per_client_at_subscribe\":%.2f", Double(r.rssSubscribedKiB - r.rssBeforeKiB) / Double(options.subscribers)),
        String(format: "\"cpu_ms\":%.0f", r.cpuMs), "\"minor_faults\":\(r.minorFaults)",
        String(format: "\"loop_cpu_ms\":%.0f", r.loopCPUMs),
    ]
    print("{" + fields.joined(separator: ",") + "}")
} catch {
    fail("\(error)", status: 1)
}
