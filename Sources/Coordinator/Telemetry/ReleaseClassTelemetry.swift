public import FleetProtocol

/// The merged telemetry of one release on one hardware class, as `/metrics` exposes it.
public struct ReleaseClassTelemetry: Sendable, Equatable {
    public var modelName: String
    public var modelVersion: String
    public var hardwareClass: String
    public var artifactDigest: String
    public var latency: LatencyHistogram
    public var inferences: UInt64
    public var errors: UInt64
    public var metrics: ClassMetrics

    public init(
        modelName: String, modelVersion: String, hardwareClass: String, artifactDigest: String, aggregate: TelemetryAccumulator
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.hardwareClass = hardwareClass
        self.artifactDigest = artifactDigest
        self.latency = aggregate.latency
        self.inferences = aggregate.inferences
        self.errors = aggregate.errors
        self.metrics = aggregate.metrics
    }

    public init(
        modelName: String, modelVersion: String, hardwareClass: String, artifactDigest: String, latency: LatencyHistogram,
        metrics: ClassMetrics
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.hardwareClass = hardwareClass
        self.artifactDigest = artifactDigest
        self.latency = latency
        self.inferences = metrics.inferences
        self.errors = metrics.errors
        self.metrics = metrics
    }

    var labels: [String: String] {
        ["model": modelName, "version": modelVersion, "class": hardwareClass, "digest": String(artifactDigest.prefix(12))]
    }
}

extension PrometheusExposition {
    /// The quantiles `/metrics` reports from each merged latency histogram.
    public static let latencyQuantiles: [Double] = [0.5, 0.95, 0.99]

    /// Per (release × class): a latency summary (µs, from the merged histogram, so within its
    /// 0.8% bound), inference and error counters, devices reporting, and the mean validation
    /// accuracy and agreement where devices reported them. Rows render in the given order.
    public static func releaseTelemetry(_ rows: [ReleaseClassTelemetry]) throws(PrometheusError) -> PrometheusExposition {
        var e = PrometheusExposition()
        try e.addSummary(
            "flotilla_inference_latency_microseconds", help: "Inference latency per release and hardware class (merged histograms).",
            rows.map { r in
                SummarySample(
                    labels: r.labels,
                    quantiles: latencyQuantiles.compactMap { q in r.latency.percentile(q).map { Quantile(q, Double($0)) } },
                    sum: Double(r.latency.sum), count: r.latency.count)
            })
        try e.addCounter(
            "flotilla_inferences_total", help: "Successful inferences per release and hardware class.",
            rows.map { Sample(labels: $0.labels, value: Double($0.inferences)) })
        try e.addCounter(
            "flotilla_inference_errors_total", help: "Failed inferences per release and hardware class.",
            rows.map { Sample(labels: $0.labels, value: Double($0.errors)) })
        try e.addGauge(
            "flotilla_devices_reporting", help: "Devices that reported telemetry for the release in the window.",
            rows.map { Sample(labels: $0.labels, value: Double($0.metrics.devicesReporting)) })
        try e.addGauge(
            "flotilla_validation_accuracy", help: "Mean validation-bundle accuracy (0..1) reported by devices.",
            rows.compactMap { r in r.metrics.meanAccuracy.map { Sample(labels: r.labels, value: $0) } })
        try e.addGauge(
            "flotilla_validation_agreement", help: "Mean agreement with the fp32 reference (0..1) reported by devices.",
            rows.compactMap { r in r.metrics.meanAgreement.map { Sample(labels: r.labels, value: $0) } })
        return e
    }
}
