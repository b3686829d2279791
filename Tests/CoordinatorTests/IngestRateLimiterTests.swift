import Coordinator
import FleetProtocol
import TestSupport
import XCTest

/// The per-device token buckets, as values on an explicit clock.
final class IngestRateLimiterTests: XCTestCase {
    func admitted(_ limiter: inout IngestRateLimiter, _ device: String, _ kind: Topics.DeviceTopic, count: Int, at nowMs: Int64) -> Int {
        (0..<count).filter { _ in limiter.admit(deviceID: device, kind: kind, nowMs: nowMs) }.count
    }

    func testBurstThenSustainedRate() {
        var l = IngestRateLimiter(budget: IngestBudget(messagesPerSecond: 4, burst: 10))
        XCTAssertEqual(admitted(&l, "d1", .telemetry, count: 1000, at: 0), 10, "the burst, then nothing")
        XCTAssertEqual(admitted(&l, "d1", .telemetry, count: 1000, at: 249), 0, "0.996 of a token is not one")
        XCTAssertEqual(admitted(&l, "d1", .telemetry, count: 1000, at: 250), 1)
        XCTAssertEqual(admitted(&l, "d1", .telemetry, count: 1000, at: 1250), 4, "4 per second")
        XCTAssertEqual(admitted(&l, "d1", .telemetry, count: 1000, at: 1_000_000), 10, "refill stops at the burst")
    }

    func testDevicesAndTopicKindsHaveTheirOwnBuckets() {
        var l = IngestRateLimiter(budget: IngestBudget(messagesPerSecond: 1, burst: 3))
        XCTAssertEqual(admitted(&l, "flooder", .telemetry, count: 500, at: 0), 3)
        XCTAssertEqual(admitted(&l, "flooder", .events, count: 2, at: 0), 2, "its events are not starved by its telemetry")
        XCTAssertEqual(admitted(&l, "other", .telemetry, count: 3, at: 0), 3, "other devices keep their whole budget")
        XCTAssertEqual(l.trackedCount, 3)
    }

    func testAClockGoingBackwardsRefillsNothing() {
        var l = IngestRateLimiter(budget: IngestBudget(messagesPerSecond: 100, burst: 2))
        XCTAssertEqual(admitted(&l, "d", .state, count: 5, at: 10_000), 2)
        XCTAssertEqual(admitted(&l, "d", .state, count: 5, at: 0), 0)
        XCTAssertEqual(admitted(&l, "d", .state, count: 5, at: 10_009), 0, "time already counted is not counted again")
        XCTAssertEqual(admitted(&l, "d", .state, count: 5, at: 10_010), 1)
    }

    /// A stream of new device ids (no broker ACL, or a broker that lets anyone invent ids)
    /// cannot grow the table past its bound, and a device still flooding when the table fills
    /// stays limited: idle buckets go first.
    func testTheTableStaysBoundedUnderEndlessNewDeviceIDs() {
        var l = IngestRateLimiter(budget: IngestBudget(messagesPerSecond: 1, burst: 5), maxTracked: 1000)
        XCTAssertEqual(admitted(&l, "flooder", .telemetry, count: 50, at: 0), 5)
        var rng = SplitMix64(seed: 7)
        var peak = 0
        for i in 0..<20_000 {
            let now = Int64(i)  // 1 ms apart: every new id's bucket is full, i.e. idle
            _ = l.admit(deviceID: "spoof-\(rng.next())", kind: .online, nowMs: now)
            // The flooder keeps using its bucket, so it is never the idle one.
            if i % 100 == 0 { _ = l.admit(deviceID: "flooder", kind: .telemetry, nowMs: now) }
            peak = max(peak, l.trackedCount)
        }
        XCTAssertLessThanOrEqual(peak, 1000)
        // Its attempts every 100 ms spent each token as it was earned: an evicted (fresh) bucket
        // would let a burst of 5 through here.
        XCTAssertLessThanOrEqual(admitted(&l, "flooder", .telemetry, count: 50, at: 20_000), 1, "the flooder's bucket survived the churn")
    }

    func testBudgetValidationNamesTheField() {
        XCTAssertThrowsError(
            try CoordinatorConfig(
                dataDirectory: URL(fileURLWithPath: "/tmp"), broker: .init(host: "h", port: 1), apiTokens: ["a": "0123456789abcdef"],
                hardwareClassDirectory: URL(fileURLWithPath: "/tmp"), ingestBudget: IngestBudget(messagesPerSecond: 0, burst: 10))
        ) { XCTAssertTrue("\($0)".contains("ingestMessagesPerSecond"), "\($0)") }
        XCTAssertThrowsError(
            try CoordinatorConfig(
                dataDirectory: URL(fileURLWithPath: "/tmp"), broker: .init(host: "h", port: 1), apiTokens: ["a": "0123456789abcdef"],
                hardwareClassDirectory: URL(fileURLWithPath: "/tmp"), ingestBudget: IngestBudget(messagesPerSecond: 1, burst: 0.5))
        ) { XCTAssertTrue("\($0)".contains("ingestBurst"), "\($0)") }
    }
}
