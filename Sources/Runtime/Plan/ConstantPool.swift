import ModelIR

/// Plan-owned, 64-byte-aligned memory for constants and pre-packed weights. Written only while
/// the plan is built; kernels read it through absolute pointers for the plan's lifetime.
final class ConstantPool: @unchecked Sendable {
    // Sendable proof: blocks are written during planning (single-threaded, before the plan is
    // published) and only read afterwards; deallocation happens in deinit, when no session can
    // exist because sessions retain the plan.
    private var blocks: [UnsafeMutableRawPointer] = []
    private(set) var totalBytes = 0
    /// Storages whose bytes kernels read in place (mapped artifact regions), kept alive here.
    private var borrowed: [ObjectIdentifier: TensorStorage] = [:]
    /// Bytes kernels read in place from borrowed storage (not counted in `totalBytes`).
    private(set) var borrowedBytes = 0
    /// Bytes of provided pre-packed weights that had to be copied (not borrowed, or misaligned).
    private(set) var copiedPackedBytes = 0
    /// Pre-packed weights the plan was given (int8 and fp32), and the int8 ones it packed itself.
    let packedWeights: PackedWeightStore

    init(packedWeights: [String: PackedTensor] = [:], packPath: String? = nil) {
        self.packedWeights = PackedWeightStore(provided: packedWeights, packPath: packPath)
    }

    /// Zero-filled aligned memory of `bytes` (at least 1 byte, so the pointer is unique).
    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 1))
        blocks.append(p)
        totalBytes += bytes
        return p
    }

    /// Base address of `storage`'s bytes for kernels to read in place for the plan's lifetime,
    /// when the storage is a borrowed region (an mmap'd artifact: its address is fixed while its
    /// owner lives, and the pool keeps the storage) whose start is 64-byte aligned; nil
    /// otherwise (an owned array's buffer is only valid inside `withUnsafeBytes`).
    func borrow(_ storage: TensorStorage) -> UnsafeRawPointer? {
        guard storage.isBorrowed, storage.count > 0 else { return nil }
        let base = storage.withUnsafeBytes { $0.baseAddress }
        guard let base, Int(bitPattern: base) % 64 == 0 else { return nil }
        if borrowed.updateValue(storage, forKey: ObjectIdentifier(storage)) == nil { borrowedBytes += storage.count }
        return base
    }

    /// Records provided packed bytes that were copied into the pool instead of borrowed.
    func noteCopiedPacked(bytes: Int) { copiedPackedBytes += bytes }

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
