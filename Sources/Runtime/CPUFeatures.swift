internal import CKernels

/// The instruction-set features of the CPU this process runs on, as the kernels see them
/// (OS support for the register state included).
public struct CPUFeatures: Sendable, Equatable, CustomStringConvertible {
    public var avx2 = false
    public var fma = false
    public var avx512f = false
    public var avx512bw = false
    public var avx512vl = false
    public var avx512vnni = false
    public var avxvnni = false
    public var neon = false
    public var dotprod = false

    public init() {}

    /// The features of this machine's CPU.
    public static let current: CPUFeatures = {
        let f = flotilla_cpu_features_detect()
        var c = CPUFeatures()
        c.avx2 = f.avx2
        c.fma = f.fma
        c.avx512f = f.avx512f
        c.avx512bw = f.avx512bw
        c.avx512vl = f.avx512vl
        c.avx512vnni = f.avx512vnni
        c.avxvnni = f.avxvnni
        c.neon = f.neon
        c.dotprod = f.dotprod
        return c
    }()

    /// The feature names that are present, lower case, in a fixed order.
    public var names: [String] {
        let all: [(String, Bool)] = [
            ("avx2", avx2), ("fma", fma), ("avx512f", avx512f), ("avx512bw", avx512bw),
            ("avx512vl", avx512vl), ("avx512vnni", avx512vnni), ("avxvnni", avxvnni),
            ("neon", neon), ("dotprod", dotprod),
        ]
        return all.filter(\.1).map(\.0)
    }

    public var description: String { names.isEmpty ? "baseline" : names.joined(separator: " ") }
}
