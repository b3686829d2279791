internal import CKernels
import ModelIR

/// MatMulInteger and ConvInteger: exact int32 results, Σ (a − z_a)·(b − z_b) with int32
/// wrap-around as ONNX defines the output type, no requantization (the dynamic-quantization
/// pattern scales them back to fp32 afterwards with Cast and Mul). Both run the int8 path's
/// `gemm_s32` kernel; a constant B (MatMulInteger's weights) is packed once here, at plan time.
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
            let table = ctx.kernels.q8
            let a = Q8IntegerSide(ctx, type: at.elementType, zeroPoints: aZP)
            let b = Q8IntegerSide(ctx, type: bt.elementType, zeroPoints: bZP)
            let empty = k == 0 || n == 0
            let packSize = empty ? 0 : table.pointee.gemm_s32_pack_size?(k, n) ?? 0
            // Constant B (the weights): packed now, one block per batch slice.
            var packedB: UnsafeMutableRawPointer?
            if !empty, let constantB = ctx.constant(1) {
                let slices = shared ? 1 : batch
                let packed = ctx.pool.allocate(bytes: packSize * slices)
                try constantB.withUnsafeBytes { raw in
                    for s in 0..<slices {
                        try q8Check(
                            ctx, b.pack(table, k: k, n: n, raw.baseAddress.map { $0 + s * k * n }, ldb: n, into: packed + s * packSize),
                            "packing B")
                    }
                }
                packedB = packed
            }
            let gemmWS = empty ? 0 : table.pointee.gemm_s32_workspace_size?(rows, k) ?? 0
            let layout = Q8IntegerWorkspace(packBytes: packedB == nil ? packSize : 0, gemmBytes: gemmWS)
            return .kernel(outputs: [ValueType(.int32, outShape)], workspaceBytes: layout.total) { bufs in
                MatMulIntegerKernel(
                    table: table, aSide: a, bSide: b, packedB: packedB, packSize: packSize, batch: batch, sharedB: shared,
                    // A packed B is all the kernel reads: asking for input 1 would copy the
                    // raw weights into the constant pool as well.
                    rows: rows, k: k, n: n, a: bufs.input(0), b: packedB == nil ? bufs.input(1) : .none,
                    aZPBuffer: runtimeZP ? bufs.input(2) : nil,
                    y: bufs.outputs[0], workspace: bufs.workspace, layout: layout)
            }
        }
        register("ConvInteger") { ctx in
            let xt = try ctx.input(0, Q8Type.types), wt = try ctx.input(1, Q8Type.types)
            guard xt.rank == 4 || xt.rank == 3, wt.rank == xt.rank else {
                throw ctx.fail("input \(xt.shape) must be NCW or NCHW with weights of the same rank")
            }
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
            var geo = flotilla_f32_conv2d_geometry(
                channels: c / group, in_h: h, in_w: wd, kernel_h: s.kh, kernel_w: s.kw, stride_h: s.sh,
                stride_w: s.sw, dilation_h: s.dh, dilation_w: s.dw, pad_top: s.top, pad_left: s.left,
                pad_bottom: s.bottom, pad_right: s.right)
            try checkedGeometry(ctx, geo)
            let oh = flotilla_f32_conv2d_out_h(&geo), ow = flotilla_f32_conv2d_out_w(&geo)
            // x_zero_point: a constant, or DynamicQuantizeLinear's run-time scalar.
            let runtimeZP = ctx.has(2) && ctx.constant(2) == nil
            if runtimeZP {
                let z = try ctx.input(2, [xt.elementType])
                guard z.elementCount == 1 else { throw ctx.fail("a run-time x_zero_point must be a scalar, got \(z.shape)") }
            }
            let xZP = runtimeZP ? [0] : try integerZeroPoints(ctx, 2, type: xt.elementType, allowed: [1], "x")
            let wZP = try integerZeroPoints(ctx, 3, type: wt.elementType, allowed: [1, m], "w")
            let k = (c / group) * s.kh * s.kw
            // The weights are GEMM's A (M = output channels, one zero point per row); the
            // im2col columns are B (N = output pixels), packed per call.
            let weights = ctx.pool.allocate(bytes: m * k)
            w.withUnsafeBytes { raw in if let base = raw.baseAddress { weights.copyMemory(from: base, byteCount: min(raw.count, m * k)) } }
            let table = ctx.kernels.q8
            let ohw = oh * ow
            // A 1×1, stride-1, unpadded window reads the input planes as they are: no im2col.
            let direct = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.top + s.left + s.bottom + s.right == 0
            let layout = Q8IntegerWorkspace(
                columnBytes: direct ? 0 : k * ohw, packBytes: table.pointee.gemm_s32_pack_size?(k, ohw) ?? 0,
                gemmBytes: table.pointee.gemm_s32_workspace_size?(m / group, k) ?? 0)
            let out = [n, m] + (spatial.count == 1 ? [ow] : [oh, ow])
            let x = Q8IntegerSide(ctx, type: xt.elementType, zeroPoints: xZP)
            let wSide = Q8IntegerSide(ctx, type: wt.elementType, zeroPoints: wZP)
            return .kernel(outputs: [ValueType(.int32, out)], workspaceBytes: layout.total) { b in
                ConvIntegerKernel(
                    table: table, geometry: geo, batch: n, channels: c, group: group, m: m, k: k,
                    weights: weights.assumingMemoryBound(to: UInt8.self),
                    wSide: wSide, xSide: x, direct: direct, input: b.input(0), xZPBuffer: runtimeZP ? b.input(2) : nil,
                    output: b.outputs[0], workspace: b.workspace, layout: layout)
            }
        }
    }
}

/// Zero points of an integer op (absent = 0): one, or one per row/column as `allowed` says.
private func integerZeroPoints(_ ctx: NodePlanContext, _ i: Int, type: ElementType, allowed: [Int], _ what: String) throws -> [Int32] {
    guard ctx.has(i) else { return [0] }
    let t = try ctx.requireConstant(i, "\(what)_zero_point")
    guard t.elementType == type, let v = t.asInt64s, allowed.contains(v.count) else {
        throw ctx.fail(
            "\(what)_zero_point must be \(type) with \(allowed.map(String.init).joined(separator: " or ")) values, got \(t.elementType)\(t.shape)"
        )
    }
    return v.map { Int32($0) }
}
