public import ModelIR

/// The runtime's packed-weight layouts. A plan takes packed tensors keyed by the initializer name
/// they replace (`ExecutionPlan.Options.packedWeights`, usually `Artifact.packedWeights`) and
/// returns the ones it packed (`plan.packedWeights`); `layout` names the kernel path and packing.
/// int8 GEMM weights: "flotilla.q8.gemm.<path>.<layout id>" (e.g. "flotilla.q8.gemm.avx512vnni.2"),
/// one CKernels packed buffer per convolution group, back to back, each starting with its 64-byte
/// header (which also records M, K and the activation zero point the bias was folded with).
/// fp32 Gemm/MatMul weights: "flotilla.f32.gemm.<path>.<nr>" (`F32PackedB`).
extension PackedTensor {
    /// The kernel path a layout id belongs to ("avx512vnni" for "flotilla.q8.gemm.avx512vnni.2"),
    /// or nil if the id is not one of Flotilla's int8 GEMM layouts.
    public static func path(ofLayout layout: String) -> String? {
        let parts = layout.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "flotilla", parts[1] == "q8", parts[2] == "gemm", UInt32(parts[4]) != nil else { return nil }
        return String(parts[3])
    }

    static func layoutName(path: String, id: UInt32) -> String { "flotilla.q8.gemm.\(path).\(id)" }
}
