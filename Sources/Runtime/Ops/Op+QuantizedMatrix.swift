internal import CKernels
import ModelIR

/// QLinearMatMul and com.microsoft QGemm with constant weights, as the int8 GEMM of the plan's
/// path: the weights are the packed left matrix (one row per output column, so per-column
/// weight scales are the GEMM's per-row requantization), the activations the right one.
extension OpRegistry {
    mutating func registerQuantizedMatrix() {
        register("QLinearMatMul") { ctx in
            let at = try ctx.input(0, Q8Type.types), bt = try ctx.input(3, Q8Type.types)
            guard ctx.constant(3) != nil || ctx.pool.packedWeights.provided[ctx.node.inputs[3]] != nil else {
                throw ctx.fail(
                    "the right-hand matrix (input 3) must be a constant weight; int8 MatMul of two run-time tensors "
                        + "is not supported — keep that MatMul in fp32 (DequantizeLinear → MatMul → QuantizeLinear)",
                    .unsupportedAttribute("a run-time right-hand matrix (input 3)"))
            }
            guard bt.rank == 2, at.rank >= 1, at.shape[at.rank - 1] == bt.shape[0] else {
                throw ctx.fail("shapes \(at.shape) × \(bt.shape) do not multiply (the weight must be 2-D K × N)")
            }
            let k = bt.shape[0], n = bt.shape[1]
            let rows = at.shape.dropLast().reduce(1, *)
            let outShape = Array(at.shape.dropLast()) + [n]
            return try planQ8MatMul(
                ctx, a: 0, b: 3, bScale: 4, bZP: 5, yScale: 6, yZP: 7, bias: nil, alpha: 1, transA: false,
                transB: false, rows: rows, k: k, n: n, outShape: outShape)
        }
        register("QGemm", domain: "com.microsoft") { ctx in
            let at = try ctx.input(0, Q8Type.types), bt = try ctx.input(3, Q8Type.types)
            guard ctx.has(7) else {
                throw ctx.fail("QGemm without y_scale produces float32; only the quantized-output form is supported")
            }
            guard at.rank == 2, bt.rank == 2 else { throw ctx.fail("A \(at.shape) and B \(bt.shape) must be 2-D") }
            let transA = ctx.int("transA", 0) != 0, transB = ctx.int("transB", 0) != 0
            let (rows, ka) = transA ? (at.shape[1], at.shape[0]) : (at.shape[0], at.shape[1])
            let (kb, n) = transB ? (bt.shape[1], bt.shape[0]) : (bt.shape[0], bt.shape[1])
            guard ka == kb else {
                throw ctx.fail("A \(at.shape) and B \(bt.shape) do not multiply with transA=\(transA), transB=\(transB)")
            }
            var bias: [Int32]?
            if ctx.has(6) {
                let c = try ctx.requireConstant(6, "the bias C")
                guard c.elementType == .int32, let v = c.int32s, v.count == n || v.count == 1 else {
                    throw ctx.fail("C must be int32 with \(n) values (one per output column) or one, got \(c.elementType)\(c.shape)")
                }
                bias = v.count == n ? v : [Int32](repeating: v[0], count: n)
            }
            let alpha = Double(ctx.float("alpha", 1))
            guard alpha > 0 else { throw ctx.fail("alpha \(alpha) must be positive for a quantized output") }
            return try planQ8MatMul(
                ctx, a: 0, b: 3, bScale: 4, bZP: 5, yScale: 7, yZP: 8, bias: bias, alpha: alpha, transA: transA,
                transB: transB, rows: rows, k: ka, n: n, outShape: [rows, n])
        }
    }
}

private func planQ8MatMul(
    _ ctx: NodePlanContext, a: Int, b: Int, bScale: Int, bZP: Int, yScale: Int, yZP: Int, bias: [Int32]?,
    alpha: Double, transA: Bool, transB: Bool, rows: Int, k: Int, n: Int, outShape: [Int]
) throws -> PlannedOp {
    let at = try ctx.input(a), bt = try ctx.input(b)
    let x = try ctx.q8Param(scale: a + 1, zeroPoint: a + 2, type: at.elementType, "input A")
    let yType = try ctx.outputQ8Type(zeroPoint: yZP, default: .uint8)
    let y = try ctx.q8Param(scale: yScale, zeroPoint: yZP, type: yType, "output")
    let ws = try ctx.quantScales(bScale, count: nil, "weight")
    guard ws.count == 1 || ws.count == n else {
        throw ctx.fail("weight scale has \(ws.count) values; give 1 or \(n) (one per output column)")
    }
    let wz = try ctx.quantZeroPoints(bZP, count: ws.count, type: bt.elementType, "weight")
    let requant = try Q8Requant.make(
        ctx, multipliers: ws.map { alpha * x.scale * $0 / y.scale }, output: y,
        activation: ctx.node.fusedActivation)
    let weightName = ctx.node.inputs[b]
    let packed = try ctx.q8PackGemm(weightName: weightName, logical: bt, groups: 1, m: n, k: k, bias: bias, x: x) {
        let t = try ctx.requireConstant(b, "the weights")
        // Rows of the packed matrix are output columns: B is K×N (or N×K with transB).
        let cols = bt.shape[1]
        let sym = try Q8Weights.symmetric(
            ctx, t, zeroPoints: wz, channelOf: { wz.count == 1 ? 0 : (transB ? $0 / cols : $0 % cols) },
            name: weightName)
        return transB ? sym : Q8Weights.transposed(sym, rows: k, cols: n)
    }
    let table = ctx.kernels.q8
    let align = { (v: Int) in (v + 63) / 64 * 64 }
    // One row (batch 1): A as 1×K is already the K×1 right-hand matrix and Yᵀ (N×1) has Y's
    // bytes, so neither transpose is needed. Same for transA with one row (K×1 as given).
    let direct = rows == 1
    let aT = transA || direct ? 0 : align(rows * k), cT = direct ? 0 : align(rows * n)
    let gemmWS = table.pointee.gemm_workspace_size?(rows, k) ?? 0
    return .kernel(outputs: [ValueType(yType, outShape)], workspaceBytes: aT + cT + gemmWS) { bufs in
        Q8MatMulKernel(
            table: table, weights: packed, requant: requant, rows: rows, n: n, k: k, transposeA: !transA && !direct,
            direct: direct, a: bufs.input(a), y: bufs.outputs[0], workspace: bufs.workspace, aTBytes: aT, cTBytes: cT)
    }
}

/// Y (rows × N) = requant(A · B): runs Yᵀ = W · Aᵀ with W = Bᵀ packed, so A is transposed into
/// the workspace first (unless it arrives as K × rows) and the result transposed back — except
/// for one row (`direct`), where both transposes are the identity on the bytes.
final class Q8MatMulKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; pointers are into the plan's constant pool.
    let table: UnsafePointer<flotilla_q8_kernels>
    let weights: Q8GemmWeights
    let requant: Q8Requant
    let rows, n, k: Int
    let transposeA, direct: Bool
    let a, y, workspace: Buffer
    let aTBytes, cTBytes: Int

    init(
        table: UnsafePointer<flotilla_q8_kernels>, weights: Q8GemmWeights, requant: Q8Requant, rows: Int, n: Int, k: Int,
        transposeA: Bool, direct: Bool, a: Buffer, y: Buffer, workspace: Buffer, aTBytes: Int, cTBytes: Int
    ) {
        self.table = table
        self.weights = weights
        self.requant = requant
        self.rows = rows
        self.n = n
        self.k = k
        self.transposeA = transposeA
        self.direct = direct
        self.a = a
        self.y = y
        self.workspace = workspace
        self.aTBytes = aTBytes
        self.cTBytes = cTBytes
    }

    func execute(_ memory: Memory) throws {
        let src = memory.typed(a, UInt8.self), dst = memory.typed(y, UInt8.self)
        let ws = memory.typed(workspace, UInt8.self)
        var bmat = src
        if transposeA {
            bmat = ws
            transpose8(src, rows: rows, cols: k, into: ws)
        }
        let ct = direct ? dst : ws + aTBytes
        var rq = requant.c()
        let status =
            table.pointee.gemm?(n, rows, k, weights.buffers[0], bmat, rows, &rq, ct, rows, UnsafeMutableRawPointer(ws + aTBytes + cTBytes))
            ?? FLOTILLA_Q8_PACK_MISMATCH
        guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
        if !direct { transpose8(ct, rows: n, cols: rows, into: dst) }
    }
}

/// Transposes a rows × cols byte matrix in blocks (both sides stay in cache).
func transpose8(_ src: UnsafeMutablePointer<UInt8>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<UInt8>) {
    let block = 32
    var r0 = 0
    while r0 < rows {
        let r1 = min(r0 + block, rows)
        var c0 = 0
        while c0 < cols {
            let c1 = min(c0 + block, cols)
            for r in r0..<r1 {
                for c in c0..<c1 { dst[c * rows + r] = src[r * cols + c] }
            }
            c0 = c1
        }
        r0 = r1
    }
}
