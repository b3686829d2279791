import ModelIR

/// MaxPool and GlobalMaxPool on uint8/int8 tensors, directly on the bytes. With one scale and
/// zero point on both sides the quantized value order is the real order, so the max of the
/// quantized values is the quantized max: exact, and no float32 round trip. MaxPool's Indices
/// output keeps the widened float32 path (`extendToInt8`), which computes it.
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
            let geo = PoolGeometry(
                planes: planes, h: 1, w: size, oh: 1, ow: 1, kh: 1, kw: size, sh: 1, sw: size, dh: 1, dw: 1, top: 0, left: 0,
                bottom: 0, right: 0)
            let out = ValueType(x.elementType, Array(x.shape[..<2]) + [Int](repeating: 1, count: x.rank - 2))
            let signed = x.elementType == .int8
            return .kernel(outputs: [out], workspaceBytes: 0) { b in
                Q8MaxPoolKernel(geo: geo, signed: signed, input: b.input(0), output: b.outputs[0])
            }
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
    let geo = PoolGeometry(
        planes: x.shape[0] * x.shape[1], h: h, w: w, oh: oh, ow: ow, kh: s.kh, kw: s.kw, sh: s.sh, sw: s.sw,
        dh: s.dh, dw: s.dw, top: s.top, left: s.left, bottom: s.bottom, right: s.right)
    let out = ValueType(x.elementType, Array(x.shape[..<2]) + outSpatial)
    let signed = x.elementType == .int8
    return .kernel(outputs: [out], workspaceBytes: 0) { b in
        Q8MaxPoolKernel(geo: geo, signed: signed, input: b.input(0), output: b.outputs[0])
    }
}

/// Max pooling of 8-bit planes. Bytes are compared as unsigned after flipping the sign bit of
/// int8 values (x ^ 0x80 maps int8 order onto uint8 order), so one loop serves both types.
final class Q8MaxPoolKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let geo: PoolGeometry
    let flip: UInt8
    let input, output: Buffer

    init(geo: PoolGeometry, signed: Bool, input: Buffer, output: Buffer) {
        self.geo = geo
        self.flip = signed ? 0x80 : 0
        self.input = input
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        let g = geo, flip = flip
        let x = memory.typed(input, UInt8.self), y = memory.typed(output, UInt8.self)
        for p in 0..<g.planes {
            let plane = x + p * g.h * g.w
            let out = y + p * g.oh * g.ow
            for oy in 0..<g.oh {
                let y0 = oy * g.sh - g.top
                // Window rows/columns inside the input, as tap ranges (no per-tap bounds test).
                let ky0 = y0 >= 0 ? 0 : (-y0 + g.dh - 1) / g.dh
                let ky1 = min(g.kh, y0 < g.h ? (g.h - y0 + g.dh - 1) / g.dh : 0)
                for ox in 0..<g.ow {
                    let x0 = ox * g.sw - g.left
                    let kx0 = x0 >= 0 ? 0 : (-x0 + g.dw - 1) / g.dw
                    let kx1 = min(g.kw, x0 < g.w ? (g.w - x0 + g.dw - 1) / g.dw : 0)
                    // An all-padding window (possible only with pads ≥ kernel) gives the type's
                    // lowest value, the quantized −∞.
                    var best: UInt8 = 0
                    var ky = ky0
                    while ky < ky1 {
                        let row = plane + (y0 + ky * g.dh) * g.w + x0
                        var kx = kx0
                        while kx < kx1 {
                            best = max(best, row[kx * g.dw] ^ flip)
                            kx += 1
                        }
                        ky += 1
                    }
                    out[oy * g.ow + ox] = best ^ flip
                }
            }
        }
    }
}
