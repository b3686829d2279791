public import Agent

/// Which device gets which fault: for each fault, the eligible devices (its class, or all) are
/// ordered by a hash of (seed, fault, device) and the first `fraction` of them, rounded, are
/// chosen. The same seed and fleet always give the same choice; faults are chosen
/// independently, so one device may have several.
public struct FaultPlan: Sendable, Equatable {
    /// By device index: the faults that device has.
    public private(set) var faults: [[SimulatedFault]]

    public init(faults: [SimulatedFault], classes: [String], seed: UInt64) {
        var plan = [[SimulatedFault]](repeating: [], count: classes.count)
        for (f, fault) in faults.enumerated() {
            let eligible = classes.indices.filter { fault.hardwareClass == nil || classes[$0] == fault.hardwareClass }
            let count = Int((fault.fraction * Double(eligible.count)).rounded())
            let ranked = eligible.sorted {
                (Self.mix(seed, UInt64(f), UInt64($0)), $0) < (Self.mix(seed, UInt64(f), UInt64($1)), $1)
            }
            for device in ranked.prefix(count) { plan[device].append(fault) }
        }
        self.faults = plan
    }

    /// The agent-side faults of device `index`.
    public func agentFaults(_ index: Int) -> FaultInjection {
        guard faults.indices.contains(index) else { return .none }
        return FaultInjection(
            faults[index].compactMap { f in
                switch f.kind {
                case .slow(let k): FaultInjection.Fault(.slow(factor: k), releases: f.releases)
                case .brokenKernels: FaultInjection.Fault(.brokenKernels, releases: f.releases)
                case .crashOnLoad: FaultInjection.Fault(.crashOnLoad, releases: f.releases)
                case .killMidDownload(let at, _): FaultInjection.Fault(.killMidDownload(atFraction: at), releases: f.releases)
                case .flapping, .offline: nil
                }
            })
    }

    /// How long device `index` stays dead after an injected kill (nil: it has no kill fault).
    public func killPause(_ index: Int) -> Duration? {
        guard faults.indices.contains(index) else { return nil }
        for f in faults[index] { if case .killMidDownload(_, let pause) = f.kind { return pause } }
        return nil
    }

    /// The network faults of device `index`.
    public func networkFaults(_ index: Int) -> [SimulatedFault.Kind] {
        guard faults.indices.contains(index) else { return [] }
        return faults[index].compactMap { f in
            switch f.kind {
            case .flapping, .offline: f.kind
            default: nil
            }
        }
    }

    /// SplitMix64 of the three values: a stable, well-spread order.
    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var z = a &* 0x9E37_79B9_7F4A_7C15 &+ b &* 0xC2B2_AE3D_27D4_EB4F &+ c &* 0x1656_67B1_9E37_79F9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
