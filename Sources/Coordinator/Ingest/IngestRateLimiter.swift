public import FleetProtocol

/// How many messages one device may publish on one of its topics: a token bucket that holds
/// `burst` tokens and refills at `messagesPerSecond`; each message takes one.
public struct IngestBudget: Sendable, Equatable, Codable {
    public var messagesPerSecond: Double
    public var burst: Double

    /// Ten a second with a burst of 600 per (device, topic kind): far above what an agent
    /// sends (telemetry every few seconds at most, a handful of events per update, an outbox
    /// of a few hundred events drained after a long outage), far below a flood.
    public static let `default` = IngestBudget(messagesPerSecond: 10, burst: 600)

    public init(messagesPerSecond: Double, burst: Double) {
        self.messagesPerSecond = messagesPerSecond
        self.burst = burst
    }
}

/// Token buckets per (device id, topic kind), checked before a message is decoded, so a
/// device that floods its topics costs the coordinator a dictionary lookup per excess message
/// and never delays other devices' messages behind its own decoding and store work.
///
/// The device id is the topic's (the broker's ACL ties it to the device's credentials; a
/// payload naming another device is refused later by `DeviceMessageDecoder`). Memory is
/// bounded: at most `maxTracked` buckets. When the table is full, buckets that refilled to
/// `burst` (indistinguishable from a fresh one) are forgotten first, then the least recently
/// used quarter; a flooder evicted that way comes back with one fresh burst, no more.
public struct IngestRateLimiter: Sendable {
    struct Key: Hashable {
        var deviceID: String
        var kind: Topics.DeviceTopic
    }

    struct Bucket {
        var tokens: Double
        var updatedMs: Int64
    }

    public let budget: IngestBudget
    public let maxTracked: Int
    var buckets: [Key: Bucket] = [:]

    public init(budget: IngestBudget, maxTracked: Int = 100_000) {
        self.budget = budget
        self.maxTracked = max(maxTracked, 1)
    }

    /// Buckets held right now (at most `maxTracked`).
    public var trackedCount: Int { buckets.count }

    /// Whether one more message from `deviceID` on its `kind` topic fits the budget at
    /// `nowMs`; takes its token if so. A clock going backwards refills nothing.
    public mutating func admit(deviceID: String, kind: Topics.DeviceTopic, nowMs: Int64) -> Bool {
        let key = Key(deviceID: deviceID, kind: kind)
        var bucket: Bucket
        if let known = buckets[key] {
            bucket = known
            bucket.tokens = refilled(bucket, nowMs: nowMs)
            bucket.updatedMs = max(bucket.updatedMs, nowMs)
        } else {
            if buckets.count >= maxTracked { evict(nowMs: nowMs) }
            bucket = Bucket(tokens: budget.burst, updatedMs: nowMs)
        }
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        buckets[key] = bucket
        return admitted
    }

    func refilled(_ bucket: Bucket, nowMs: Int64) -> Double {
        let elapsedMs = nowMs > bucket.updatedMs ? Double(nowMs - bucket.updatedMs) : 0
        return min(budget.burst, bucket.tokens + elapsedMs * budget.messagesPerSecond / 1000)
    }

    mutating func evict(nowMs: Int64) {
        buckets = buckets.filter { refilled($0.value, nowMs: nowMs) < budget.burst }
        guard buckets.count >= maxTracked else { return }
        let oldest = buckets.sorted { $0.value.updatedMs < $1.value.updatedMs }.prefix(max(maxTracked / 4, 1))
        for (key, _) in oldest { buckets[key] = nil }
    }
}
