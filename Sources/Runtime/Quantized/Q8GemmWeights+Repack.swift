internal import CKernels
import ModelIR

/// A path's weight pack function (`flotilla_q8_kernels.gemm_pack`, `flotilla_q8_gemm_packer`).
typealias Q8PackFunction =
    @convention(c) (
        UnsafePointer<flotilla_q8_gemm_pack_params>?, UnsafePointer<Int8>?, Int, UnsafePointer<Int32>?, UnsafeMutableRawPointer?
    ) -> flotilla_q8_status

extension NodePlanContext {
    /// A pre-packed weight packed for another int8 path (an artifact built for another class:
    /// the coordinator's own check, a device whose CPU lacks its class's extension, a reference
    /// plan reproducing any class): each group's weights are unpacked (every layout only
    /// rearranges or widens them) and packed again for this plan's path with this node's bias,
    /// which gives exactly the buffer the plan would have packed from the initializer. Counted in
    /// `copiedPackedWeightBytes`. Refused when a group's header does not describe this node.
    func repack(
        _ given: PackedTensor, name: String, groups: Int, m: Int, k: Int, size: Int, bias: [Int32]?, x: Q8Param,
        pack: Q8PackFunction
    ) throws -> Q8GemmWeights {
        guard groups > 0, given.byteCount % groups == 0 else {
            throw fail(
                "pre-packed weight '\(name)' (\(given.layout)) holds \(given.byteCount) bytes, not \(groups) equal group "
                    + "buffers; the artifact does not match this model: rebuild it")
        }
        let groupBytes = given.byteCount / groups
        pool.noteCopiedPacked(bytes: given.byteCount)
        var plain = [Int8](repeating: 0, count: m * k)
        var params = flotilla_q8_gemm_pack_params(M: m, K: k, x_type: x.cType, x_zero_point: x.zeroPoint, seven_bit: false)
        var buffers: [UnsafeMutableRawPointer] = []
        for g in 0..<groups {
            let header = given.storage.withUnsafeBytes { raw -> (m: UInt32, k: UInt32, type: UInt32, zero: Int32)? in
                guard let base = raw.baseAddress, groupBytes >= 64 else { return nil }
                let p = base + g * groupBytes
                return (
                    p.loadUnaligned(fromByteOffset: 8, as: UInt32.self), p.loadUnaligned(fromByteOffset: 12, as: UInt32.self),
                    p.loadUnaligned(fromByteOffset: 16, as: UInt32.self), p.loadUnaligned(fromByteOffset: 20, as: Int32.self)
                )
            }
            guard let header, header.m == m, header.k == k, header.type == x.cType.rawValue, header.zero == x.zeroPoint else {
                let held = header.map { "M = \($0.m), K = \($0.k), activation type \($0.type), zero point \($0.zero)" } ?? "no header"
                throw fail(
                    "pre-packed weight '\(name)' group \(g) (\(given.layout)) was packed for \(held); this node needs "
                        + "M = \(m), K = \(k), \(x.type) with zero point \(x.zeroPoint): the artifact does not match this model")
            }
            let status = given.storage.withUnsafeBytes { raw in
                plain.withUnsafeMutableBufferPointer { w in
                    flotilla_q8_gemm_unpack_weights(raw.baseAddress.map { $0 + g * groupBytes }, groupBytes, w.baseAddress)
                }
            }
            guard status == FLOTILLA_Q8_OK else {
                throw fail(
                    "pre-packed weight '\(name)' group \(g) (\(given.layout), \(groupBytes) bytes) is not a valid packed "
                        + "buffer for M = \(m), K = \(k); the artifact is damaged or was not written by Flotilla: rebuild it")
            }
            let p = pool.allocate(bytes: size)
            let packed = plain.withUnsafeBufferPointer { wb in
                let bslice = bias.map { Array($0[(g * m)..<((g + 1) * m)]) }
                return bslice.withUnsafeBufferPointer(optional: true) { bb in pack(&params, wb.baseAddress, k, bb, p) }
            }
            try q8Check(self, packed, "repacking pre-packed weight '\(name)' (\(given.layout))\(groups > 1 ? " group \(g)" : "")")
            buffers.append(p)
        }
        return Q8GemmWeights(buffers: buffers, m: m, k: k)
    }
}
