internal import CKernels
import ModelIR

/// Gemm and MatMul through the CKernels GEMM. Constant right-hand matrices are packed once
/// at plan time (`gemm_pack_b`, with Gemm's alpha folded in), or taken pre-packed from the
/// artifact (`F32PackedB`); others are packed per call into the step's workspace by `gemm`.
extension OpRegistry {
    mutating func registerMatrix() {
        register("Gemm") { ctx in try planGemm(ctx) }
        register("MatMul") { ctx in try planMatMul(ctx) }
    }
}

/// The right-hand side of one GEMM call: packed at plan time, or read from a buffer.
enum RightHandSide: @unchecked Sendable {
    // Sendable proof: the packed pointer is into the plan's constant pool, or into a borrowed
    // pre-packed weight the pool keeps alive; read-only after planning.
    case packed(UnsafeMutablePointer<Float>)
    case buffer(Buffer, transposed: Bool)
}

private func planGemm(_ ctx: NodePlanContext) throws -> PlannedOp {
    let a = try ctx.input(0, floatOnly), bT = try ctx.input(1, floatOnly)
    guard a.rank == 2, bT.rank == 2 else { throw ctx.fail("A \(a.shape) and B \(bT.shape) must both be 2-D") }
    let transA = ctx.int("transA", 0) != 0, transB = ctx.int("transB", 0) != 0
    let alpha = ctx.float("alpha", 1), beta = ctx.float("beta", 1)
    let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transB ? (bT.shape[1], bT.shape[0]) : (bT.shape[0], bT.shape[1])
    guard k == kb else {
        throw ctx.fail("inner dimensions differ: A \(a.shape)\(transA ? "ᵀ" : "") · B \(bT.shape)\(transB ? "ᵀ" : "") (\(k) vs \(kb))")
    }
    let table = ctx.kernels.table
    let pool = ctx.pool
    var rhs: RightHandSide
    var alphaPost: Float = alpha
    if let given = try ctx.f32PackedB(input: 1, n: n, k: k, transposed: transB, alpha: alpha) {
        // Pre-packed by the artifact builder: read where the artifact is mapped.
        alphaPost = 1
        rhs = .packed(given)
    } else if let bConst = ctx.constant(1), bConst.elementType == .float32 {
        alphaPost = 1
        let packedFloats = table.pointee.gemm_pack_b_size(n, k)
        let p = pool.allocate(bytes: packedFloats * 4).assumingMemoryBound(to: Float.self)
        // Packed straight from the tensor's bytes (a mapped artifact's pages): no temporary
        // array of the whole matrix. Alpha is folded in afterwards — the same products as
        // scaling before packing, and the padding stays zero.
        packB(bConst, n: n, k: k, ldb: transB ? k : n, transB: transB, table: table, into: p)
        if alpha != 1 { for i in 0..<packedFloats { p[i] *= alpha } }
        rhs = .packed(p)
    } else {
        rhs = .buffer(.none, transposed: transB)
    }
    var epilogue = GemmEpilogue(m: m, n: n, alpha: alphaPost, activation: ctx.node.fusedActivation)
    if ctx.has(2), beta != 0 {
        let c = try ctx.input(2, floatOnly)
        guard c.rank <= 2 else { throw ctx.fail("C \(c.shape) must have rank ≤ 2") }
        let cs = [Int](repeating: 1, count: 2 - c.rank) + c.shape
        guard cs[0] == 1 || cs[0] == m, cs[1] == 1 || cs[1] == n else {
            throw ctx.fail("C \(c.shape) does not broadcast to [\(m), \(n)]")
        }
        if cs[0] == 1, alphaPost == 1, let cConst = ctx.constant(2), let cf = cConst.floats {
            // Per-column (or scalar) constant C: the GEMM's bias.
            epilogue.columnBias = pool.storeFloats((0..<n).map { beta * cf[cs[1] == 1 ? 0 : $0] })
        } else {
            epilogue.add = (.none, cs[0] == 1 ? 0 : cs[1], cs[1] == 1 ? 0 : 1, beta)
        }
    }
    let wsFloats: Int
    switch rhs {
    case .packed: wsFloats = 0
    case .buffer: wsFloats = table.pointee.gemm_workspace_size(m, n, k, transB)
    }
    let aFloats = transA ? m * k : 0
    let hasC = epilogue.add != nil
    return .kernel(outputs: [ValueType(.float32, [m, n])], workspaceBytes: (wsFloats + aFloats) * 4) { b in
        var e = epilogue
        if hasC, let add = e.add { e.add = (b.input(2), add.1, add.2, add.3) }
        var r = rhs
        if case .buffer(_, let t) = rhs { r = .buffer(b.input(1), transposed: t) }
        return GemmKernel(
            table: KernelTable(table), batch: 1, m: m, n: n, k: k, a: b.input(0), aOffsets: [0], transA: transA,
            rhs: r, bOffsets: [0], output: b.outputs[0], workspace: b.workspace, aScratchFloats: aFloats,
            epilogue: e)
    }
}

private func planMatMul(_ ctx: NodePlanContext) throws -> PlannedOp {
    let a = try ctx.input(0, floatOnly), b = try ctx.input(1, floatOnly)
    guard a.rank >= 1, b.rank >= 1 else { throw ctx.fail("MatMul inputs must have rank ≥ 1, got \(a.shape) and \(b.shape)") }
    let aShape = a.rank == 1 ? [1, a.shape[0]] : a.shape
    let bShape = b.rank == 1 ? [b.shape[0], 1] : b.shape
    let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1]
    let kb = bShape[bShape.count - 2], n = bShape[bShape.count - 1]
    guard k == kb else { throw ctx.fail("inner dimensions differ: \(a.shape) · \(b.shape) (\(k) vs \(kb))") }
    let batchA = Array(aShape.dropLast(2)), batchB = Array(bShape.dropLast(2))
    guard let batch = broadcastShapes([batchA, batchB]) else {
        throw ctx.fail("batch dimensions \(batchA) and \(batchB) do not broadcast")
    }
    var outShape = batch + [m, n]
    if a.rank == 1 { outShape.remove(at: outShape.count - 2) }
    if b.rank == 1 { outShape.removeLast() }
    let table = ctx.kernels.table
    let epilogue = GemmEpilogue(m: m, n: n, alpha: 1, activation: ctx.node.fusedActivation)
    let out = ValueType(.float32, outShape)
    let weightName = ctx.node.inputs[1]
    var packed = try ctx.f32PackedB(input: 1, n: n, k: k, transposed: false, alpha: 1)
    if packed != nil, b.rank < 2 || !batchB.allSatisfy({ $0 == 1 }) {
        throw ctx.fail("pre-packed weight '\(weightName)' \(b.shape) is not a 2-D (or leading-1) right-hand matrix; rebuild the artifact")
    }
    if packed == nil, batchB.allSatisfy({ $0 == 1 }), let bConst = ctx.constant(1), bConst.elementType == .float32 {
        let p = ctx.pool.allocate(bytes: table.pointee.gemm_pack_b_size(n, k) * 4).assumingMemoryBound(to: Float.self)
        packB(bConst, n: n, k: k, ldb: n, transB: false, table: table, into: p)
        packed = p
    }
    if let p = packed {
        // Constant 2-D weights, packed once (or pre-packed): A's batch folds into the rows of one GEMM.
        let rows = (Shape.checkedProduct(batch) ?? 0) * m
        var e = epilogue
        e.m = rows
        return .kernel(outputs: [out], workspaceBytes: 0) { bufs in
            GemmKernel(
                table: KernelTable(table), batch: 1, m: rows, n: n, k: k, a: bufs.input(0), aOffsets: [0], transA: false,
                rhs: .packed(p), bOffsets: [0], output: bufs.outputs[0], workspace: bufs.workspace, aScratchFloats: 0,
                epilogue: e)
        }
    }
    let count = Shape.checkedProduct(batch) ?? 0
    let aStrides = broadcastStrides(batchA, to: batch, elementStride: m * k)
    let bStrides = broadcastStrides(batchB, to: batch, elementStride: k * n)
    var aOffsets: [Int] = [], bOffsets: [Int] = []
    forEachIndex(batch) { idx in
        aOffsets.append(zip(idx, aStrides).reduce(0) { $0 + $1.0 * $1.1 })
        bOffsets.append(zip(idx, bStrides).reduce(0) { $0 + $1.0 * $1.1 })
    }
    let ws = table.pointee.gemm_workspace_size(m, n, k, false)
    return .kernel(outputs: [out], workspaceBytes: ws * 4) { bufs in
        GemmKernel(
            table: KernelTable(table), batch: count, m: m, n: n, k: k, a: bufs.input(0), aOffsets: aOffsets, transA: false,
            rhs: .buffer(bufs.input(1), transposed: false), bOffsets: bOffsets, output: bufs.outputs[0],
            workspace: bufs.workspace, aScratchFloats: 0, epilogue: epilogue)
    }
}

/// What happens to C = A·B after the GEMM: the bias and clamp it can fuse, else alpha, beta·C
/// with broadcasting and the activation as a post-pass.
struct GemmEpilogue: @unchecked Sendable {
    // Sendable proof: pointers into the constant pool, read-only after planning.
    var m: Int
    var n: Int
    var alpha: Float
    var activation: Activation?
    var columnBias: UnsafeMutablePointer<Float>?
    /// (C buffer, row stride, column stride, beta) for a C the GEMM cannot take as its bias.
    var add: (Buffer, Int, Int, Float)?

    init(m: Int, n: Int, alpha: Float, activation: Activation?) {
        self.m = m
        self.n = n
        self.alpha = alpha
        self.activation = activation
    }

    /// The clamp to pass to the GEMM: only when nothing else happens after it.
    var fusedClamp: (Float, Float) {
        let c = clampBounds(activation)
        return alpha == 1 && add == nil && c.post == nil ? (c.lo, c.hi) : (-.infinity, .infinity)
    }

    func apply(_ y: UnsafeMutablePointer<Float>, _ memory: Memory) {
        let count = m * n
        if alpha != 1 { for i in 0..<count { y[i] *= alpha } }
        if let (cBuf, sm, sn, beta) = add {
            let c = memory.floats(cBuf)
            for i in 0..<m {
                for j in 0..<n { y[i * n + j] += beta * c[i * sm + j * sn] }
            }
        }
        if let act = activation, alpha != 1 || add != nil || clampBounds(act).post != nil {
            applyActivation(act, y, count)
        }
    }
}

final class GemmKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; per-run data lives in the arena.
    let table: KernelTable
    let batch, m, n, k: Int
    let a: Buffer
    let aOffsets: [Int]
    let transA: Bool
    let rhs: RightHandSide
    let bOffsets: [Int]
    let output, workspace: Buffer
    let aScratchFloats: Int
    let epilogue: GemmEpilogue

    init(
        table: KernelTable, batch: Int, m: Int, n: Int, k: Int, a: Buffer, aOffsets: [Int], transA: Bool, rhs: RightHandSide,
        bOffsets: [Int], output: Buffer, workspace: Buffer, aScratchFloats: Int, epilogue: GemmEpilogue
    ) {
        self.table = table
        self.batch = batch
        self.m = m
        self.n = n
        self.k = k
        self.a = a
        self.aOffsets = aOffsets
        self.transA = transA
        self.rhs = rhs
        self.bOffsets = bOffsets
        self.output = output
        self.workspace = workspace
        self.aScratchFloats = aScratchFloats
        self.epilogue = epilogue
    }

    func execute(_ memory: Memory) throws {
        let t = table.table.pointee
        let ws = memory.floats(workspace)
        var aBase = UnsafePointer(memory.floats(a))
        if transA {
            // A is stored K×M: transpose into the scratch at the end of the workspace.
            let scratch = ws + (workspace.bytes / 4 - aScratchFloats)
            for i in 0..<m { for j in 0..<k { scratch[i * k + j] = aBase[j * m + i] } }
            aBase = UnsafePointer(scratch)
        }
        let y = memory.floats(output)
        let (lo, hi) = epilogue.fusedClamp
        let bias = epilogue.columnBias.map { UnsafePointer($0) }
        for i in 0..<batch {
            let yi = y + i * m * n
            let ai = aBase + aOffsets[i]
            switch rhs {
            case .packed(let p):
                t.gemm_packed_b(m, n, k, ai, k, p, bias, yi, n, lo, hi)
            case .buffer(let bBuf, let transposed):
                t.gemm(
                    m, n, k, ai, k, UnsafePointer(memory.floats(bBuf) + bOffsets[i]), transposed ? k : n, transposed, bias, yi, n,
                    lo, hi, ws)
            }
        }
        if batch == 1 {
            epilogue.apply(y, memory)
        } else if let act = epilogue.activation, clampBounds(act).post != nil {
            applyActivation(act, y, batch * m * n)
        }
    }
}

/// Packs a constant float32 right-hand matrix from its own bytes. The bytes are read as floats
/// through a bound copy only when they are not 4-byte aligned (an owned array always is; a
/// mapped artifact's tensors are 64-byte aligned).
private func packB(
    _ b: Tensor, n: Int, k: Int, ldb: Int, transB: Bool, table: UnsafePointer<flotilla_f32_kernels>,
    into p: UnsafeMutablePointer<Float>
) {
    b.withUnsafeBytes { raw in
        if let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            table.pointee.gemm_pack_b(n, k, base.assumingMemoryBound(to: Float.self), ldb, transB, p)
        } else {
            let floats = b.floats ?? []
            floats.withUnsafeBufferPointer { table.pointee.gemm_pack_b(n, k, $0.baseAddress, ldb, transB, p) }
        }
    }
}
