import ModelIR

/// Runs one planned node on constant inputs, at plan time, in temporary memory. Used for
/// values computable before any input arrives (shape arithmetic) and by
/// `RuntimeConstantEvaluator`.
enum ConstantFolder {
    static func run(
        node: Node, inputs: [Tensor?], outputs: [ValueType], workspaceBytes: Int,
        make: (KernelBuffers) throws -> any Kernel
    ) throws -> [Tensor] {
        var blocks: [UnsafeMutableRawPointer] = []
        defer { for b in blocks { b.deallocate() } }
        func block(_ bytes: Int) -> UnsafeMutableRawPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 1))
            blocks.append(p)
            return p
        }
        var inBuffers: [Buffer?] = []
        for t in inputs {
            guard let t else {
                inBuffers.append(nil)
                continue
            }
            let p = block(t.byteCount)
            t.withUnsafeBytes { src in
                if let base = src.baseAddress, src.count > 0 { p.copyMemory(from: base, byteCount: src.count) }
            }
            inBuffers.append(.constant(p, bytes: t.byteCount))
        }
        let outBuffers = outputs.map { Buffer.constant(block($0.byteCount), bytes: $0.byteCount) }
        let ws = Buffer.constant(block(workspaceBytes), bytes: workspaceBytes)
        let kernel = try make(KernelBuffers(inputs: inBuffers, outputs: outBuffers, workspace: ws))
        let noArenas = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: 1)
        defer { noArenas.deallocate() }
        do {
            try kernel.execute(Memory(bases: UnsafePointer(noArenas)))
        } catch let e as RuntimeError {
            throw e
        } catch {
            throw RuntimeError.executionFailed(node: node.name, opType: node.qualifiedOpType, detail: "\(error)")
        }
        return try zip(outputs, outBuffers).map { t, b in
            let bytes = [UInt8](UnsafeRawBufferPointer(start: b.absolute, count: t.byteCount))
            return try Tensor(elementType: t.elementType, shape: t.shape, bytes: bytes)
        }
    }
}

/// Applies a fused activation to output 0 after an op that does not fuse it itself.
final class ActivationPostKernel: Kernel {
    let inner: any Kernel
    let activation: Activation
    let output: Buffer

    init(inner: any Kernel, activation: Activation, output: Buffer) {
        self.inner = inner
        self.activation = activation
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        try inner.execute(memory)
        applyActivation(activation, memory.floats(output), output.bytes / 4)
    }
}

/// The activation over `count` floats in place; `Activation.apply` is the definition.
@inline(__always)
func applyActivation(_ a: Activation, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    switch a {
    case .relu: for i in 0..<count { p[i] = max(p[i], 0) }
    case .clip(let lo, let hi): for i in 0..<count { p[i] = min(max(p[i], lo), hi) }
    default: for i in 0..<count { p[i] = a.apply(p[i]) }
    }
}
