import FleetProtocol
import Foundation
import TestSupport
import XCTest

@testable import Coordinator

/// `mergeTelemetryBatch` against one-by-one `mergeTelemetry` + `touchDevice` on a twin store:
/// same outcomes, same buckets (exact equality, sums included), same last-seen times.
final class StoreTelemetryBatchTests: StoreTestCase {
    static let width: Int64 = 60_000
    static let classes = ["x86-avx2", "arm-dot"]

    /// Seeded summaries from six devices over two artifacts and five buckets, with replays of
    /// earlier summaries (inside a batch and across batches), summaries without a model and
    /// invalid ones mixed in.
    func items(count: Int, seed: UInt64) -> [TelemetryMergeItem] {
        var rng = SplitMix64(seed: seed)
        var sequences: [String: UInt64] = [:]
        var out: [TelemetryMergeItem] = []
        for i in 0..<count {
            let roll = rng.next() % 20
            if roll < 3, !out.isEmpty {
                // A replay of any earlier summary, received later.
                var replay = out[Int(rng.next() % UInt64(out.count))]
                replay.receivedAtMs = 5_000_000 + Int64(i)
                out.append(replay)
                continue
            }
            let deviceIndex = Int(rng.next() % 6)
            let device = "dev-\(deviceIndex)"
            sequences[device, default: 0] += 1
            var histogram = LatencyHistogram()
            for _ in 0..<(1 + rng.next() % 30) { histogram.record(100 + rng.next() % 80_000) }
            let start = Int64(rng.next() % 300) * 1000
            let hasAccuracy = rng.next() % 3 != 0
            var summary = TelemetrySummary(
                deviceID: device, sequence: sequences[device] ?? 1, windowStartMs: start, windowEndMs: start + 10_000,
                artifactDigest: rng.next() % 2 == 0 ? "aa" : "bb", releaseSequence: 3, state: "committed", latencyUs: histogram,
                inferences: histogram.count, errors: rng.next() % 4,
                validationAccuracy: hasAccuracy ? Double(rng.next() % 1000) / 999 : nil,
                validationAgreement: hasAccuracy ? Double(rng.next() % 1000) / 997 : nil, rssBytes: 2_000_000 + rng.next() % 900_000)
            if roll == 3 { summary.artifactDigest = nil }
            if roll == 4 { summary.validationAccuracy = 1.25 }
            out.append(
                TelemetryMergeItem(
                    summary: summary, hardwareClass: Self.classes[deviceIndex % 2], receivedAtMs: 1_000_000 + Int64(i) * 7))
        }
        return out
    }

    func register(_ store: SQLiteStore) throws {
        for d in 0..<6 {
            _ = try store.applyStateReport(
                report("dev-\(d)", sequence: 1, hardwareClass: Self.classes[d % 2]), receivedAtMs: 10)
        }
    }

    func describe(_ result: TelemetryMergeResult) -> String {
        switch result {
        case .success(let outcome): outcome.rawValue
        case .failure(let error): "refused: \(error)"
        }
    }

    func testBatchEqualsOneByOneMerging() throws {
        let single = try open()
        let batched = try SQLiteStore(dataDirectory: directory.appendingPathComponent("batched"))
        try register(single)
        try register(batched)
        // A retention cut that makes the first bucket's summaries expired on both.
        XCTAssertEqual(try single.deleteTelemetry(olderThanMs: Self.width), 0)
        XCTAssertEqual(try batched.deleteTelemetry(olderThanMs: Self.width), 0)

        let all = items(count: 400, seed: 77)
        var expected: [String] = []
        for item in all {
            do throws(StoreError) {
                let outcome = try single.mergeTelemetry(item.summary, hardwareClass: item.hardwareClass, bucketWidthMs: Self.width)
                _ = try single.touchDevice(item.summary.deviceID, seenAtMs: item.receivedAtMs)
                expected.append(outcome.rawValue)
            } catch {
                expected.append("refused: \(error)")
            }
        }
        // Uneven batches: a single item, small ones, and a large rest.
        var got: [String] = []
        var start = 0
        for size in [1, 2, 7, 40, 150, 400] where start < all.count {
            let end = min(all.count, start + size)
            got += try batched.mergeTelemetryBatch(Array(all[start..<end]), bucketWidthMs: Self.width).map(describe)
            start = end
        }
        XCTAssertEqual(got, expected)
        // The data exercises every path.
        for kind in ["merged", "duplicate", "noModel", "expired"] { XCTAssertTrue(expected.contains(kind), kind) }
        XCTAssertTrue(expected.contains { $0.hasPrefix("refused") })

        for digest in ["aa", "bb"] {
            for hardwareClass in Self.classes {
                let a = try single.telemetryBuckets(artifactDigest: digest, hardwareClass: hardwareClass, sinceMs: 0)
                let b = try batched.telemetryBuckets(artifactDigest: digest, hardwareClass: hardwareClass, sinceMs: 0)
                XCTAssertFalse(a.isEmpty, "\(digest) \(hardwareClass)")
                XCTAssertEqual(a, b, "\(digest) \(hardwareClass)")
            }
        }
        XCTAssertEqual(try single.devices().map(\.lastSeenMs), try batched.devices().map(\.lastSeenMs))
        let latestValid = zip(all, expected).filter { !$0.1.hasPrefix("refused") }.map(\.0.receivedAtMs).max()
        XCTAssertEqual(try batched.devices().map(\.lastSeenMs).max(), latestValid)

        // Replaying everything in one batch after a reopen changes nothing.
        let before = try batched.telemetryBuckets(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 0)
        try batched.close()
        let reopened = try SQLiteStore(dataDirectory: directory.appendingPathComponent("batched"))
        let replay = try reopened.mergeTelemetryBatch(all, bucketWidthMs: Self.width).map(describe)
        XCTAssertFalse(replay.contains("merged"))
        XCTAssertEqual(try reopened.telemetryBuckets(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 0), before)
        try reopened.close()
        try single.close()
    }

    func testBatchRefusesABadWidthAndAcceptsAnEmptyBatch() throws {
        let store = try open()
        XCTAssertEqual(try store.mergeTelemetryBatch([], bucketWidthMs: Self.width).count, 0)
        guard case .invalid(let field, _) = storeError({ try store.mergeTelemetryBatch(items(count: 3, seed: 1), bucketWidthMs: 0) })
        else { return XCTFail("a zero bucket width must be refused") }
        XCTAssertEqual(field, "bucketWidthMs")
        try store.close()
    }
}
