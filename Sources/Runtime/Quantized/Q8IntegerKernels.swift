internal import CKernels
import ModelIR

/// One operand of an exact int32 GEMM (MatMulInteger, ConvInteger): its 8-bit type and its
/// plan-time zero points (one, or one per row of A / column of B), kept in the constant pool so
/// the C kernels can read them through a stable pointer.
struct Q8IntegerSide: @unchecked Sendable {
    // Sendable proof: `zeroPoints` points into the plan's constant pool, written once here.
    let type: flotilla_q8_type
    let zeroPoints: UnsafeMutablePointer<Int32>
    let perElement: Bool

    init(_ ctx: NodePlanContext, type: ElementType, zeroPoints values: [Int32]) {
        self.type = type == .int8 ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        zeroPoints = ctx.pool.allocate(bytes: max(1, values.count) * 4).assumingMemoryBound(to: Int32.self)
        for (i, v) in values.enumerated() { zeroPoints[i] = v }
        perElement = values.count > 1
    }

    /// Packs B (this side) K×N with row stride ldb for `table`'s gemm_s32; `zeroPoint` replaces
    /// the plan-time zero points with one read at run time.
    func pack(
        _ table: UnsafePointer<flotilla_q8_kernels>, k: Int, n: Int, _ b: UnsafeRawPointer?, ldb: Int, into packed: UnsafeMutableRawPointer,
        zeroPoint override: UnsafePointer<Int32>? = nil
    ) -> flotilla_q8_status {
        var p = flotilla_q8_gemm_s32_b_params(
            K: k, N: n, b_type: type, b_zero_point: override ?? UnsafePointer(zeroPoints), per_column: override == nil && perElement)
        return table.pointee.gemm_s32_pack?(&p, b, ldb, packed) ?? FLOTILLA_Q8_PACK_MISMATCH
    }

    /// The value of a run-time scalar zero point (DynamicQuantizeLinear's output byte).
    func value(ofByte byte: UInt8) -> Int32 { type == FLOTILLA_Q8_S8 ? Int32(Int8(bitPattern: byte)) : Int32(byte) }

    /// A's parameters for rows starting at `row` (per-row zero points move with them).
    func aParams(fromRow row: Int, zeroPoint override: UnsafePointer<Int32>? = nil) -> flotilla_q8_gemm_s32_a_params {
        if let override { return flotilla_q8_gemm_s32_a_params(a_type: type, a_zero_point: override, per_row: false) }
        return flotilla_q8_gemm_s32_a_params(a_type: type, a_zero_point: zeroPoints + (perElement ? row : 0), per_row: perElement)
    }
}

/// Workspace of an integer GEMM step, in 64-byte aligned parts: the run-time zero point (per
/// session, since kernels are shared), ConvInteger's im2col columns, a per-call packed B, the
/// kernel's own workspace.
struct Q8IntegerWorkspace: Sendable {
    let columnsOffset, packOffset, gemmOffset, total: Int

    init(columnBytes: Int = 0, packBytes: Int, gemmBytes: Int) {
        let align = { (v: Int) in (v + 63) / 64 * 64 }
        columnsOffset = 64
        packOffset = columnsOffset + align(columnBytes)
        gemmOffset = packOffset + align(packBytes)
        total = gemmOffset + align(gemmBytes)
    }
}

final class MatMulIntegerKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; packedB and the zero points are in the constant pool.
    let table: UnsafePointer<flotilla_q8_kernels>
    let aSide, bSide: Q8IntegerSide
    let packedB: UnsafeMutableRawPointer?
    let packSize, batch: Int
    let sharedB: Bool
    let rows, k, n: Int
    let a, b, y, workspace: Buffer
    let aZPBuffer: Buffer?
    let layout: Q8IntegerWorkspace

    init(
        table: UnsafePointer<flotilla_q8_kernels>, aSide: Q8IntegerSide, bSide: Q8IntegerSide, packedB: UnsafeMutableRawPointer?,
        packSize: Int, batch: Int, sharedB: Bool, rows: Int, k: Int, n: Int, a: Buffer, b: Buffer, aZPBuffer: Buffer?, y: Buffer,
        workspace: Buffer, layout: Q8IntegerWorkspace
    ) {
        self.table = table
        self.aSide = aSide
        self.bSide = bSide
        self.packedB = packedB
        self.packSize = packSize
        self.batch = batch
        self.sharedB = sharedB
        self.rows = rows
        self.k = k
        self.n = n
        self.a = a
        self.b = b
        self.aZPBuffer = aZPBuffer
        self.y = y
        self.workspace = workspace
        self.layout = layout
    }

    func execute(_ memory: Memory) throws {
        let pa = memory.typed(a, UInt8.self), py = memory.typed(y, Int32.self)
        guard k > 0, n > 0 else {
            // An empty reduction sums nothing: every output is 0.
            (py).update(repeating: 0, count: batch * rows * n)
            return
        }
        let ws = memory.raw(workspace)
        let runtimeZP = ws.assumingMemoryBound(to: Int32.self)
        if let zb = aZPBuffer { runtimeZP[0] = aSide.value(ofByte: memory.typed(zb, UInt8.self)[0]) }
        var params = aSide.aParams(fromRow: 0, zeroPoint: aZPBuffer == nil ? nil : UnsafePointer(runtimeZP))
        let packArea = ws + layout.packOffset, gemmWS = ws + layout.gemmOffset
        let pb = memory.raw(b)
        for s in 0..<batch {
            var packed: UnsafeRawPointer
            if let packedB {
                packed = UnsafeRawPointer(packedB + (sharedB ? 0 : s * packSize))
            } else {
                if s == 0 || !sharedB {
                    let status = bSide.pack(table, k: k, n: n, pb + (sharedB ? 0 : s * k * n), ldb: n, into: packArea)
                    guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
                }
                packed = UnsafeRawPointer(packArea)
            }
            let status =
                table.pointee.gemm_s32?(rows, n, k, pa + s * rows * k, k, &params, packed, py + s * rows * n, n, gemmWS)
                ?? FLOTILLA_Q8_PACK_MISMATCH
            guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
        }
    }
}

/// ConvInteger as im2col + gemm_s32 per image and group: Y[oc][p] = Σ_k (W[oc][k] − z_w[oc]) ·
/// (col[k][p] − z_x). The weights are A (constant, row-major M×K), the columns B (packed per call).
final class ConvIntegerKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; weights and zero points are in the constant pool.
    let table: UnsafePointer<flotilla_q8_kernels>
    let geometry: flotilla_f32_conv2d_geometry
    let batch, channels, group, m, k: Int
    let weights: UnsafeMutablePointer<UInt8>
    let wSide, xSide: Q8IntegerSide
    let direct: Bool
    let input, output, workspace: Buffer
    let xZPBuffer: Buffer?
    let layout: Q8IntegerWorkspace

    init(
        table: UnsafePointer<flotilla_q8_kernels>, geometry: flotilla_f32_conv2d_geometry, batch: Int, channels: Int, group: Int, m: Int,
        k: Int, weights: UnsafeMutablePointer<UInt8>, wSide: Q8IntegerSide, xSide: Q8IntegerSide, direct: Bool, input: Buffer,
        xZPBuffer: Buffer?, output: Buffer, workspace: Buffer, layout: Q8IntegerWorkspace
    ) {
        self.xZPBuffer = xZPBuffer
        self.table = table
        self.geometry = geometry
        self.batch = batch
        self.channels = channels
        self.group = group
        self.m = m
        self.k = k
        self.weights = weights
        self.wSide = wSide
        self.xSide = xSide
        self.direct = direct
        self.input = input
        self.output = output
        self.workspace = workspace
        self.layout = layout
    }

    func execute(_ memory: Memory) throws {
        var geo = geometry
        let ohw = flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        let hw = geometry.in_h * geometry.in_w
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, Int32.self)
        let ws = memory.raw(workspace)
        let cols = (ws + layout.columnsOffset).assumingMemoryBound(to: UInt8.self)
        let packArea = ws + layout.packOffset, gemmWS = ws + layout.gemmOffset
        let cg = channels / group, mg = m / group
        // DynamicQuantizeLinear's zero point arrives with the input: read once per run.
        let runtimeZP = ws.assumingMemoryBound(to: Int32.self)
        if let zb = xZPBuffer { runtimeZP[0] = xSide.value(ofByte: memory.typed(zb, UInt8.self)[0]) }
        let xZP: UnsafePointer<Int32>? = xZPBuffer == nil ? nil : UnsafePointer(runtimeZP)
        let padByte = UInt8(truncatingIfNeeded: (xZP ?? UnsafePointer(xSide.zeroPoints)).pointee)
        for img in 0..<batch {
            for g in 0..<group {
                let plane = src + (img * channels + g * cg) * hw
                // Padding is the zero point's byte, so padded taps contribute (z − z)·w = 0.
                if !direct { table.pointee.im2col?(&geo, plane, padByte, cols) }
                var status = xSide.pack(table, k: k, n: ohw, direct ? plane : cols, ldb: ohw, into: packArea, zeroPoint: xZP)
                guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
                var params = wSide.aParams(fromRow: g * mg)
                status =
                    table.pointee.gemm_s32?(
                        mg, ohw, k, weights + g * mg * k, k, &params, packArea, dst + (img * m + g * mg) * ohw, ohw, gemmWS)
                    ?? FLOTILLA_Q8_PACK_MISMATCH
                guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
            }
        }
    }
}
