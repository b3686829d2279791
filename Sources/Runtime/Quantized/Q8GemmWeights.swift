internal import CKernels
import ModelIR

/// Weights packed for the plan's int8 GEMM: one packed buffer per group (M × K each, bias and
/// the activation zero point folded in), in the constant pool.
struct Q8GemmWeights: @unchecked Sendable {
    // Sendable proof: pointers into the plan's constant pool, written at plan time only.
    let buffers: [UnsafeMutableRawPointer]
    let m, k: Int
}

extension NodePlanContext {
    /// Packs `groups` weight matrices (`weights()`: groups·M rows of K values, int8 symmetric)
    /// with their bias slices for activations `x`, or takes the pre-packed weight of that name
    /// when the plan was given one — refused unless its layout is this plan's path and its
    /// headers match M, K and the activation type and zero point.
    func q8PackGemm(
        weightName: String, logical: ValueType, groups: Int, m: Int, k: Int, bias: [Int32]?, x: Q8Param,
        weights: () throws -> [Int8]
    ) throws -> Q8GemmWeights {
        guard m > 0, k > 0 else { throw fail("the GEMM is empty (M = \(m), K = \(k)); check the weight shape") }
        guard k <= Int(FLOTILLA_Q8_MAX_K) else {
            throw fail("reduction length K = \(k) exceeds the int8 contract's \(FLOTILLA_Q8_MAX_K); split the layer or keep it in fp32")
        }
        let table = kernels.q8.pointee
        var path = String(cString: table.name)
        guard var packSize = table.gemm_pack_size, var pack = table.gemm_pack else {
            throw fail("the int8 kernel table cannot pack weights")
        }
        if let packPath = pool.packedWeights.packPath {
            guard let packer = flotilla_q8_gemm_packer_named(packPath), let s = packer.pointee.gemm_pack_size,
                let p = packer.pointee.gemm_pack
            else {
                throw fail("no int8 kernel path named '\(packPath)' to pack for; use reference, avx2, avx512vnni, neon or neondot")
            }
            (path, packSize, pack) = (packPath, s, p)
        }
        let size = packSize(m, k)
        if let given = pool.packedWeights.provided[weightName] {
            return try acceptPacked(
                given, name: weightName, path: path, groups: groups, m: m, k: k, size: size, bias: bias, x: x, pack: pack)
        }
        let w = try weights()
        guard w.count == groups * m * k else { throw fail("weights '\(weightName)' have \(w.count) values; expected \(groups * m * k)") }
        var params = flotilla_q8_gemm_pack_params(M: m, K: k, x_type: x.cType, x_zero_point: x.zeroPoint, seven_bit: false)
        var buffers: [UnsafeMutableRawPointer] = []
        var layoutID: UInt32 = 0
        for g in 0..<groups {
            let p = pool.allocate(bytes: size)
            let status = w.withUnsafeBufferPointer { wb in
                let bslice = bias.map { Array($0[(g * m)..<((g + 1) * m)]) }
                return bslice.withUnsafeBufferPointer(optional: true) { bb in
                    pack(&params, wb.baseAddress.map { $0 + g * m * k }, k, bb, p)
                }
            }
            try q8Check(self, status, "packing weights '\(weightName)'\(groups > 1 ? " group \(g)" : "")")
            layoutID = p.load(fromByteOffset: 4, as: UInt32.self)
            buffers.append(p)
        }
        var blob = [UInt8](repeating: 0, count: groups * size)
        for (g, p) in buffers.enumerated() {
            blob.withUnsafeMutableBytes { dst in
                dst.baseAddress.map { ($0 + g * size).copyMemory(from: p, byteCount: size) }
            }
        }
        do {
            pool.packedWeights.record(
                weightName,
                try PackedTensor(
                    layout: PackedTensor.layoutName(path: path, id: layoutID),
                    elementType: logical.elementType, shape: logical.shape,
                    storage: TensorStorage(bytes: blob)))
        } catch {
            throw fail("cannot record the packed weights '\(weightName)': \(error)")
        }
        return Q8GemmWeights(buffers: buffers, m: m, k: k)
    }

    private func acceptPacked(
        _ given: PackedTensor, name: String, path: String, groups: Int, m: Int, k: Int, size: Int,
        bias: [Int32]?, x: Q8Param, pack: Q8PackFunction
    ) throws -> Q8GemmWeights {
        guard let layoutPath = PackedTensor.path(ofLayout: given.layout) else {
            throw fail(
                "pre-packed weight '\(name)' has layout '\(given.layout)', which is not a Flotilla int8 GEMM layout; "
                    + "re-export the artifact for this hardware class")
        }
        guard layoutPath == path else {
            return try repack(given, name: name, groups: groups, m: m, k: k, size: size, bias: bias, x: x, pack: pack)
        }
        guard given.byteCount == groups * size else {
            throw fail(
                "pre-packed weight '\(name)' (\(given.layout)) holds \(given.byteCount) bytes; \(groups) group(s) of "
                    + "M = \(m), K = \(k) need \(groups * size); the artifact does not match this model")
        }
        // An artifact's packed weights are already in this path's layout: read them where the
        // artifact is mapped when every group starts 64-byte aligned (the kernels only read
        // them); otherwise copy each group into the pool.
        let mapped = groups == 1 || size % 64 == 0 ? pool.borrow(given.storage) : nil
        if mapped == nil { pool.noteCopiedPacked(bytes: given.byteCount) }
        var buffers: [UnsafeMutableRawPointer] = []
        try given.storage.withUnsafeBytes { src in
            for g in 0..<groups {
                let p: UnsafeMutableRawPointer
                if let mapped {
                    // Never written through: the GEMM takes `const void *packed`.
                    p = UnsafeMutableRawPointer(mutating: mapped + g * size)
                } else {
                    p = pool.allocate(bytes: size)
                    if let base = src.baseAddress { p.copyMemory(from: base + g * size, byteCount: size) }
                }
                // The header (q8_internal.h): magic, layout, M, K, x type, x zero point.
                let hm = p.load(fromByteOffset: 8, as: UInt32.self), hk = p.load(fromByteOffset: 12, as: UInt32.self)
                let ht = p.load(fromByteOffset: 16, as: UInt32.self), hz = p.load(fromByteOffset: 20, as: Int32.self)
                guard hm == m, hk == k, ht == x.cType.rawValue, hz == x.zeroPoint else {
                    throw fail(
                        "pre-packed weight '\(name)' group \(g) was packed for M = \(hm), K = \(hk), activation type \(ht), "
                            + "zero point \(hz); this node needs M = \(m), K = \(k), \(x.type) with zero point \(x.zeroPoint)")
                }
                buffers.append(p)
            }
        }
        return Q8GemmWeights(buffers: buffers, m: m, k: k)
    }
}

extension Optional where Wrapped == [Int32] {
    /// Calls `body` with a pointer to the array's elements, or nil when there is no array.
    func withUnsafeBufferPointer<R>(optional: Bool, _ body: (UnsafePointer<Int32>?) throws -> R) rethrows -> R {
        switch self {
        case .none: return try body(nil)
        case .some(let a): return try a.withUnsafeBufferPointer { try body($0.baseAddress) }
        }
    }
}
