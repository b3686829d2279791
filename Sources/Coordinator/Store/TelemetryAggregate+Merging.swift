public import FleetProtocol

extension TelemetryAggregate {
    /// Adds one device summary (its device is not added to `deviceIDs`: the store tracks that).
    /// Counters saturate instead of wrapping.
    public mutating func add(_ summary: TelemetrySummary) {
        latencyUs.merge(summary.latencyUs)
        inferences = Self.adding(inferences, summary.inferences)
        errors = Self.adding(errors, summary.errors)
        if let accuracy = summary.validationAccuracy {
            accuracySum += accuracy
            accuracyCount = Self.adding(accuracyCount, 1)
        }
        if let agreement = summary.validationAgreement {
            agreementSum += agreement
            agreementCount = Self.adding(agreementCount, 1)
        }
        summaries = Self.adding(summaries, 1)
        rssMaxBytes = Swift.max(rssMaxBytes, summary.rssBytes)
    }

    /// Adds another aggregate's numbers and widens the span to cover both; `deviceIDs` becomes
    /// the sorted union.
    public mutating func merge(_ other: TelemetryAggregate) {
        latencyUs.merge(other.latencyUs)
        inferences = Self.adding(inferences, other.inferences)
        errors = Self.adding(errors, other.errors)
        accuracySum += other.accuracySum
        accuracyCount = Self.adding(accuracyCount, other.accuracyCount)
        agreementSum += other.agreementSum
        agreementCount = Self.adding(agreementCount, other.agreementCount)
        summaries = Self.adding(summaries, other.summaries)
        rssMaxBytes = Swift.max(rssMaxBytes, other.rssMaxBytes)
        startMs = Swift.min(startMs, other.startMs)
        endMs = Swift.max(endMs, other.endMs)
        deviceIDs = Array(Set(deviceIDs).union(other.deviceIDs)).sorted()
    }

    static func adding(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
