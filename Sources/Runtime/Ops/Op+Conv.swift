internal import CKernels
import ModelIR

/// Conv (NCHW, and NCW as H = 1) through the CKernels fast paths: depthwise (group = C = M)
/// with `dwconv`, everything else as packed-A GEMM per group (M = Cout/group,
/// K = Cin/group·kh·kw, N = oh·ow) over the im2col matrix, or over the input itself for an
/// unpadded, unstrided 1×1 conv. Weights are packed once at plan time.
extension OpRegistry {
    mutating func registerConvolution() {
        register("Conv") { ctx in try planConv(ctx) }
    }
}

/// Geometry check with the problem named.
func checkedGeometry(_ ctx: NodePlanContext, _ g: flotilla_f32_conv2d_geometry) throws {
    switch flotilla_f32_conv2d_geometry_check([g]) {
    case FLOTILLA_F32_GEOMETRY_OK: return
    case FLOTILLA_F32_GEOMETRY_ZERO_DIMENSION: throw ctx.fail("a channel count, input side or kernel side is 0")
    case FLOTILLA_F32_GEOMETRY_ZERO_STRIDE: throw ctx.fail("a stride is 0")
    case FLOTILLA_F32_GEOMETRY_ZERO_DILATION: throw ctx.fail("a dilation is 0")
    case FLOTILLA_F32_GEOMETRY_EMPTY_OUTPUT: throw ctx.fail("the dilated kernel is larger than the padded input: the output is empty")
    default: throw ctx.fail("the convolution sizes overflow")
    }
}

private func planConv(_ ctx: NodePlanContext) throws -> PlannedOp {
    let x = try ctx.input(0, floatOnly)
    let wType = try ctx.input(1, floatOnly)
    guard x.rank == 3 || x.rank == 4 else {
        throw ctx.fail(
            "input \(x.shape) must be NCW or NCHW (rank 3 or 4); other ranks are not supported",
            x.rank >= 5 ? .unsupportedRank(x.rank) : .invalid)
    }
    guard wType.rank == x.rank else { throw ctx.fail("weights \(wType.shape) must have the input's rank \(x.rank)") }
    let weights = try ctx.requireConstant(1, "the weights")
    let (n, c) = (x.shape[0], x.shape[1])
    let m = wType.shape[0]
    let group = ctx.int("group", 1)
    guard group > 0, c % group == 0, m % group == 0 else {
        throw ctx.fail("group \(group) must divide the input channels \(c) and output channels \(m)")
    }
    let cg = c / group, mg = m / group
    guard wType.shape[1] == cg else {
        throw ctx.fail(
            "weights \(wType.shape) have \(wType.shape[1]) input channels per group; input \(x.shape) with group \(group) needs \(cg)")
    }
    let spatialIn = Array(x.shape[2...])
    let kernelShape = Array(wType.shape[2...])
    if let k = ctx.ints("kernel_shape"), k != kernelShape {
        throw ctx.fail("kernel_shape \(k) disagrees with the weights \(wType.shape)")
    }
    let win = try SpatialWindow.resolve(ctx, input: spatialIn, kernel: kernelShape)
    var bias: [Float]?
    if ctx.has(2) {
        let b = try ctx.requireConstant(2, "the bias")
        guard b.elementType == .float32, b.elementCount == m, let f = b.floats else {
            throw ctx.fail(
                "bias must be float32 with \(m) values, got \(b.elementType)\(b.shape)",
                b.elementType == .float32 ? .invalid : .unsupportedElementType(b.elementType))
        }
        bias = f
    }
    let s = win.as2D
    let (h, w) = spatialIn.count == 1 ? (1, spatialIn[0]) : (spatialIn[0], spatialIn[1])
    var geo = flotilla_f32_conv2d_geometry(
        channels: cg, in_h: h, in_w: w, kernel_h: s.kh, kernel_w: s.kw, stride_h: s.sh, stride_w: s.sw,
        dilation_h: s.dh, dilation_w: s.dw, pad_top: s.top, pad_left: s.left, pad_bottom: s.bottom, pad_right: s.right)
    try checkedGeometry(ctx, geo)
    let oh = flotilla_f32_conv2d_out_h(&geo), ow = flotilla_f32_conv2d_out_w(&geo)
    let outShape = [n, m] + (spatialIn.count == 1 ? [ow] : [oh, ow])
    let (lo, hi, post) = clampBounds(ctx.node.fusedActivation)
    let wf = weights.floats ?? []
    let pool = ctx.pool
    let table = ctx.kernels.table
    let biasPtr = bias.map { pool.storeFloats($0) }
    let out = ValueType(.float32, outShape)

    if group == c, m == c, n > 0 {
        // Depthwise, multiplier 1: weights [C,1,kh,kw] are already C×kh×kw.
        geo.channels = c
        let wPtr = pool.storeFloats(wf)
        guard let dw = table.pointee.dwconv else { throw ctx.fail("the kernel table has no depthwise convolution") }
        return .kernel(outputs: [out], workspaceBytes: 0) { b in
            DepthwiseConvKernel(
                geometry: geo, batch: n, input: b.input(0), output: b.outputs[0], weights: wPtr, bias: biasPtr,
                dwconv: dw, lo: lo, hi: hi, post: post)
        }
    }
    let k = cg * s.kh * s.kw
    let packedFloats = table.pointee.gemm_pack_a_size(mg, k)
    var packed: [UnsafeMutablePointer<Float>] = []
    for g in 0..<group {
        let p = pool.allocate(bytes: packedFloats * 4).assumingMemoryBound(to: Float.self)
        wf.withUnsafeBufferPointer { wb in
            if let base = wb.baseAddress { table.pointee.gemm_pack_a(mg, k, base + g * mg * k, k, p) }
        }
        packed.append(p)
    }
    let pointwise = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.top + s.left + s.bottom + s.right == 0
    let workspace = pointwise ? 0 : k * oh * ow * 4
    return .kernel(outputs: [out], workspaceBytes: workspace) { b in
        GemmConvKernel(
            geometry: geo, batch: n, channels: c, group: group, mPerGroup: mg, k: k, pointwise: pointwise,
            packedA: packed, bias: biasPtr, table: KernelTable(table), input: b.input(0), output: b.outputs[0],
            workspace: b.workspace, lo: lo, hi: hi, post: post)
    }
}

final class GemmConvKernel: Kernel, @unchecked Sendable {
    // Sendable proof: every property is set at plan time and only read afterwards; the
    // pointers are into the plan's constant pool.
    let geometry: flotilla_f32_conv2d_geometry
    let batch, channels, group, mPerGroup, k: Int
    let pointwise: Bool
    let packedA: [UnsafeMutablePointer<Float>]
    let bias: UnsafeMutablePointer<Float>?
    let table: KernelTable
    let input, output, workspace: Buffer
    let lo, hi: Float
    let post: Activation?

    init(
        geometry: flotilla_f32_conv2d_geometry, batch: Int, channels: Int, group: Int, mPerGroup: Int, k: Int, pointwise: Bool,
        packedA: [UnsafeMutablePointer<Float>], bias: UnsafeMutablePointer<Float>?, table: KernelTable, input: Buffer, output: Buffer,
        workspace: Buffer, lo: Float, hi: Float, post: Activation?
    ) {
        self.geometry = geometry
        self.batch = batch
        self.channels = channels
        self.group = group
        self.mPerGroup = mPerGroup
        self.k = k
        self.pointwise = pointwise
        self.packedA = packedA
        self.bias = bias
        self.table = table
        self.input = input
        self.output = output
        self.workspace = workspace
        self.lo = lo
        self.hi = hi
        self.post = post
    }

    func execute(_ memory: Memory) throws {
        var geo = geometry
        let hw = geometry.in_h * geometry.in_w
        let ohw = flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        let x = memory.floats(input), y = memory.floats(output)
        let cols = memory.floats(workspace)
        let t = table.table.pointee
        let cg = channels / group
        let m = mPerGroup * group
        for n in 0..<batch {
            for g in 0..<group {
                let src = x + (n * channels + g * cg) * hw
                let bmat: UnsafePointer<Float>
                if pointwise {
                    bmat = UnsafePointer(src)
                } else {
                    t.im2col(&geo, src, cols)
                    bmat = UnsafePointer(cols)
                }
                let out = y + (n * m + g * mPerGroup) * ohw
                let groupBias = bias.map { UnsafePointer($0 + g * mPerGroup) }
                let a = packedA[g], mg = mPerGroup, k = self.k, (lo, hi) = (self.lo, self.hi)
                // Threads split the output columns (pixels) when there are plenty, else the
                // rows (output channels), on the microkernel's tile boundaries; each output
                // element is computed by one call, in the same k order as with one thread.
                let parallel = mg * ohw * k >= Self.parallelWork
                if ohw >= 64 * (memory.pool?.width ?? 1) {
                    memory.chunks(ohw, align: t.gemm_nr, parallel: parallel) { n0, n1 in
                        t.gemm_packed_a(mg, n1 - n0, k, a, bmat + n0, ohw, groupBias, out + n0, ohw, lo, hi)
                    }
                } else {
                    memory.chunks(mg, align: t.gemm_mr, parallel: parallel) { m0, m1 in
                        t.gemm_packed_a(m1 - m0, ohw, k, a + m0 * k, bmat, ohw, groupBias.map { $0 + m0 }, out + m0 * ohw, ohw, lo, hi)
                    }
                }
            }
        }
        if let post { applyActivation(post, y, batch * m * ohw) }
    }

    /// Multiply-adds below which waking the pool costs more than it saves.
    static let parallelWork = 1 << 16
}

final class DepthwiseConvKernel: Kernel, @unchecked Sendable {
    // Sendable proof: set at plan time, read-only afterwards; pointers into the constant pool.
    let geometry: flotilla_f32_conv2d_geometry
    let batch: Int
    let input, output: Buffer
    let weights: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    let dwconv:
        @convention(c) (
            UnsafePointer<flotilla_f32_conv2d_geometry>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
            UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Float, Float
        ) -> Void
    let lo, hi: Float
    let post: Activation?

    init(
        geometry: flotilla_f32_conv2d_geometry, batch: Int, input: Buffer, output: Buffer, weights: UnsafeMutablePointer<Float>,
        bias: UnsafeMutablePointer<Float>?,
        dwconv:
            @escaping @convention(c) (
                UnsafePointer<flotilla_f32_conv2d_geometry>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
                UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Float, Float
            ) -> Void,
        lo: Float, hi: Float, post: Activation?
    ) {
        self.geometry = geometry
        self.batch = batch
        self.input = input
        self.output = output
        self.weights = weights
        self.bias = bias
        self.dwconv = dwconv
        self.lo = lo
        self.hi = hi
        self.post = post
    }

    func execute(_ memory: Memory) throws {
        var geo = geometry
        let chw = geometry.channels * geometry.in_h * geometry.in_w
        let ohw = flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        let x = memory.floats(input), y = memory.floats(output)
        let taps = geometry.kernel_h * geometry.kernel_w, hw = geometry.in_h * geometry.in_w, c = geometry.channels
        let (geometry, dwconv, weights, bias, lo, hi) = (self.geometry, self.dwconv, self.weights, self.bias, self.lo, self.hi)
        // Threads take contiguous channel ranges; channels are independent.
        let parallel = c * ohw * taps >= GemmConvKernel.parallelWork / 2
        for n in 0..<batch {
            memory.chunks(c, parallel: parallel) { c0, c1 in
                var g = geometry
                g.channels = c1 - c0
                dwconv(&g, x + n * chw + c0 * hw, weights + c0 * taps, bias.map { $0 + c0 }, y + (n * c + c0) * ohw, lo, hi)
            }
        }
        if let post { applyActivation(post, y, batch * geometry.channels * ohw) }
    }
}

extension KernelTable {
    init(_ table: UnsafePointer<flotilla_f32_kernels>) { self.init(table, q8: flotilla_q8_kernels_get()) }
}
