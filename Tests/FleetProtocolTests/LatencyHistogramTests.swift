import FleetProtocol
import Foundation
import TestSupport
import XCTest

final class LatencyHistogramTests: XCTestCase {
    func testBucketsTileTheValueRangeWithBoundedWidth() {
        var expectedLower: UInt64 = 0
        for index in 0...LatencyHistogram.maxBucketIndex {
            let range = LatencyHistogram.bucketRange(index)
            XCTAssertEqual(range.lowerBound, expectedLower, "bucket \(index) starts where the previous ended")
            XCTAssertEqual(LatencyHistogram.bucketIndex(of: range.lowerBound), index)
            XCTAssertEqual(LatencyHistogram.bucketIndex(of: range.upperBound), index)
            let width = Double(range.upperBound - range.lowerBound) + 1
            XCTAssertLessThanOrEqual(width, max(1, Double(range.lowerBound) / 64), "bucket \(index) is too wide")
            if range.upperBound == .max {
                XCTAssertEqual(index, LatencyHistogram.maxBucketIndex)
            } else {
                expectedLower = range.upperBound + 1
            }
        }
        XCTAssertEqual(LatencyHistogram.maxBucketIndex, 3775)
    }

    func testPercentilesAreWithinTheDocumentedRelativeError() {
        var rng = SplitMix64(seed: 11)
        var histogram = LatencyHistogram()
        var samples: [UInt64] = []
        for _ in 0..<20_000 {
            // Log-normal-ish latencies from 50 µs to ~1 s.
            let v = UInt64(exp(Double.random(in: log(50)...log(1_000_000), using: &rng)))
            samples.append(v)
            histogram.record(v)
        }
        samples.sort()
        for q in [0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let rank = max(1, Int((q * Double(samples.count)).rounded(.up)))
            let exact = Double(samples[rank - 1])
            let reported = Double(histogram.percentile(q) ?? 0)
            XCTAssertLessThanOrEqual(abs(reported - exact) / exact, 1.0 / 128 + 1e-12, "q=\(q): \(reported) vs exact \(exact)")
        }
        XCTAssertEqual(histogram.percentile(0), samples.first)
        XCTAssertEqual(histogram.percentile(1), samples.last)
        XCTAssertEqual(histogram.count, 20_000)
        XCTAssertEqual(histogram.sum, samples.reduce(0, +))
    }

    func testMergeIsExact() {
        var rng = SplitMix64(seed: 3)
        var parts = [LatencyHistogram](repeating: LatencyHistogram(), count: 4)
        var all = LatencyHistogram()
        for i in 0..<5_000 {
            let v = UInt64.random(in: 0...3_000_000, using: &rng) >> UInt64.random(in: 0...20, using: &rng)
            parts[i % 4].record(v)
            all.record(v)
        }
        var merged = LatencyHistogram()
        for p in parts.reversed() { merged.merge(p) }
        XCTAssertEqual(merged, all)
        var other = parts[2]
        other.merge(parts[0])
        var swapped = parts[0]
        swapped.merge(parts[2])
        XCTAssertEqual(other, swapped)
        XCTAssertNil(LatencyHistogram().percentile(0.5))
    }

    func testSmallValuesAreExact() {
        var h = LatencyHistogram()
        for v in 0..<128 as Range<UInt64> { h.record(v) }
        XCTAssertEqual(h.percentile(0.5), 63)
        XCTAssertEqual(h.counts.count, 128)
    }

    func testCodableRoundTripAndValidation() throws {
        var h = LatencyHistogram()
        h.record(5, times: 3)
        h.record(1_000_000)
        h.record(.max)
        let data = try JSONEncoder().encode(h)
        XCTAssertEqual(try JSONDecoder().decode(LatencyHistogram.self, from: data), h)
        XCTAssertEqual(
            try JSONDecoder().decode(LatencyHistogram.self, from: try JSONEncoder().encode(LatencyHistogram())), LatencyHistogram())
        let bad = [
            #"{"buckets":[[5,3]],"count":4,"sum":15,"min":5,"max":5}"#,
            #"{"buckets":[[9999,1]],"count":1,"sum":1,"min":1,"max":1}"#,
            #"{"buckets":[[5,1],[5,1]],"count":2,"sum":10,"min":5,"max":5}"#,
            #"{"buckets":[[5,0]],"count":0,"sum":0}"#,
            #"{"buckets":[[5,1]],"count":1,"sum":5,"min":7,"max":5}"#,
            #"{"buckets":[[5]],"count":1,"sum":5,"min":5,"max":5}"#,
        ]
        for text in bad {
            XCTAssertThrowsError(try JSONDecoder().decode(LatencyHistogram.self, from: Data(text.utf8)), text)
        }
    }
}
