import ModelIR

/// Plan-owned, 64-byte-aligned memory for constants and pre-packed weights. Written only while
/// the plan is built; kernels read it through absolute pointers for the plan's lifetime.
final class ConstantPool: @unchecked Sendable {
    // Sendable proof: blocks are written during planning (single-threaded, before the plan is
    // published) and only read afterwards; deallocation happens in deinit, when no session can
    // exist because sessions retain the plan.
    private var blocks: [UnsafeMutableRawPointer] = []
    private(set) var totalBytes = 0
    /// Pre-packed int8 weights the plan was given, and those it packed itself.
    let packedWeights: PackedWeightStore

    init(packedWeights: [String: PackedWeight] = [:]) {
        self.packedWeights = PackedWeightStore(provided: packedWeights)
    }

    /// Zero-filled aligned memory of `bytes` (at least 1 byte, so the pointer is unique).
    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 1))
        blocks.append(p)
        totalBytes += bytes
        return p
    }

    /// A copy of a tensor's bytes.
    func store(_ t: Tensor) -> UnsafeMutableRawPointer {
        let p = allocate(bytes: t.byteCount)
        t.withUnsafeBytes { src in
            if let base = src.baseAddress, src.count > 0 { p.copyMemory(from: base, byteCount: src.count) }
        }
        return p
    }

    func storeFloats(_ values: [Float]) -> UnsafeMutablePointer<Float> {
        let p = allocate(bytes: values.count * 4).assumingMemoryBound(to: Float.self)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { p.update(from: base, count: src.count) }
        }
        return p
    }

    deinit {
        for b in blocks { b.deallocate() }
    }
}
