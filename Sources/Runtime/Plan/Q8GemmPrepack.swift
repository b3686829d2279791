public import ModelIR

/// Pre-packs a quantized model's int8 GEMM weights for one int8 kernel path, for an artifact
/// built for a hardware class (docs/model-format.md, "packed weight"): the device's plan then
/// reads them where the artifact is mapped instead of packing them at every plan.
///
/// The weights are exactly those a plan packs (QDQ fused into QLinearConv / QGemm /
/// QLinearMatMul, QOperator nodes as written: Conv 1×1 and k×k per group, MatMul, Gemm; never
/// depthwise), so the model is planned once, pack-only: the reference kernels plan it, and each
/// GEMM weight is packed with the named path's portable packer (`flotilla_q8_gemm_packer_named`,
/// plain C, no target attribute), so any host packs for any class. A packed weight is kept only
/// when nothing but its one reader can see it: an initializer of the main graph, read once in the
/// whole model (subgraphs included), neither a graph input nor output. Same model, same path:
/// same bytes.
public enum Q8GemmPrepack {
    /// The int8 paths weights can be packed for.
    public static let paths = ["reference", "avx2", "avx512vnni", "neon", "neondot"]

    /// `model` with its eligible int8 GEMM weights taken out of the main graph's initializers,
    /// and those weights packed for `path`, by initializer name. `bindings` binds the model's
    /// symbolic input dimensions for planning (weights do not depend on them). Throws
    /// `RuntimeError.invalidModel` for an unknown path, and the plan's errors for a model the
    /// runtime cannot plan.
    public static func pack(_ model: Model, path: String, bindings: [String: Int] = [:]) throws -> (
        model: Model, packedWeights: [String: PackedTensor]
    ) {
        guard paths.contains(path) else {
            throw RuntimeError.invalidModel(
                "no int8 kernel path named '\(path)' to pre-pack weights for; use one of \(paths.joined(separator: ", ")) "
                    + "(a hardware class's kernelPath)")
        }
        let plan = try ExecutionPlan(
            graph: model.graph, bindings: bindings, options: .init(kernels: .reference, threads: 1), packOnly: path)
        let graph = model.graph
        let eligible = PrepackEligibility.singleReaderInitializers(of: graph)
        var packed: [String: PackedTensor] = [:]
        for (name, w) in plan.packedWeights {
            guard eligible.contains(name), let initializer = graph.initializers[name],
                initializer.elementType == w.elementType, initializer.shape == w.shape
            else { continue }
            packed[name] = w
        }
        return (PrepackEligibility.stripping(packed.keys, from: model), packed)
    }
}
