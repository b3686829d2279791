import Runtime

/// The hardware class names artifacts are built for, picked from what the CPU can run. The
/// best int8 path wins: a VNNI machine could run AVX2 artifacts, but it should not.
public enum HardwareClass {
    public static let known = ["x86_64-avx512-vnni", "x86_64-avx2", "arm64-dotprod", "arm64-neon"]

    /// The class of this machine, nil when it has none of the known int8 paths.
    public static var current: String? {
        let f = CPUFeatures.current
        return detect(avx512vnni: f.avx512vnni, avx2: f.avx2, dotprod: f.dotprod, neon: f.neon)
    }

    public static func detect(avx512vnni: Bool, avx2: Bool, dotprod: Bool, neon: Bool) -> String? {
        if avx512vnni { return "x86_64-avx512-vnni" }
        if avx2 { return "x86_64-avx2" }
        if dotprod { return "arm64-dotprod" }
        if neon { return "arm64-neon" }
        return nil
    }
}
