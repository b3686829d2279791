internal import CKernels
import ModelIR

extension NodePlanContext {
    /// The plan's packed right-hand matrix from a pre-packed weight given for input `index`
    /// (`Options.packedWeights`), or nil when none was given under that name.
    ///
    /// Packed for this plan's path, alpha 1 and held in borrowed aligned storage (an mmap'd
    /// artifact): read in place, nothing copied. Packed for another fp32 path (an artifact
    /// planned on a host whose CPU differs from its class, e.g. the coordinator's own check):
    /// unpacked and packed again for this path, exactly (the packed form only rearranges the
    /// values) and counted in `copiedPackedWeightBytes`; likewise when alpha must be folded in
    /// or the storage cannot be borrowed. Refused when the layout is not an fp32 GEMM layout or
    /// the header does not describe this node's op(B).
    func f32PackedB(input index: Int, n: Int, k: Int, transposed: Bool, alpha: Float) throws -> UnsafeMutablePointer<Float>? {
        guard index < node.inputs.count, let given = pool.packedWeights.provided[node.inputs[index]] else { return nil }
        let name = node.inputs[index]
        guard let (layoutPath, nr) = F32PackedB.parse(layout: given.layout), given.elementType == .float32 else {
            throw fail(
                "pre-packed weight '\(name)' has layout '\(given.layout)' (\(given.elementType)), which is not a Flotilla fp32 "
                    + "GEMM layout; only Gemm/MatMul weights packed as flotilla.f32.gemm.<path>.<nr> can feed this node: "
                    + "re-export the artifact for this hardware class")
        }
        let table = kernels.table
        let path = String(cString: table.pointee.name)
        let header = given.storage.withUnsafeBytes { F32PackedB.header($0) }
        guard let header, header.nr == nr, header.n == n, header.k == k, header.transposed == transposed,
            let floats = F32PackedB.packedFloats(n: n, k: k, nr: nr), given.byteCount == F32PackedB.headerBytes + floats * 4
        else {
            let described = header.map { "N = \($0.n), K = \($0.k), nr = \($0.nr), transposed \($0.transposed)" } ?? "no valid header"
            throw fail(
                "pre-packed weight '\(name)' (\(given.layout), \(given.byteCount) bytes) holds \(described); this node needs "
                    + "op(B) with N = \(n), K = \(k)\(transposed ? ", transposed" : "") packed with nr = \(nr): "
                    + "the artifact does not match this model; rebuild it")
        }
        let ownNR = F32PackedB.panelWidth(path: path)
        if layoutPath == path, ownNR == nr, alpha == 1, let base = pool.borrow(given.storage) {
            // Never written through: the GEMM reads packed_b as const.
            return UnsafeMutableRawPointer(mutating: base + F32PackedB.headerBytes).assumingMemoryBound(to: Float.self)
        }
        pool.noteCopiedPacked(bytes: given.byteCount)
        let size = table.pointee.gemm_pack_b_size(n, k)
        let p = pool.allocate(bytes: size * 4).assumingMemoryBound(to: Float.self)
        given.storage.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let data = (base + F32PackedB.headerBytes).assumingMemoryBound(to: Float.self)
            if layoutPath == path, ownNR == nr {
                p.update(from: data, count: size)
            } else {
                var plain = [Float](repeating: 0, count: k * n)
                plain.withUnsafeMutableBufferPointer { flotilla_f32_gemm_unpack_b_nr(n, k, data, nr, $0.baseAddress) }
                plain.withUnsafeBufferPointer { table.pointee.gemm_pack_b(n, k, $0.baseAddress, n, false, p) }
            }
        }
        // Alpha scales every packed value; the zero padding stays zero.
        if alpha != 1 { for i in 0..<size { p[i] *= alpha } }
        return p
    }
}
