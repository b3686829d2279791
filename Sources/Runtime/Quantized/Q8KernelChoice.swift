internal import CKernels

/// How a plan's kernel path picks its int8 table. The fp32 and int8 paths share names except
/// where the int8 path needs a further ISA extension: "avx512" (fp32) pairs with "avx512vnni"
/// (int8) and "neon" with "neondot". A name of either family selects the pair.
extension KernelTable {
    static func f32Name(forInt8 name: String) -> String {
        switch name {
        case "avx512vnni": return "avx512"
        case "neondot": return "neon"
        default: return name
        }
    }

    static func int8Name(forF32 name: String) -> String {
        switch name {
        case "avx512": return "avx512vnni"
        case "neon": return "neondot"
        default: return name
        }
    }

    /// The int8 table for a path; nil only when a named path is unknown to both families.
    /// An fp32 path whose int8 partner this CPU lacks (AVX-512F without VNNI) gets the widest
    /// int8 path the CPU runs, which is what `.automatic` would choose.
    static func int8Table(_ path: KernelPath) -> UnsafePointer<flotilla_q8_kernels>? {
        switch path {
        case .automatic: return flotilla_q8_kernels_get()
        case .reference: return flotilla_q8_kernels_named("reference")
        case .named(let n):
            if let t = flotilla_q8_kernels_named(n) ?? flotilla_q8_kernels_named(int8Name(forF32: n)) { return t }
            return flotilla_f32_kernels_named(n) != nil ? flotilla_q8_kernels_get() : nil
        }
    }

    var int8Name: String { String(cString: q8.pointee.name) }
}
