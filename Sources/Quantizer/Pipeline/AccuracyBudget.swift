/// How much accuracy an int8 variant may lose. Every bound that is set must hold.
public struct AccuracyBudget: Sendable, Codable, Hashable, CustomStringConvertible {
    /// Top-1 drop versus fp32, in percentage points (0.5 = fp32 99.25% → int8 ≥ 98.75%).
    public var maxDropPoints: Double?
    /// Top-1 drop as a fraction of the fp32 accuracy (0.01 = keep 99% of it).
    public var maxRelativeDrop: Double?
    /// Minimum fraction of samples whose int8 top-1 equals the fp32 top-1.
    public var minAgreement: Double?

    public init(maxDropPoints: Double? = nil, maxRelativeDrop: Double? = nil, minAgreement: Double? = nil) {
        self.maxDropPoints = maxDropPoints
        self.maxRelativeDrop = maxRelativeDrop
        self.minAgreement = minAgreement
    }

    public func isMet(by r: EvaluationResult) -> Bool {
        // A tiny tolerance so a drop of exactly the budget, computed in floating point, passes.
        let eps = 1e-9
        if let d = maxDropPoints, r.dropPoints > d + eps { return false }
        if let d = maxRelativeDrop, r.fp32Accuracy > 0, (r.fp32Accuracy - r.int8Accuracy) / r.fp32Accuracy > d + eps { return false }
        if let a = minAgreement, r.agreement < a - eps { return false }
        return true
    }

    public var description: String {
        var parts: [String] = []
        if let d = maxDropPoints { parts.append("top-1 drop ≤ \(d) pt") }
        if let d = maxRelativeDrop { parts.append("relative drop ≤ \(d * 100)%") }
        if let a = minAgreement { parts.append("agreement ≥ \(a * 100)%") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}
