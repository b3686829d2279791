#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Per-step wall time of profiled runs (`Session.run(inputs:outputs:profile:)`), one slot per
/// entry of `ExecutionPlan.steps`. Make it once with `plan.makeProfile()`; a profiled run
/// writes `lastNanoseconds`, adds to `totalNanoseconds` and allocates nothing.
///
/// Only the main graph's steps are timed; an If step's time includes its branch.
public struct StepProfile: Sendable {
    /// The steps timed, in execution order.
    public let steps: [ExecutionPlan.StepInfo]
    /// Nanoseconds of each step in the most recent profiled run.
    public internal(set) var lastNanoseconds: [UInt64]
    /// Nanoseconds of each step summed over every profiled run.
    public internal(set) var totalNanoseconds: [UInt64]
    /// Number of profiled runs.
    public internal(set) var runs: Int = 0

    public init(steps: [ExecutionPlan.StepInfo]) {
        self.steps = steps
        lastNanoseconds = [UInt64](repeating: 0, count: steps.count)
        totalNanoseconds = lastNanoseconds
    }

    /// Mean nanoseconds per run of step `i`.
    public func meanNanoseconds(_ i: Int) -> Double { runs > 0 ? Double(totalNanoseconds[i]) / Double(runs) : 0 }

    public mutating func reset() {
        for i in lastNanoseconds.indices {
            lastNanoseconds[i] = 0
            totalNanoseconds[i] = 0
        }
        runs = 0
    }
}

/// A monotonic nanosecond clock for step timing (no allocation, no Foundation).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
