import Coordinator
import FleetProtocol
import XCTest

final class TelemetryPrometheusTests: XCTestCase {
    func testCountersGaugesAndSummariesRenderExactly() throws {
        var e = PrometheusExposition()
        try e.addCounter(
            "flotilla_chunks_published_total", help: "Chunks published.\nPer class, with a \\ backslash.",
            [.init(labels: ["class": "x86-avx2"], value: 1027), .init(labels: ["class": "arm-dot"], value: 0)])
        try e.addGauge(
            "flotilla_devices", help: "Devices by state.",
            [
                .init(labels: ["state": "online", "site": "lab \"A\"\\1\nB"], value: 3),
                .init(labels: [:], value: 0.25),
                .init(labels: ["state": "x"], value: .nan),
                .init(labels: ["state": "y"], value: -.infinity),
            ])
        try e.addSummary(
            "flotilla_latency_us", help: "Latency.",
            [.init(labels: ["class": "arm-dot"], quantiles: [.init(0.5, 812), .init(0.95, 1200.5)], sum: 1.5e7, count: 18_000)])
        XCTAssertEqual(
            e.render(),
            """
            # HELP flotilla_chunks_published_total Chunks published.\\nPer class, with a \\\\ backslash.
            # TYPE flotilla_chunks_published_total counter
            flotilla_chunks_published_total{class="x86-avx2"} 1027
            flotilla_chunks_published_total{class="arm-dot"} 0
            # HELP flotilla_devices Devices by state.
            # TYPE flotilla_devices gauge
            flotilla_devices{site="lab \\"A\\"\\\\1\\nB",state="online"} 3
            flotilla_devices 0.25
            flotilla_devices{state="x"} NaN
            flotilla_devices{state="y"} -Inf
            # HELP flotilla_latency_us Latency.
            # TYPE flotilla_latency_us summary
            flotilla_latency_us{class="arm-dot",quantile="0.5"} 812
            flotilla_latency_us{class="arm-dot",quantile="0.95"} 1200.5
            flotilla_latency_us_sum{class="arm-dot"} 15000000
            flotilla_latency_us_count{class="arm-dot"} 18000

            """)
        XCTAssertEqual(PrometheusExposition.contentType, "text/plain; version=0.0.4; charset=utf-8")
    }

    func testInvalidMetricsAreRefused() {
        var e = PrometheusExposition()
        XCTAssertThrowsError(try e.addGauge("1bad", help: "", [])) {
            XCTAssertEqual("\($0)", "metric name '1bad' is invalid: use [a-zA-Z_:][a-zA-Z0-9_:]*")
        }
        XCTAssertThrowsError(try e.addGauge("ok", help: "", [.init(labels: ["a-b": "x"], value: 1)])) {
            XCTAssertEqual("\($0)", "metric 'ok': label 'a-b' is not a valid label name: use [a-zA-Z_][a-zA-Z0-9_]*")
        }
        XCTAssertThrowsError(try e.addGauge("ok", help: "", [.init(labels: ["__x": "x"], value: 1)]))
        XCTAssertThrowsError(try e.addCounter("c_total", help: "", [.init(value: -1)])) {
            XCTAssertEqual("\($0)", "metric 'c_total': counter value -1.0 must be a non-negative number")
        }
        XCTAssertThrowsError(
            try e.addSummary("s", help: "", [.init(labels: ["quantile": "1"], quantiles: [], sum: 0, count: 0)]))
        XCTAssertNoThrow(try e.addSummary("lat", help: "", []))
        XCTAssertThrowsError(try e.addGauge("lat_count", help: "", [])) {
            XCTAssertEqual("\($0)", "metric name 'lat_count' is already used by another family; each name may appear once")
        }
        XCTAssertThrowsError(try e.addGauge("g", help: "", [.init(labels: ["a": "1"], value: 1), .init(labels: ["a": "1"], value: 2)]))
        XCTAssertEqual(e.render(), "# HELP lat \n# TYPE lat summary\n", "refused families leave nothing behind")
    }

    func testReleaseTelemetryExposition() throws {
        var aggregate = TelemetryAccumulator()
        var h = LatencyHistogram()
        for v: UInt64 in [100, 100, 100, 120, 127] { h.record(v) }
        _ = aggregate.merge(
            TelemetrySummary(
                deviceID: "d1", sequence: 1, windowStartMs: 0, windowEndMs: 1, artifactDigest: String(repeating: "b", count: 64),
                releaseSequence: 7, state: "committed", latencyUs: h, inferences: 5, errors: 1, validationAccuracy: 0.75,
                validationAgreement: nil, rssBytes: 0))
        let row = ReleaseClassTelemetry(
            modelName: "kws", modelVersion: "2.0", hardwareClass: "arm-dot", artifactDigest: String(repeating: "b", count: 64),
            aggregate: aggregate)
        let text = try PrometheusExposition.releaseTelemetry([row]).render()
        let labels = #"class="arm-dot",digest="bbbbbbbbbbbb",model="kws",version="2.0""#
        XCTAssertEqual(
            text,
            """
            # HELP flotilla_inference_latency_microseconds Inference latency per release and hardware class (merged histograms).
            # TYPE flotilla_inference_latency_microseconds summary
            flotilla_inference_latency_microseconds{\(labels),quantile="0.5"} 100
            flotilla_inference_latency_microseconds{\(labels),quantile="0.95"} 127
            flotilla_inference_latency_microseconds{\(labels),quantile="0.99"} 127
            flotilla_inference_latency_microseconds_sum{\(labels)} 547
            flotilla_inference_latency_microseconds_count{\(labels)} 5
            # HELP flotilla_inferences_total Successful inferences per release and hardware class.
            # TYPE flotilla_inferences_total counter
            flotilla_inferences_total{\(labels)} 5
            # HELP flotilla_inference_errors_total Failed inferences per release and hardware class.
            # TYPE flotilla_inference_errors_total counter
            flotilla_inference_errors_total{\(labels)} 1
            # HELP flotilla_devices_reporting Devices that reported telemetry for the release in the window.
            # TYPE flotilla_devices_reporting gauge
            flotilla_devices_reporting{\(labels)} 1
            # HELP flotilla_validation_accuracy Mean validation-bundle accuracy (0..1) reported by devices.
            # TYPE flotilla_validation_accuracy gauge
            flotilla_validation_accuracy{\(labels)} 0.75
            # HELP flotilla_validation_agreement Mean agreement with the fp32 reference (0..1) reported by devices.
            # TYPE flotilla_validation_agreement gauge

            """)
    }
}
