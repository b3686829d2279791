import ModelIR

/// MaxPool (with the optional Indices output), AveragePool, GlobalAveragePool, GlobalMaxPool
/// over NCHW (and NCW as H = 1).
extension OpRegistry {
    mutating func registerPooling() {
        register("MaxPool") { ctx in try planPool(ctx, max: true) }
        register("AveragePool") { ctx in try planPool(ctx, max: false) }
        register("GlobalAveragePool") { ctx in try planGlobalPool(ctx, max: false) }
        register("GlobalMaxPool") { ctx in try planGlobalPool(ctx, max: true) }
    }
}

/// One pooling geometry over one plane, as 2-D.
struct PoolGeometry: Sendable {
    let planes: Int
    let h, w, oh, ow: Int
    let kh, kw, sh, sw, dh, dw, top, left, bottom, right: Int
}

private func planPool(_ ctx: NodePlanContext, max isMax: Bool) throws -> PlannedOp {
    let x = try ctx.input(0, floatOnly)
    guard x.rank == 3 || x.rank == 4 else {
        throw ctx.fail("input \(x.shape) must be NCW or NCHW", x.rank >= 5 ? .unsupportedRank(x.rank) : .invalid)
    }
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
    let out = ValueType(.float32, Array(x.shape[..<2]) + outSpatial)
    if isMax {
        let columnMajor = ctx.int("storage_order", 0) != 0
        let wantIndices = ctx.wantsOutput(1)
        // The Indices output costs memory only when the node asks for it.
        return .kernel(outputs: wantIndices ? [out, ValueType(.int64, out.shape)] : [out], workspaceBytes: 0) { b in
            MaxPoolKernel(
                geo: geo, input: b.input(0), output: b.outputs[0], indices: wantIndices ? b.outputs[1] : nil,
                columnMajor: columnMajor)
        }
    }
    let includePad = ctx.int("count_include_pad", 0) != 0
    return .kernel(outputs: [out], workspaceBytes: 0) { b in
        AveragePoolKernel(geo: geo, input: b.input(0), output: b.outputs[0], includePad: includePad)
    }
}

final class MaxPoolKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let geo: PoolGeometry
    let input, output: Buffer
    let indices: Buffer?
    let columnMajor: Bool

    init(geo: PoolGeometry, input: Buffer, output: Buffer, indices: Buffer?, columnMajor: Bool) {
        self.geo = geo
        self.input = input
        self.output = output
        self.indices = indices
        self.columnMajor = columnMajor
    }

    func execute(_ memory: Memory) throws {
        let g = geo
        let x = memory.floats(input), y = memory.floats(output)
        guard let idx = indices.map({ memory.typed($0, Int64.self) }) else {
            maxOnly(x, y)
            return
        }
        for p in 0..<g.planes {
            let plane = x + p * g.h * g.w
            for oy in 0..<g.oh {
                for ox in 0..<g.ow {
                    var best = -Float.infinity
                    var bestAt = -1
                    for ky in 0..<g.kh {
                        let iy = oy * g.sh - g.top + ky * g.dh
                        if iy < 0 || iy >= g.h { continue }
                        for kx in 0..<g.kw {
                            let ix = ox * g.sw - g.left + kx * g.dw
                            if ix < 0 || ix >= g.w { continue }
                            let v = plane[iy * g.w + ix]
                            // NaN wins, as in ONNX Runtime's comparison order.
                            if v > best || bestAt < 0 || v.isNaN {
                                best = v
                                bestAt = iy * g.w + ix
                            }
                        }
                    }
                    let o = (p * g.oh + oy) * g.ow + ox
                    y[o] = best
                    let local = bestAt < 0 ? 0 : bestAt
                    let (iy, ix) = (local / g.w, local % g.w)
                    idx[o] = Int64(p * g.h * g.w + (columnMajor ? ix * g.h + iy : local))
                }
            }
        }
    }

    /// Without Indices: the window's in-bounds range is computed once per output row and
    /// column instead of testing every tap, and a 2×2 stride-2 window (the common case) is
    /// four loads and three comparisons.
    private func maxOnly(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let g = geo
        @inline(__always) func larger(_ best: Float, _ v: Float) -> Float { v > best || v.isNaN ? v : best }
        // Taps k with 0 ≤ start + k·d < size form [first, end).
        @inline(__always) func taps(_ start: Int, _ d: Int, _ count: Int, _ size: Int) -> (Int, Int) {
            let first = start >= 0 ? 0 : Swift.min((-start + d - 1) / d, count)
            let end = start >= size ? 0 : Swift.min((size - 1 - start) / d + 1, count)
            return (first, Swift.max(first, end))
        }
        for p in 0..<g.planes {
            let plane = x + p * g.h * g.w
            for oy in 0..<g.oh {
                let y0 = oy * g.sh - g.top
                let (ky0, ky1) = taps(y0, g.dh, g.kh, g.h)
                let out = y + (p * g.oh + oy) * g.ow
                for ox in 0..<g.ow {
                    let x0 = ox * g.sw - g.left
                    let (kx0, kx1) = taps(x0, g.dw, g.kw, g.w)
                    var best = -Float.infinity
                    if ky1 - ky0 == 2 && kx1 - kx0 == 2 && g.dh == 1 && g.dw == 1 {
                        let r0 = plane + (y0 + ky0) * g.w + x0 + kx0, r1 = r0 + g.w
                        best = larger(larger(larger(larger(best, r0[0]), r0[1]), r1[0]), r1[1])
                    } else {
                        for ky in ky0..<ky1 {
                            let row = plane + (y0 + ky * g.dh) * g.w + x0
                            for kx in kx0..<kx1 { best = larger(best, row[kx * g.dw]) }
                        }
                    }
                    out[ox] = best
                }
            }
        }
    }
}

final class AveragePoolKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let geo: PoolGeometry
    let input, output: Buffer
    let includePad: Bool

    init(geo: PoolGeometry, input: Buffer, output: Buffer, includePad: Bool) {
        self.geo = geo
        self.input = input
        self.output = output
        self.includePad = includePad
    }

    func execute(_ memory: Memory) throws {
        let g = geo
        let x = memory.floats(input), y = memory.floats(output)
        for p in 0..<g.planes {
            let plane = x + p * g.h * g.w
            for oy in 0..<g.oh {
                for ox in 0..<g.ow {
                    var sum: Float = 0
                    var inside = 0
                    var padded = 0
                    for ky in 0..<g.kh {
                        let iy = oy * g.sh - g.top + ky * g.dh
                        // Positions in the explicit padding count with count_include_pad; positions
                        // past it (a ceil_mode overhang) never do.
                        let inPaddedY = iy >= -g.top && iy < g.h + g.bottom
                        for kx in 0..<g.kw {
                            let ix = ox * g.sw - g.left + kx * g.dw
                            let inPaddedX = ix >= -g.left && ix < g.w + g.right
                            if inPaddedY && inPaddedX { padded += 1 }
                            if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w { continue }
                            sum += plane[iy * g.w + ix]
                            inside += 1
                        }
                    }
                    let divisor = includePad ? padded : inside
                    y[(p * g.oh + oy) * g.ow + ox] = divisor > 0 ? sum / Float(divisor) : 0
                }
            }
        }
    }
}

private func planGlobalPool(_ ctx: NodePlanContext, max isMax: Bool) throws -> PlannedOp {
    let x = try ctx.input(0, floatOnly)
    guard x.rank >= 3 else { throw ctx.fail("input \(x.shape) must be N×C×spatial (rank ≥ 3)") }
    let planes = x.shape[0] * x.shape[1]
    let size = x.shape[2...].reduce(1, *)
    let out = ValueType(.float32, Array(x.shape[..<2]) + [Int](repeating: 1, count: x.rank - 2))
    return .kernel(outputs: [out], workspaceBytes: 0) { b in
        ReduceRowsKernel(input: b.input(0), output: b.outputs[0], rows: planes, length: size, mode: isMax ? .max : .mean)
    }
}

/// Reduces each of `rows` contiguous rows of `length` floats to one value.
final class ReduceRowsKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    enum Mode { case mean, max, sum }
    let input, output: Buffer
    let rows, length: Int
    let mode: Mode

    init(input: Buffer, output: Buffer, rows: Int, length: Int, mode: Mode) {
        self.input = input
        self.output = output
        self.rows = rows
        self.length = length
        self.mode = mode
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.floats(output)
        for r in 0..<rows {
            let row = x + r * length
            switch mode {
            case .max:
                var m = -Float.infinity
                for i in 0..<length where row[i] > m || row[i].isNaN { m = row[i] }
                y[r] = m
            case .mean, .sum:
                var s: Float = 0
                for i in 0..<length { s += row[i] }
                y[r] = mode == .mean ? (length > 0 ? s / Float(length) : .nan) : s
            }
        }
    }
}
