internal import CKernels
import ModelIR

/// MatMulInteger and ConvInteger: exact int32 results, (a − z_a)·(b − z_b) summed, no
/// requantization (the dynamic-quantization pattern scales them back to fp32 afterwards with
/// Cast and Mul). Plain Swift loops with int16 operands and wrapping int32 sums, as ONNX
/// defines the output type.
extension OpRegistry {
    mutating func registerQuantizedInteger() {
        register("MatMulInteger") { ctx in
            let at = try ctx.input(0, Q8Type.types), bt = try ctx.input(1, Q8Type.types)
            guard at.rank >= 2, bt.rank == 2 || bt.shape.dropLast(2) == at.shape.dropLast(2), bt.rank >= 2 else {
                throw ctx.fail("A \(at.shape) and B \(bt.shape): A must be ≥ 2-D and B 2-D or with A's batch dimensions")
            }
            let k = at.shape[at.rank - 1], rows = at.shape[at.rank - 2], n = bt.shape[bt.rank - 1]
            guard bt.shape[bt.rank - 2] == k else { throw ctx.fail("A \(at.shape) and B \(bt.shape) do not multiply") }
            let batch = at.shape.dropLast(2).reduce(1, *)
            let shared = bt.rank == 2
            // DynamicQuantizeLinear computes A's zero point at run time: then it is read per run.
            let runtimeZP = ctx.has(2) && ctx.constant(2) == nil
            if runtimeZP {
                let z = try ctx.input(2, [at.elementType])
                guard z.elementCount == 1 else { throw ctx.fail("a run-time a_zero_point must be a scalar, got \(z.shape)") }
            }
            let aZP = runtimeZP ? [0] : try integerZeroPoints(ctx, 2, type: at.elementType, allowed: [1, rows], "a")
            let bZP = try integerZeroPoints(ctx, 3, type: bt.elementType, allowed: [1, n], "b")
            let outShape = Array(at.shape.dropLast()) + [n]
            let bBytes = (shared ? 1 : batch) * n * k * 2
            return .kernel(outputs: [ValueType(.int32, outShape)], workspaceBytes: bBytes + k * 2) { b in
                MatMulIntegerKernel(a: b.input(0), b: b.input(1), aZPBuffer: runtimeZP ? b.input(2) : nil, y: b.outputs[0], workspace: b.workspace, aSigned: at.elementType == .int8,
                                    bSigned: bt.elementType == .int8, aZP: aZP, bZP: bZP, batch: batch, sharedB: shared, rows: rows, k: k, n: n)
            }
        }
        register("ConvInteger") { ctx in
            let xt = try ctx.input(0, Q8Type.types), wt = try ctx.input(1, Q8Type.types)
            guard xt.rank == 4 || xt.rank == 3, wt.rank == xt.rank else { throw ctx.fail("input \(xt.shape) must be NCW or NCHW with weights of the same rank") }
            let w = try ctx.requireConstant(1, "the weights")
            let (n, c, m) = (xt.shape[0], xt.shape[1], wt.shape[0])
            let group = ctx.int("group", 1)
            guard group > 0, c % group == 0, m % group == 0, wt.shape[1] == c / group else {
                throw ctx.fail("group \(group), input \(xt.shape) and weights \(wt.shape) do not fit")
            }
            let spatial = Array(xt.shape[2...])
            let win = try SpatialWindow.resolve(ctx, input: spatial, kernel: Array(wt.shape[2...]))
            let s = win.as2D
            let (h, wd) = spatial.count == 1 ? (1, spatial[0]) : (spatial[0], spatial[1])
            var geo = flotilla_f32_conv2d_geometry(channels: c / group, in_h: h, in_w: wd, kernel_h: s.kh, kernel_w: s.kw, stride_h: s.sh,
                                                   stride_w: s.sw, dilation_h: s.dh, dilation_w: s.dw, pad_top: s.top, pad_left: s.left,
                                                   pad_bottom: s.bottom, pad_right: s.right)
            try checkedGeometry(ctx, geo)
            let oh = flotilla_f32_conv2d_out_h(&geo), ow = flotilla_f32_conv2d_out_w(&geo)
            let xZP = try integerZeroPoints(ctx, 2, type: xt.elementType, allowed: [1], "x")[0]
            let wZP = try integerZeroPoints(ctx, 3, type: wt.elementType, allowed: [1, m], "w")
            let k = (c / group) * s.kh * s.kw
            let raw = (w.asInt64s ?? []).map(Int32.init)
            let weights: [Int16] = raw.enumerated().map { i, v in Int16(v - wZP[wZP.count == 1 ? 0 : i / k]) }
            let out = [n, m] + (spatial.count == 1 ? [ow] : [oh, ow])
            return .kernel(outputs: [ValueType(.int32, out)], workspaceBytes: k * oh * ow) { b in
                ConvIntegerKernel(table: ctx.kernels.q8, geometry: geo, batch: n, channels: c, group: group, m: m, k: k, weights: weights,
                                  xSigned: xt.elementType == .int8, xZP: xZP, input: b.input(0), output: b.outputs[0], workspace: b.workspace)
            }
        }
    }
}

/// Zero points of an integer op (absent = 0): one, or one per row/column as `allowed` says.
private func integerZeroPoints(_ ctx: NodePlanContext, _ i: Int, type: ElementType, allowed: [Int], _ what: String) throws -> [Int32] {
    guard ctx.has(i) else { return [0] }
    let t = try ctx.requireConstant(i, "\(what)_zero_point")
    guard t.elementType == type, let v = t.asInt64s, allowed.contains(v.count) else {
        throw ctx.fail("\(what)_zero_point must be \(type) with \(allowed.map(String.init).joined(separator: " or ")) values, got \(t.elementType)\(t.shape)")
    }
    return v.map { Int32($0) }
}

@inline(__always) private func load8(_ p: UnsafeMutablePointer<UInt8>, _ i: Int, signed: Bool) -> Int32 {
    signed ? Int32(Int8(bitPattern: p[i])) : Int32(p[i])
}

final class MatMulIntegerKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let a, b, y, workspace: Buffer
    let aZPBuffer: Buffer?
    let aSigned, bSigned: Bool
    let aZP, bZP: [Int32]
    let batch: Int
    let sharedB: Bool
    let rows, k, n: Int

    init(a: Buffer, b: Buffer, aZPBuffer: Buffer?, y: Buffer, workspace: Buffer, aSigned: Bool, bSigned: Bool, aZP: [Int32], bZP: [Int32], batch: Int,
         sharedB: Bool, rows: Int, k: Int, n: Int) {
        self.a = a
        self.b = b
        self.aZPBuffer = aZPBuffer
        self.y = y
        self.workspace = workspace
        self.aSigned = aSigned
        self.bSigned = bSigned
        self.aZP = aZP
        self.bZP = bZP
        self.batch = batch
        self.sharedB = sharedB
        self.rows = rows
        self.k = k
        self.n = n
    }

    func execute(_ memory: Memory) throws {
        let pa = memory.typed(a, UInt8.self), pb = memory.typed(b, UInt8.self), py = memory.typed(y, Int32.self)
        let ws = memory.typed(workspace, Int16.self)
        let bCount = sharedB ? 1 : batch
        // Bᵀ minus its zero points, as int16 rows of K: the inner loop then reads both operands
        // contiguously.
        let bt = ws, arow = ws + bCount * n * k
        for m in 0..<bCount {
            for kk in 0..<k {
                for j in 0..<n {
                    let z = bZP.count == 1 ? bZP[0] : bZP[j]
                    bt[(m * n + j) * k + kk] = Int16(load8(pb, (m * k + kk) * n + j, signed: bSigned) - z)
                }
            }
        }
        for m in 0..<batch {
            let bm = bt + (sharedB ? 0 : m * n * k)
            for r in 0..<rows {
                let z = aZPBuffer.map { load8(memory.typed($0, UInt8.self), 0, signed: aSigned) } ?? (aZP.count == 1 ? aZP[0] : aZP[r])
                let base = (m * rows + r) * k
                for kk in 0..<k { arow[kk] = Int16(load8(pa, base + kk, signed: aSigned) - z) }
                let out = py + (m * rows + r) * n
                for j in 0..<n {
                    let col = bm + j * k
                    var acc: Int32 = 0
                    for kk in 0..<k { acc &+= Int32(arow[kk]) &* Int32(col[kk]) }
                    out[j] = acc
                }
            }
        }
    }
}

final class ConvIntegerKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the table is a static C struct.
    let table: UnsafePointer<flotilla_q8_kernels>
    let geometry: flotilla_f32_conv2d_geometry
    let batch, channels, group, m, k: Int
    let weights: [Int16]
    let xSigned: Bool
    let xZP: Int32
    let input, output, workspace: Buffer

    init(table: UnsafePointer<flotilla_q8_kernels>, geometry: flotilla_f32_conv2d_geometry, batch: Int, channels: Int, group: Int, m: Int,
         k: Int, weights: [Int16], xSigned: Bool, xZP: Int32, input: Buffer, output: Buffer, workspace: Buffer) {
        self.table = table
        self.geometry = geometry
        self.batch = batch
        self.channels = channels
        self.group = group
        self.m = m
        self.k = k
        self.weights = weights
        self.xSigned = xSigned
        self.xZP = xZP
        self.input = input
        self.output = output
        self.workspace = workspace
    }

    func execute(_ memory: Memory) throws {
        var geo = geometry
        let ohw = flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        let hw = geometry.in_h * geometry.in_w
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, Int32.self), cols = memory.typed(workspace, UInt8.self)
        let cg = channels / group, mg = m / group
        for img in 0..<batch {
            for g in 0..<group {
                // Padding is the zero point's byte, so padded taps contribute (z − z)·w = 0.
                table.pointee.im2col?(&geo, src + (img * channels + g * cg) * hw, UInt8(truncatingIfNeeded: xZP), cols)
                for oc in 0..<mg {
                    let out = dst + (img * m + g * mg + oc) * ohw
                    for p in 0..<ohw { out[p] = 0 }
                    let wrow = (g * mg + oc) * k
                    for kk in 0..<k {
                        let wv = Int32(weights[wrow + kk])
                        if wv == 0 { continue }
                        let col = cols + kk * ohw
                        for p in 0..<ohw { out[p] &+= wv &* (load8(col, p, signed: xSigned) - xZP) }
                    }
                }
            }
        }
    }
}
