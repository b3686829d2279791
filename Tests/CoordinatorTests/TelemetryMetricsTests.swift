import Coordinator
import FleetProtocol
import XCTest

final class TelemetryMetricsTests: XCTestCase {
    /// xorshift64*: deterministic samples.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
    }

    func summary(_ device: String, seq: UInt64, latencies: [UInt64], accuracy: Double?, errors: UInt64 = 0) -> TelemetrySummary {
        var h = LatencyHistogram()
        for v in latencies { h.record(v) }
        return TelemetrySummary(
            deviceID: device, sequence: seq, windowStartMs: 0, windowEndMs: 60_000, artifactDigest: String(repeating: "a", count: 64),
            releaseSequence: 7, state: "committed", latencyUs: h, inferences: UInt64(latencies.count), errors: errors,
            validationAccuracy: accuracy, validationAgreement: accuracy.map { min(1, $0 + 0.05) }, rssBytes: 1 << 20)
    }

    func testAggregateMergesHistogramsExactlyAndDeduplicates() {
        var rng = Rng(state: 42)
        var aggregate = TelemetryAccumulator()
        var reference = LatencyHistogram()
        var summaries: [TelemetrySummary] = []
        for d in 0..<5 {
            for s in 1...3 {
                let values = (0..<200).map { _ in 500 + rng.next() % 1500 }
                for v in values { reference.record(v) }
                summaries.append(summary("dev-\(d)", seq: UInt64(s), latencies: values, accuracy: 0.80 + Double(d) * 0.01))
            }
        }
        for s in summaries { XCTAssertEqual(aggregate.merge(s), .merged) }
        XCTAssertEqual(aggregate.merge(summaries[4]), .duplicate, "a replayed summary is dropped")
        XCTAssertEqual(aggregate.latency, reference)
        let m = aggregate.metrics
        XCTAssertEqual(m.devicesReporting, 5)
        XCTAssertEqual(m.inferences, 3000)
        XCTAssertEqual(m.latencyP95Us, reference.percentile(0.95))
        XCTAssertEqual(m.latencyP50Us, reference.percentile(0.5))
        XCTAssertEqual(try XCTUnwrap(m.meanAccuracy), 0.82, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.meanAgreement), 0.87, accuracy: 1e-12)
        // p95 of uniform 500...1999 is near 1925, within the histogram's 0.8 % bound.
        XCTAssertEqual(Double(m.latencyP95Us ?? 0), 1925, accuracy: 1925 * 0.02)
    }

    func testAggregateRefusesMalformedSummaries() {
        var aggregate = TelemetryAccumulator()
        XCTAssertEqual(
            aggregate.merge(summary("d", seq: 1, latencies: [10], accuracy: 1.5)),
            .refused("telemetry from 'd' (sequence 1): validationAccuracy 1.5 is outside 0...1"))
        var nan = summary("d", seq: 2, latencies: [10], accuracy: 0.5)
        nan.validationAgreement = .nan
        XCTAssertEqual(aggregate.merge(nan), .refused("telemetry from 'd' (sequence 2): validationAgreement nan is outside 0...1"))
        XCTAssertEqual(aggregate, TelemetryAccumulator(), "nothing of a refused summary is kept")
    }

    func testErrorRateCountsFailedRunsAmongAllRuns() {
        let m = ClassMetrics(devicesReporting: 1, inferences: 90, errors: 10, latencyP95Us: nil, meanAccuracy: nil, meanAgreement: nil)
        XCTAssertEqual(m.errorRate, 0.1)
        XCTAssertNil(
            ClassMetrics(devicesReporting: 0, inferences: 0, errors: 0, latencyP95Us: nil, meanAccuracy: nil, meanAgreement: nil).errorRate)
    }

    func testGateComparisons() {
        let slow = GateComparison.latencyP95(measured: 1201, baseline: 1000, maxRatio: 1.2, ceiling: nil)
        XCTAssertEqual(slow.outcome, .failed)
        XCTAssertEqual(slow.threshold, 1200)
        XCTAssertEqual(GateComparison.latencyP95(measured: 1200, baseline: 1000, maxRatio: 1.2, ceiling: 5).outcome, .passed)
        XCTAssertEqual(GateComparison.latencyP95(measured: nil, baseline: 1000, maxRatio: 1.2, ceiling: nil).outcome, .inconclusive)
        XCTAssertEqual(GateComparison.latencyP95(measured: 9e9, baseline: nil, maxRatio: 1.2, ceiling: nil).outcome, .skipped)
        let ceiling = GateComparison.latencyP95(measured: 2100, baseline: nil, maxRatio: 1.2, ceiling: 2000)
        XCTAssertEqual(ceiling.outcome, .failed)
        XCTAssertEqual(ceiling.threshold, 2000)

        let acc = GateComparison.floor(.accuracy, measured: 0.8799, baseline: 0.90, maxDrop: 0.02, floor: nil)
        XCTAssertEqual(acc.outcome, .failed)
        XCTAssertEqual(acc.detail, "accuracy 0.8799 < 0.88 (baseline 0.9 − 0.02)")
        XCTAssertEqual(GateComparison.floor(.accuracy, measured: 0.88, baseline: 0.90, maxDrop: 0.02, floor: nil).outcome, .passed)
        XCTAssertEqual(GateComparison.floor(.agreement, measured: 0.7, baseline: nil, maxDrop: 0.02, floor: 0.75).outcome, .failed)
        XCTAssertEqual(GateComparison.floor(.agreement, measured: 0.7, baseline: nil, maxDrop: 0.02, floor: nil).outcome, .skipped)

        XCTAssertEqual(GateComparison.installSuccessRate(committed: 19, failed: 1, minRate: 0.95).outcome, .passed)
        XCTAssertEqual(GateComparison.installSuccessRate(committed: 18, failed: 2, minRate: 0.95).outcome, .failed)
        XCTAssertEqual(GateComparison.installSuccessRate(committed: 0, failed: 0, minRate: 0.95).outcome, .inconclusive)
        XCTAssertEqual(GateComparison.devicesReporting(reporting: 2, required: 3).outcome, .inconclusive)
        XCTAssertEqual(GateComparison.errorRate(measured: 0.02, maxRate: 0.01).outcome, .failed)
        XCTAssertEqual(GateComparison.errorRate(measured: 0.02, maxRate: nil).outcome, .skipped)
    }
}
