internal import CKernels
import ModelIR

/// com.microsoft QLinearAveragePool and QLinearGlobalAveragePool (NCHW / NCW) through the
/// int8 `avgpool` kernel: y = requant(Σ (x − z_x), s_x / (s_y · count)), one rounding.
extension OpRegistry {
    mutating func registerQuantizedPooling() {
        register("QLinearAveragePool", domain: "com.microsoft") { ctx in try planQ8AveragePool(ctx, global: false) }
        register("QLinearGlobalAveragePool", domain: "com.microsoft") { ctx in try planQ8AveragePool(ctx, global: true) }
    }
}

private func planQ8AveragePool(_ ctx: NodePlanContext, global: Bool) throws -> PlannedOp {
    let xt = try ctx.input(0, Q8Type.types)
    let x = try ctx.q8Param(scale: 1, zeroPoint: 2, type: xt.elementType, "input X")
    let y = try ctx.q8Param(scale: 3, zeroPoint: 4, type: try ctx.outputQ8Type(zeroPoint: 4, default: xt.elementType), "output Y")
    guard y.type == x.type else { throw ctx.fail("input is \(x.type) but the output zero point is \(y.type); the int8 pool keeps the type") }
    guard ctx.int("channels_last", 0) == 0 else {
        throw ctx.fail("channels_last = 1 (NHWC) is not supported; the runtime runs NCHW — export with channels_last = 0")
    }
    guard xt.rank == 3 || xt.rank == 4 else { throw ctx.fail("input \(xt.shape) must be NCW or NCHW") }
    let spatial = Array(xt.shape[2...])
    let (h, w) = spatial.count == 1 ? (1, spatial[0]) : (spatial[0], spatial[1])
    var geo: flotilla_f32_conv2d_geometry
    var includePad = false
    if global {
        geo = flotilla_f32_conv2d_geometry(channels: xt.shape[1], in_h: h, in_w: w, kernel_h: h, kernel_w: w, stride_h: 1, stride_w: 1,
                                           dilation_h: 1, dilation_w: 1, pad_top: 0, pad_left: 0, pad_bottom: 0, pad_right: 0)
    } else {
        guard let kernel = ctx.ints("kernel_shape") else { throw ctx.fail("kernel_shape is required") }
        let win = try SpatialWindow.resolve(ctx, input: spatial, kernel: kernel)
        includePad = ctx.int("count_include_pad", 0) != 0
        let s = win.as2D
        geo = flotilla_f32_conv2d_geometry(channels: xt.shape[1], in_h: h, in_w: w, kernel_h: s.kh, kernel_w: s.kw, stride_h: s.sh,
                                           stride_w: s.sw, dilation_h: 1, dilation_w: 1, pad_top: s.top, pad_left: s.left,
                                           pad_bottom: s.bottom, pad_right: s.right)
        if ctx.int("ceil_mode", 0) != 0 {
            // Ceil mode = extra end padding that reaches one more window; with
            // count_include_pad that padding would be counted, which ONNX Runtime does not do.
            let outs = spatial.indices.map { win.outputSize($0, input: spatial[$0], ceilMode: true) }
            let (oh, ow) = outs.count == 1 ? (1, outs[0]) : (outs[0], outs[1])
            let needH = max(0, (oh - 1) * s.sh + s.kh - (h + s.top + s.bottom)), needW = max(0, (ow - 1) * s.sw + s.kw - (w + s.left + s.right))
            if needH + needW > 0, includePad {
                throw ctx.fail("ceil_mode with count_include_pad is not supported; export with ceil_mode = 0")
            }
            geo.pad_bottom += needH
            geo.pad_right += needW
        }
    }
    try checkedGeometry(ctx, geo)
    let oh = flotilla_f32_conv2d_out_h(&geo), ow = flotilla_f32_conv2d_out_w(&geo)
    let taps = geo.kernel_h * geo.kernel_w
    let mp = ctx.pool.allocate(bytes: taps * 4).assumingMemoryBound(to: Int32.self)
    let sp = ctx.pool.allocate(bytes: taps * 4).assumingMemoryBound(to: Int32.self)
    try q8Check(ctx, flotilla_q8_avgpool_multipliers(x.scale, y.scale, taps, mp, sp), "average-pool multipliers")
    let range = Q8Type.range(y.type)
    let params = flotilla_q8_avgpool_params(type: x.cType, x_zero_point: x.zeroPoint, y_zero_point: y.zeroPoint,
                                            count_include_pad: includePad, multiplier: mp, shift: sp,
                                            qmin: range.lowerBound, qmax: range.upperBound)
    let outSpatial = global ? spatial.map { _ in 1 } : (spatial.count == 1 ? [ow] : [oh, ow])
    let n = xt.shape[0]
    let table = ctx.kernels.q8
    return .kernel(outputs: [ValueType(y.type, [n, xt.shape[1]] + outSpatial)], workspaceBytes: 0) { b in
        Q8AveragePoolKernel(table: table, geometry: geo, params: params, batch: n, input: b.input(0), output: b.outputs[0])
    }
}

final class Q8AveragePoolKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; multipliers are in the constant pool.
    let table: UnsafePointer<flotilla_q8_kernels>
    let geometry: flotilla_f32_conv2d_geometry
    let params: flotilla_q8_avgpool_params
    let batch: Int
    let input, output: Buffer

    init(table: UnsafePointer<flotilla_q8_kernels>, geometry: flotilla_f32_conv2d_geometry, params: flotilla_q8_avgpool_params, batch: Int,
         input: Buffer, output: Buffer) {
        self.table = table
        self.geometry = geometry
        self.params = params
        self.batch = batch
        self.input = input
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        var geo = geometry, p = params
        let chw = geometry.channels * geometry.in_h * geometry.in_w
        let cohw = geometry.channels * flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        for n in 0..<batch { table.pointee.avgpool?(&geo, &p, src + n * chw, dst + n * cohw) }
    }
}
