import FleetProtocol
import Foundation
import TestSupport
import XCTest

@testable import Coordinator

final class StoreTelemetryTests: StoreTestCase {
    static let width: Int64 = 60_000

    /// Seeded summaries from five devices over four buckets; accuracies are multiples of 1/64
    /// so their sums are exact in any order.
    func summaries(count: Int, seed: UInt64, digest: String = "aa") -> [TelemetrySummary] {
        var rng = SplitMix64(seed: seed)
        var sequences: [String: UInt64] = [:]
        return (0..<count).map { i in
            let device = "dev-\(rng.next() % 5)"
            sequences[device, default: 0] += 1
            var histogram = LatencyHistogram()
            for _ in 0..<(1 + rng.next() % 40) { histogram.record(200 + rng.next() % 50_000) }
            let start = Int64(i) * 10_000
            let hasAccuracy = rng.next() % 3 != 0
            return TelemetrySummary(
                deviceID: device, sequence: sequences[device]!, windowStartMs: start, windowEndMs: start + 10_000, artifactDigest: digest,
                releaseSequence: 2, state: "committed", latencyUs: histogram, inferences: histogram.count, errors: rng.next() % 3,
                validationAccuracy: hasAccuracy ? Double(rng.next() % 65) / 64 : nil,
                validationAgreement: hasAccuracy ? Double(48 + rng.next() % 17) / 64 : nil, rssBytes: 1_000_000 + rng.next() % 500_000)
        }
    }

    func expected(_ summaries: [TelemetrySummary], startMs: Int64, endMs: Int64) -> TelemetryAggregate {
        var aggregate = TelemetryAggregate(artifactDigest: "aa", hardwareClass: "x86-avx2", startMs: startMs, endMs: endMs)
        for s in summaries { aggregate.add(s) }
        aggregate.deviceIDs = Set(summaries.map(\.deviceID)).sorted()
        return aggregate
    }

    func testMergeIsExactPerBucketAndInTotal() throws {
        let store = try open()
        let all = summaries(count: 24, seed: 42)
        for s in all {
            XCTAssertEqual(try store.mergeTelemetry(s, hardwareClass: "x86-avx2", bucketWidthMs: Self.width), .merged)
        }
        let buckets = try store.telemetryBuckets(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 0)
        XCTAssertEqual(buckets.map(\.startMs), [0, 60_000, 120_000, 180_000])
        for bucket in buckets {
            // Windows are [start, start + 10 s): six per bucket.
            let inBucket = all.filter { ($0.windowEndMs - 1) / Self.width * Self.width == bucket.startMs }
            XCTAssertEqual(inBucket.count, 6)
            XCTAssertEqual(bucket, expected(inBucket, startMs: bucket.startMs, endMs: bucket.startMs + Self.width))
        }
        let totals = try XCTUnwrap(try store.telemetryTotals(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 0))
        let reference = expected(all, startMs: 0, endMs: 240_000)
        XCTAssertEqual(totals, reference)
        // The histogram is the histogram of the union of every sample.
        var union = LatencyHistogram()
        for s in all { union.merge(s.latencyUs) }
        XCTAssertEqual(totals.latencyUs, union)
        XCTAssertEqual(totals.latencyUs.percentile(0.95), union.percentile(0.95))
        XCTAssertEqual(totals.summaries, 24)
        XCTAssertEqual(totals.inferences, all.reduce(0) { $0 + $1.inferences })
        XCTAssertEqual(totals.rssMaxBytes, all.map(\.rssBytes).max())

        // Since 130 s: the buckets ending after it (120 s and 180 s).
        let recent = try XCTUnwrap(try store.telemetryTotals(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 130_000))
        XCTAssertEqual(recent, expected(all.filter { $0.windowStartMs >= 120_000 }, startMs: 120_000, endMs: 240_000))
        XCTAssertNil(try store.telemetryTotals(artifactDigest: "aa", hardwareClass: "arm-dot", sinceMs: 0))
        XCTAssertNil(try store.telemetryTotals(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 240_000))
    }

    func testReplayedSummariesAreNotCountedTwice() throws {
        var store = try open()
        let all = summaries(count: 24, seed: 9)
        for s in all { _ = try store.mergeTelemetry(s, hardwareClass: "x86-avx2", bucketWidthMs: Self.width) }
        let before = try store.telemetryTotals(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 0)
        try store.close()
        store = try open()
        // An outbox replay after a restart of both sides, in reverse order.
        for s in all.reversed() {
            XCTAssertEqual(try store.mergeTelemetry(s, hardwareClass: "x86-avx2", bucketWidthMs: Self.width), .duplicate)
        }
        XCTAssertEqual(try store.telemetryTotals(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 0), before)
        try store.close()
    }

    func testDedupIsPerDeviceAndBucket() throws {
        let store = try open()
        func summary(_ device: String, _ sequence: UInt64, atMs: Int64) -> TelemetrySummary {
            var h = LatencyHistogram()
            h.record(1000 + sequence)
            return TelemetrySummary(
                deviceID: device, sequence: sequence, windowStartMs: atMs, windowEndMs: atMs + 1000, artifactDigest: "aa",
                releaseSequence: 1, state: "trial", latencyUs: h, inferences: 1, errors: 0, rssBytes: 1)
        }
        XCTAssertEqual(try store.mergeTelemetry(summary("a", 1, atMs: 0), hardwareClass: "k", bucketWidthMs: Self.width), .merged)
        XCTAssertEqual(try store.mergeTelemetry(summary("a", 2, atMs: 60_000), hardwareClass: "k", bucketWidthMs: Self.width), .merged)
        XCTAssertEqual(try store.mergeTelemetry(summary("a", 1, atMs: 0), hardwareClass: "k", bucketWidthMs: Self.width), .duplicate)
        XCTAssertEqual(try store.mergeTelemetry(summary("a", 3, atMs: 1_000), hardwareClass: "k", bucketWidthMs: Self.width), .merged)
        // Another device with the same sequence is not a duplicate.
        XCTAssertEqual(try store.mergeTelemetry(summary("b", 3, atMs: 2_000), hardwareClass: "k", bucketWidthMs: Self.width), .merged)
        let buckets = try store.telemetryBuckets(artifactDigest: "aa", hardwareClass: "k", sinceMs: 0)
        XCTAssertEqual(buckets.map(\.summaries), [3, 1])
        XCTAssertEqual(buckets.map(\.deviceIDs), [["a", "b"], ["a"]])
        XCTAssertEqual(buckets[0].latencyUs.count, 3)

        var none = summary("a", 9, atMs: 0)
        none.artifactDigest = nil
        XCTAssertEqual(try store.mergeTelemetry(none, hardwareClass: "k", bucketWidthMs: Self.width), .noModel)
    }

    func testRetentionDeletesAndRefusesOldBuckets() throws {
        var store = try open()
        let all = summaries(count: 24, seed: 5)
        for s in all { _ = try store.mergeTelemetry(s, hardwareClass: "x86-avx2", bucketWidthMs: Self.width) }
        // Buckets ending at or before 120 s go: [0, 60 s) and [60 s, 120 s).
        XCTAssertEqual(try store.deleteTelemetry(olderThanMs: 120_000), 2)
        XCTAssertEqual(try store.deleteTelemetry(olderThanMs: 120_000), 0)
        XCTAssertEqual(
            try store.telemetryBuckets(artifactDigest: "aa", hardwareClass: "x86-avx2", sinceMs: 0).map(\.startMs), [120_000, 180_000])
        // The deleted buckets' device rows went with them (foreign key cascade): a late
        // summary for them is refused as expired, not merged into a resurrected bucket.
        var late = all[0]
        late.sequence += 1000
        XCTAssertEqual(try store.mergeTelemetry(late, hardwareClass: "x86-avx2", bucketWidthMs: Self.width), .expired)
        try store.close()
        store = try open()
        XCTAssertEqual(try store.mergeTelemetry(late, hardwareClass: "x86-avx2", bucketWidthMs: Self.width), .expired)
        // A smaller cut-off later does not lower the watermark.
        XCTAssertEqual(try store.deleteTelemetry(olderThanMs: 10), 0)
        XCTAssertEqual(try store.mergeTelemetry(late, hardwareClass: "x86-avx2", bucketWidthMs: Self.width), .expired)
        try store.close()
    }

    func testInvalidSummariesAreRefused() throws {
        let store = try open()
        var s = summaries(count: 1, seed: 1)[0]
        s.validationAccuracy = 1.5
        guard case .invalid(let field, _) = storeError({ try store.mergeTelemetry(s, hardwareClass: "k", bucketWidthMs: 1000) }) else {
            return XCTFail()
        }
        XCTAssertTrue(field.contains("validationAccuracy"), field)
        s = summaries(count: 1, seed: 1)[0]
        s.validationAgreement = .nan
        guard case .invalid = storeError({ try store.mergeTelemetry(s, hardwareClass: "k", bucketWidthMs: 1000) }) else { return XCTFail() }
        s = summaries(count: 1, seed: 1)[0]
        s.windowEndMs = s.windowStartMs - 1
        guard case .invalid = storeError({ try store.mergeTelemetry(s, hardwareClass: "k", bucketWidthMs: 1000) }) else { return XCTFail() }
        s = summaries(count: 1, seed: 1)[0]
        guard case .invalid = storeError({ try store.mergeTelemetry(s, hardwareClass: "k", bucketWidthMs: 0) }) else { return XCTFail() }
        s.sequence = .max
        guard case .invalid = storeError({ try store.mergeTelemetry(s, hardwareClass: "k", bucketWidthMs: 1000) }) else { return XCTFail() }
        XCTAssertEqual(try store.telemetryBuckets(artifactDigest: "aa", hardwareClass: "k", sinceMs: 0), [])
    }
}
