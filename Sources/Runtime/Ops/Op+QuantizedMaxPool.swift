internal import CKernels
import ModelIR

/// MaxPool and GlobalMaxPool on uint8/int8 tensors, directly on the bytes through the int8
/// path's `maxpool` kernel. With one scale and zero point on both sides the quantized value
/// order is the real order, so the max of the quantized values is the quantized max: exact, and
/// no float32 round trip. MaxPool's Indices output keeps the widened float32 path
/// (`extendToInt8`), which computes it.
extension OpRegistry {
    mutating func registerQuantizedMaxPool() {
        guard let maxPool = lookup("", "MaxPool"), let globalMaxPool = lookup("", "GlobalMaxPool") else { return }
        register("MaxPool") { ctx in
            guard let x = ctx.inputTypes.first ?? nil, Q8Type.types.contains(x.elementType), !ctx.wantsOutput(1) else {
                return try maxPool(ctx)
            }
            return try planQ8MaxPool(ctx, x)
        }
        register("GlobalMaxPool") { ctx in
            guard let x = ctx.inputTypes.first ?? nil, Q8Type.types.contains(x.elementType) else {
                return try globalMaxPool(ctx)
            }
            guard x.rank >= 3 else { throw ctx.fail("input \(x.shape) must be N×C×spatial (rank ≥ 3)") }
            let planes = x.shape[0] * x.shape[1], size = x.shape[2...].reduce(1, *)
            guard size > 0 else { throw ctx.fail("input \(x.shape) has an empty spatial extent; GlobalMaxPool needs one value per plane") }
            // A global max is a pool whose one window covers the whole plane.
            let geo = flotilla_f32_conv2d_geometry(
                channels: planes, in_h: 1, in_w: size, kernel_h: 1, kernel_w: size, stride_h: 1, stride_w: 1,
                dilation_h: 1, dilation_w: 1, pad_top: 0, pad_left: 0, pad_bottom: 0, pad_right: 0)
            let out = ValueType(x.elementType, Array(x.shape[..<2]) + [Int](repeating: 1, count: x.rank - 2))
            return try planQ8MaxPoolKernel(ctx, geo, x, out)
        }
    }
}

private func planQ8MaxPool(_ ctx: NodePlanContext, _ x: ValueType) throws -> PlannedOp {
    guard x.rank == 3 || x.rank == 4 else { throw ctx.fail("input \(x.shape) must be NCW or NCHW") }
    guard let kernel = ctx.ints("kernel_shape") else { throw ctx.fail("kernel_shape is required") }
    let spatial = Array(x.shape[2...])
    let ceilMode = ctx.int("ceil_mode", 0) != 0
    let win = try SpatialWindow.resolve(ctx, input: spatial, kernel: kernel)
    let outSpatial = spatial.indices.map { win.outputSize($0, input: spatial[$0], ceilMode: ceilMode) }
    guard outSpatial.allSatisfy({ $0 > 0 }) else { throw ctx.fail("the window \(kernel) is larger than the padded input \(spatial)") }
    let s = win.as2D
    let (h, w) = spatial.count == 1 ? (1, spatial[0]) : (spatial[0], spatial[1])
    let (oh, ow) = outSpatial.count == 1 ? (1, outSpatial[0]) : (outSpatial[0], outSpatial[1])
    // Ceil mode reaches one more window: extra end padding, which a max never picks.
    let needH = max(0, (oh - 1) * s.sh + (s.kh - 1) * s.dh + 1 - (h + s.top + s.bottom))
    let needW = max(0, (ow - 1) * s.sw + (s.kw - 1) * s.dw + 1 - (w + s.left + s.right))
    let geo = flotilla_f32_conv2d_geometry(
        channels: x.shape[0] * x.shape[1], in_h: h, in_w: w, kernel_h: s.kh, kernel_w: s.kw, stride_h: s.sh,
        stride_w: s.sw, dilation_h: s.dh, dilation_w: s.dw, pad_top: s.top, pad_left: s.left,
        pad_bottom: s.bottom + needH, pad_right: s.right + needW)
    return try planQ8MaxPoolKernel(ctx, geo, x, ValueType(x.elementType, Array(x.shape[..<2]) + outSpatial), oh: oh, ow: ow)
}

private func planQ8MaxPoolKernel(
    _ ctx: NodePlanContext, _ geometry: flotilla_f32_conv2d_geometry, _ x: ValueType, _ out: ValueType, oh: Int = 1, ow: Int = 1
) throws -> PlannedOp {
    var geo = geometry
    try checkedGeometry(ctx, geo)
    guard flotilla_f32_conv2d_out_h(&geo) == oh, flotilla_f32_conv2d_out_w(&geo) == ow else {
        throw ctx.fail(
            "the pooling windows give \(flotilla_f32_conv2d_out_h(&geo))×\(flotilla_f32_conv2d_out_w(&geo)) outputs, expected \(oh)×\(ow)")
    }
    let table = ctx.kernels.q8
    let type = x.elementType == .int8 ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
    return .kernel(outputs: [out], workspaceBytes: 0) { b in
        Q8MaxPoolKernel(table: table, geometry: geo, type: type, input: b.input(0), output: b.outputs[0])
    }
}

/// Max pooling of all N·C planes of one tensor in one kernel call.
final class Q8MaxPoolKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the table is a static C struct.
    let table: UnsafePointer<flotilla_q8_kernels>
    let geometry: flotilla_f32_conv2d_geometry
    let type: flotilla_q8_type
    let input, output: Buffer

    init(
        table: UnsafePointer<flotilla_q8_kernels>, geometry: flotilla_f32_conv2d_geometry, type: flotilla_q8_type, input: Buffer,
        output: Buffer
    ) {
        self.table = table
        self.geometry = geometry
        self.type = type
        self.input = input
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        var geo = geometry
        table.pointee.maxpool?(&geo, type, memory.raw(input), memory.raw(output))
    }
}
