public import ModelIR

/// Pre-packs a model's constant fp32 Gemm/MatMul weights for one fp32 kernel path, for an
/// artifact built for a hardware class (docs/model-format.md, "packed weight"): the device's
/// plan then reads them where the artifact is mapped instead of packing them into anonymous
/// memory at every plan.
///
/// Packing is plain C and does not depend on this host's CPU, so a coordinator packs for any
/// class. A weight is packed only when nothing but that one node can see it: an fp32
/// initializer of the main graph, read once in the whole model (subgraphs included), as input 1
/// of an ai.onnx Gemm (2-D) or MatMul (2-D, or leading dimensions 1), and neither a graph input
/// nor a graph output. Everything else stays a plain initializer. Same model, same path: same
/// bytes.
public enum F32GemmPrepack {
    /// The fp32 path a device whose class runs `int8Path` plans with automatically: the fp32
    /// table of the same ISA level (avx512vnni → avx512, avx2 → avx2), else the reference
    /// (there is no fp32 NEON table: ARM devices run the reference fp32 kernels).
    public static func f32Path(forInt8Path int8Path: String) -> String {
        let name = KernelTable.f32Name(forInt8: int8Path)
        return F32PackedB.panelWidth(path: name) == nil ? "reference" : name
    }

    /// `model` with its eligible weights taken out of the main graph's initializers, and those
    /// weights packed for `path` ("reference", "avx2", "avx512"), by initializer name. Throws
    /// `RuntimeError.invalidModel` for an unknown path.
    public static func pack(_ model: Model, path: String) throws -> (model: Model, packedWeights: [String: PackedTensor]) {
        guard let nr = F32PackedB.panelWidth(path: path) else {
            throw RuntimeError.invalidModel(
                "no fp32 kernel path named '\(path)' to pre-pack weights for; use reference, avx2 or avx512 "
                    + "(F32GemmPrepack.f32Path(forInt8Path:) maps a class's int8 path)")
        }
        let graph = model.graph
        let eligible = PrepackEligibility.singleReaderInitializers(of: graph)
        var packed: [String: PackedTensor] = [:]
        for node in graph.nodes where node.domain.isEmpty && (node.opType == "Gemm" || node.opType == "MatMul") {
            guard let name = node.input(1), eligible.contains(name), let w = graph.initializers[name],
                w.elementType == .float32, w.shape.count >= 2, w.shape.dropLast(2).allSatisfy({ $0 == 1 })
            else { continue }
            let transposed = node.opType == "Gemm" && (node.int("transB") ?? 0) != 0
            guard node.opType == "MatMul" || w.shape.count == 2 else { continue }
            let rows = w.shape[w.shape.count - 2], columns = w.shape[w.shape.count - 1]
            let (k, n) = transposed ? (columns, rows) : (rows, columns)
            guard n > 0, k > 0, w.byteCount == rows * columns * 4 else { continue }
            let blob = w.withUnsafeBytes { raw -> [UInt8]? in
                guard let base = raw.baseAddress else { return nil }
                // Tensor storage is at least 4-byte aligned (artifact tensors are 64-aligned).
                let floats = base.assumingMemoryBound(to: Float.self)
                return F32PackedB.pack(floats, n: n, k: k, ldb: columns, transposed: transposed, nr: nr)
            }
            guard let blob else { continue }
            do {
                packed[name] = try PackedTensor(
                    layout: F32PackedB.layoutName(path: path, nr: nr), elementType: .float32, shape: w.shape,
                    storage: TensorStorage(bytes: blob))
            } catch {
                throw RuntimeError.invalidModel("cannot pre-pack weight '\(name)': \(error)")
            }
        }
        return (PrepackEligibility.stripping(packed.keys, from: model), packed)
    }
}
