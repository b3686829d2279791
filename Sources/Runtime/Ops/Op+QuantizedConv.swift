internal import CKernels
import ModelIR

/// QLinearConv (NCHW, NCW as H = 1): depthwise (group = C = M) through `dwconv`, everything else
/// as one packed int8 GEMM per image and group over the im2col matrix (padded with the input
/// zero point) or, for an unpadded unstrided 1×1 conv, over the input itself.
///
/// com.microsoft:QLinearConv is the same op; with channels_last = 1 (ONNX Runtime's NHWC form,
/// also what `ChannelsLastPass` makes) input and output are NHWC (NWC): pointwise and depthwise
/// convs run the table's NHWC kernels, anything else (or a path without them) transposes into
/// NCHW scratch around the NCHW kernels.
extension OpRegistry {
    mutating func registerQuantizedConv() {
        register("QLinearConv") { ctx in try planQLinearConv(ctx) }
        register("QLinearConv", domain: "com.microsoft") { ctx in try planQLinearConv(ctx) }
    }
}

private func planQLinearConv(_ ctx: NodePlanContext) throws -> PlannedOp {
    let channelsLast = ctx.int("channels_last", 0) != 0
    let xt = try ctx.input(0, Q8Type.types)
    let wt = try ctx.input(3, Q8Type.types)
    let x = try ctx.q8Param(scale: 1, zeroPoint: 2, type: xt.elementType, "input x")
    let yType = try ctx.outputQ8Type(zeroPoint: 7, default: .uint8)
    let y = try ctx.q8Param(scale: 6, zeroPoint: 7, type: yType, "output y")
    guard xt.rank == 3 || xt.rank == 4 else {
        throw ctx.fail("input \(xt.shape) must be \(channelsLast ? "NWC or NHWC" : "NCW or NCHW") (rank 3 or 4)")
    }
    guard wt.rank == xt.rank else { throw ctx.fail("weights \(wt.shape) must have the input's rank \(xt.rank)") }
    // The logical NCHW shape: channels-last inputs only move C to the end.
    let xShape = channelsLast ? [xt.shape[0], xt.shape[xt.rank - 1]] + xt.shape[1..<(xt.rank - 1)] : xt.shape
    let (n, c, m) = (xShape[0], xShape[1], wt.shape[0])
    let group = ctx.int("group", 1)
    guard group > 0, c % group == 0, m % group == 0 else {
        throw ctx.fail("group \(group) must divide the input channels \(c) and output channels \(m)")
    }
    let cg = c / group, mg = m / group
    guard wt.shape[1] == cg else {
        throw ctx.fail("weights \(wt.shape) need \(cg) input channels per group (input \(xt.shape), group \(group))")
    }
    let spatialIn = Array(xShape[2...]), kernelShape = Array(wt.shape[2...])
    if let k = ctx.ints("kernel_shape"), k != kernelShape { throw ctx.fail("kernel_shape \(k) disagrees with the weights \(wt.shape)") }
    let win = try SpatialWindow.resolve(ctx, input: spatialIn, kernel: kernelShape)
    let s = win.as2D
    let (h, w) = spatialIn.count == 1 ? (1, spatialIn[0]) : (spatialIn[0], spatialIn[1])
    var geo = flotilla_f32_conv2d_geometry(
        channels: cg, in_h: h, in_w: w, kernel_h: s.kh, kernel_w: s.kw, stride_h: s.sh, stride_w: s.sw,
        dilation_h: s.dh, dilation_w: s.dw, pad_top: s.top, pad_left: s.left, pad_bottom: s.bottom, pad_right: s.right)
    try checkedGeometry(ctx, geo)
    let oh = flotilla_f32_conv2d_out_h(&geo), ow = flotilla_f32_conv2d_out_w(&geo)
    let outSpatial = spatialIn.count == 1 ? [ow] : [oh, ow]
    let out = ValueType(yType, channelsLast ? [n] + outSpatial + [m] : [n, m] + outSpatial)

    let wScales = try ctx.quantScales(4, count: nil, "weight")
    guard wScales.count == 1 || wScales.count == m else { throw ctx.fail("weight scale has \(wScales.count) values; give 1 or \(m)") }
    let wZP = try ctx.quantZeroPoints(5, count: wScales.count, type: wt.elementType, "weight")
    let requant = try Q8Requant.make(
        ctx, multipliers: wScales.map { x.scale * $0 / y.scale }, output: y,
        activation: ctx.node.fusedActivation)
    let bias = try Q8Weights.bias(ctx, 8, count: m)
    let weightName = ctx.node.inputs[3]
    let k = cg * s.kh * s.kw
    let symmetricWeights = {
        let t = try ctx.requireConstant(3, "the weights")
        return try Q8Weights.symmetric(ctx, t, zeroPoints: wZP, channelOf: { wZP.count == 1 ? 0 : $0 / k }, name: weightName)
    }
    let table = ctx.kernels.q8
    let image = Q8ConvImages(batch: n, channels: c, pixels: h * w, outChannels: m, outPixels: oh * ow)

    if group == c, m == c, ctx.pool.packedWeights.provided[weightName] == nil {
        geo.channels = c
        let wv = try symmetricWeights()
        let wp = ctx.pool.allocate(bytes: wv.count).assumingMemoryBound(to: Int8.self)
        wv.withUnsafeBufferPointer { src in src.baseAddress.map { wp.update(from: $0, count: wv.count) } }
        let bp = bias.map { b in
            let p = ctx.pool.allocate(bytes: b.count * 4).assumingMemoryBound(to: Int32.self)
            b.withUnsafeBufferPointer { src in src.baseAddress.map { p.update(from: $0, count: b.count) } }
            return p
        }
        let params = flotilla_q8_dwconv_params(
            x_type: x.cType, x_zero_point: x.zeroPoint, weights: wp, bias: bp, requant: requant.c())
        if channelsLast, table.pointee.dwconv_nhwc != nil {
            let packed = try ctx.q8PackDepthwise(geo, params, weightName: weightName, channelsLast: true)
            return .kernel(outputs: [out], workspaceBytes: 0) { b in
                Q8DepthwiseConvKernel(
                    table: table, geometry: geo, batch: n, params: params, packed: packed, channelsLast: true, input: b.input(0),
                    output: b.outputs[0])
            }
        }
        let packed = try ctx.q8PackDepthwise(geo, params, weightName: weightName)
        return channelsLastAdapted(channelsLast, table, image, out, workspace: 0) { input, output, _ in
            Q8DepthwiseConvKernel(table: table, geometry: geo, batch: n, params: params, packed: packed, input: input, output: output)
        }
    }
    let packed = try ctx.q8PackGemm(
        weightName: weightName, logical: wt, groups: group, m: mg, k: k, bias: bias, x: x,
        weights: symmetricWeights)
    let pointwise = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.top + s.left + s.bottom + s.right == 0
    if channelsLast, pointwise, group == 1, let wsSize = table.pointee.gemm_nhwc_workspace_size, table.pointee.gemm_nhwc != nil {
        let stride = (wsSize(h * w, k) + 63) / 64 * 64
        return .kernel(outputs: [out], workspaceBytes: stride * ctx.threads) { b in
            Q8GemmNHWCKernel(
                table: table, images: image, weights: packed, requant: requant, input: b.input(0), output: b.outputs[0],
                workspace: b.workspace, workspaceStride: stride)
        }
    }
    // Few input channels (the stem: 3 → 16, 3×3): im2col and the GEMM's repack of its columns cost
    // more than the dot products, so the table's banded conv builds the columns in L1 instead.
    if !pointwise, cg <= Q8GemmConvKernel.bandedMaxChannels, let convWorkspace = table.pointee.conv_workspace_size,
        table.pointee.conv != nil
    {
        return channelsLastAdapted(channelsLast, table, image, out, workspace: convWorkspace(&geo)) { input, output, ws in
            Q8GemmConvKernel(
                table: table, geometry: geo, batch: n, channels: c, group: group, weights: packed, requant: requant,
                x: x, mode: .banded, columnBytes: 0, gemmWorkspaceBytes: 0, input: input, output: output, workspace: ws)
        }
    }
    let columns = pointwise ? 0 : (k * oh * ow + 63) / 64 * 64
    // One GEMM workspace (the B repack) per thread: threads split the output columns.
    let gemmWorkspace = ((table.pointee.gemm_workspace_size?(oh * ow, k) ?? 0) + 63) / 64 * 64
    return channelsLastAdapted(channelsLast, table, image, out, workspace: columns + gemmWorkspace * ctx.threads) { input, output, ws in
        Q8GemmConvKernel(
            table: table, geometry: geo, batch: n, channels: c, group: group, weights: packed, requant: requant,
            x: x, mode: pointwise ? .pointwise : .im2col, columnBytes: columns, gemmWorkspaceBytes: gemmWorkspace, input: input,
            output: output, workspace: ws)
    }
}

/// The plan step of an NCHW conv kernel made by `make(input, output, workspace)`; for a
/// channels-last node the kernel runs on NCHW scratch between two transposes.
private func channelsLastAdapted(
    _ channelsLast: Bool, _ table: UnsafePointer<flotilla_q8_kernels>, _ images: Q8ConvImages, _ out: ValueType,
    workspace: Int, _ make: @escaping (Buffer, Buffer, Buffer) -> any Kernel
) -> PlannedOp {
    guard channelsLast else {
        return .kernel(outputs: [out], workspaceBytes: workspace) { b in make(b.input(0), b.outputs[0], b.workspace) }
    }
    let inBytes = (images.inputBytes + 63) / 64 * 64, outBytes = (images.outputBytes + 63) / 64 * 64
    return .kernel(outputs: [out], workspaceBytes: inBytes + outBytes + workspace) { b in
        let nchwIn = b.workspace.slice(0, images.inputBytes), nchwOut = b.workspace.slice(inBytes, images.outputBytes)
        return Q8ChannelsLastAdapter(
            table: table, images: images, inner: make(nchwIn, nchwOut, b.workspace.slice(inBytes + outBytes, workspace)),
            input: b.input(0), output: b.outputs[0], nchwInput: nchwIn, nchwOutput: nchwOut)
    }
}

final class Q8GemmConvKernel: Kernel, @unchecked Sendable {
    /// How B reaches the GEMM: the input itself (unpadded unstrided 1×1), a whole-image im2col,
    /// or the table's banded conv (columns built band by band in L1).
    enum Mode { case pointwise, im2col, banded }
    /// Input channels per group up to which the banded conv is used.
    static let bandedMaxChannels = 8

    // Sendable proof: plan-time constants only; pointers are into the plan's constant pool.
    let table: UnsafePointer<flotilla_q8_kernels>
    let geometry: flotilla_f32_conv2d_geometry
    let batch, channels, group: Int
    let weights: Q8GemmWeights
    let requant: Q8Requant
    let x: Q8Param
    let mode: Mode
    let columnBytes: Int
    /// Bytes of one GEMM call's workspace; the workspace holds one per thread after the columns.
    let gemmWorkspaceBytes: Int
    let input, output, workspace: Buffer

    init(
        table: UnsafePointer<flotilla_q8_kernels>, geometry: flotilla_f32_conv2d_geometry, batch: Int, channels: Int, group: Int,
        weights: Q8GemmWeights, requant: Q8Requant, x: Q8Param, mode: Mode, columnBytes: Int, gemmWorkspaceBytes: Int,
        input: Buffer, output: Buffer, workspace: Buffer
    ) {
        self.gemmWorkspaceBytes = gemmWorkspaceBytes
        self.table = table
        self.geometry = geometry
        self.batch = batch
        self.channels = channels
        self.group = group
        self.weights = weights
        self.requant = requant
        self.x = x
        self.mode = mode
        self.columnBytes = columnBytes
        self.input = input
        self.output = output
        self.workspace = workspace
    }

    func execute(_ memory: Memory) throws {
        var geo = geometry
        let t = table.pointee
        let hw = geometry.in_h * geometry.in_w
        let ohw = flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        let ws = memory.typed(workspace, UInt8.self)
        let cols = ws, gemmWS = UnsafeMutableRawPointer(ws + columnBytes)
        let cg = channels / group, mg = weights.m, m = mg * group, k = weights.k
        let (requant, stride) = (self.requant, gemmWorkspaceBytes)
        // Threads split the output columns on the microkernel's tile boundaries (each column is
        // computed whole by one call); the banded conv runs on one thread.
        let parallel = mg * ohw * k >= GemmConvKernel.parallelWork
        for n in 0..<batch {
            for g in 0..<group {
                let image = src + (n * channels + g * cg) * hw
                let out = dst + (n * m + g * mg) * ohw
                let w = weights.buffers[g]
                let status: flotilla_q8_status
                switch mode {
                case .banded:
                    var rq = requant.c(from: g * mg)
                    status = t.conv?(&geo, mg, w, image, &rq, out, ohw, ws) ?? FLOTILLA_Q8_PACK_MISMATCH
                case .pointwise, .im2col:
                    guard let gemm = t.gemm else { throw Q8KernelFailure(status: FLOTILLA_Q8_PACK_MISMATCH) }
                    let b: UnsafePointer<UInt8>
                    if mode == .im2col {
                        t.im2col?(&geo, image, x.zeroPointByte, cols)
                        b = UnsafePointer(cols)
                    } else {
                        b = UnsafePointer(image)
                    }
                    status = memory.q8Chunks(ohw, align: t.gemm_nr, parallel: parallel) { i, n0, n1 in
                        var rq = requant.c(from: g * mg)
                        return gemm(mg, n1 - n0, k, w, b + n0, ohw, &rq, out + n0, ohw, gemmWS + i * stride)
                    }
                }
                guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
            }
        }
    }
}

final class Q8DepthwiseConvKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the params' and the pack's pointers are into the
    // plan's constant pool.
    let table: UnsafePointer<flotilla_q8_kernels>
    let geometry: flotilla_f32_conv2d_geometry
    let batch: Int
    let params: flotilla_q8_dwconv_params
    /// The plan-time pack (weights and per-channel constants in the path's layout, NCHW or
    /// NHWC), or nil when the path packs nothing for this geometry (the reference; planar
    /// geometries).
    let packed: UnsafeMutableRawPointer?
    /// NHWC input and output through `dwconv_nhwc` (its pack), else NCHW through `dwconv`.
    let channelsLast: Bool
    let input, output: Buffer

    init(
        table: UnsafePointer<flotilla_q8_kernels>, geometry: flotilla_f32_conv2d_geometry, batch: Int,
        params: flotilla_q8_dwconv_params, packed: UnsafeMutableRawPointer?, channelsLast: Bool = false, input: Buffer,
        output: Buffer
    ) {
        self.table = table
        self.geometry = geometry
        self.batch = batch
        self.params = params
        self.packed = packed
        self.channelsLast = channelsLast
        self.input = input
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        if channelsLast { return try executeChannelsLast(memory) }
        var geo = geometry, p = params
        let hw = geometry.in_h * geometry.in_w, ohw = flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        let chw = geometry.channels * hw, cohw = geometry.channels * ohw
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        let taps = geometry.kernel_h * geometry.kernel_w
        if (memory.pool?.width ?? 1) > 1, cohw * taps >= GemmConvKernel.parallelWork / 2, let dwconv = table.pointee.dwconv {
            // Threads take channel ranges (planes are independent), each with its own slice of
            // the per-channel constants; the plan-time pack covers all channels, so ranges
            // compute theirs per call.
            let (geometry, params) = (self.geometry, self.params)
            for n in 0..<batch {
                memory.chunks(geometry.channels, align: 16, parallel: true) { c0, c1 in
                    var g = geometry, q = params
                    g.channels = c1 - c0
                    q.weights = params.weights.map { $0 + c0 * taps }
                    q.bias = params.bias.map { $0 + c0 }
                    if params.requant.per_channel {
                        q.requant.multiplier = params.requant.multiplier.map { $0 + c0 }
                        q.requant.shift = params.requant.shift.map { $0 + c0 }
                    }
                    dwconv(&g, &q, src + n * chw + c0 * hw, dst + n * cohw + c0 * ohw)
                }
            }
            return
        }
        guard let packed else {
            for n in 0..<batch { table.pointee.dwconv?(&geo, &p, src + n * chw, dst + n * cohw) }
            return
        }
        for n in 0..<batch {
            let status = table.pointee.dwconv_packed?(&geo, &p, packed, src + n * chw, dst + n * cohw) ?? FLOTILLA_Q8_PACK_MISMATCH
            guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
        }
    }
}

extension NodePlanContext {
    /// The depthwise weights and per-channel constants packed once for the plan's path, when it
    /// packs for this geometry (its per-call channels-last/planar rule depends on the geometry
    /// alone, so the plan packs for the path every call will take); nil otherwise. NHWC
    /// (`channelsLast`) packs are `dwconv_nhwc`'s, NCHW ones `dwconv_packed`'s.
    func q8PackDepthwise(
        _ geometry: flotilla_f32_conv2d_geometry, _ params: flotilla_q8_dwconv_params, weightName: String, channelsLast: Bool = false
    ) throws -> UnsafeMutableRawPointer? {
        var g = geometry, p = params
        let table = kernels.q8.pointee
        let entries = channelsLast ? (table.dwconv_nhwc_pack_size, table.dwconv_nhwc_pack) : (table.dwconv_pack_size, table.dwconv_pack)
        guard let sizeOf = entries.0, let pack = entries.1 else { return nil }
        let size = sizeOf(&g)
        guard size > 0 else { return nil }
        let packed = pool.allocate(bytes: size)
        try q8Check(self, pack(&g, &p, packed), "packing \(channelsLast ? "channels-last " : "")depthwise weights '\(weightName)'")
        return packed
    }
}

/// A GEMM refused its packed weights at run time (cannot happen for weights this plan packed or
/// checked; kept so a corrupted constant pool is an error, not garbage output).
struct Q8KernelFailure: Error, CustomStringConvertible {
    let status: flotilla_q8_status
    var description: String {
        "int8 kernel refused its input: " + (flotilla_q8_status_message(status).map { String(cString: $0) } ?? "status \(status.rawValue)")
    }
}
