internal import CKernels
import ModelIR

/// ConvTranspose (NCHW, and NCW as H = 1) as GEMM + col2im: per image and group,
/// columns[(Mg·kh·kw) × (H·W)] = Wgᵀ · Xg with the transposed weights packed once at plan time,
/// then every column entry is scatter-added to its output pixel. Output starts as the bias.
extension OpRegistry {
    mutating func registerConvTranspose() {
        register("ConvTranspose") { ctx in try planConvTranspose(ctx) }
    }
}

struct ConvTransposeGeometry: Sendable {
    let batch, channels, group, mPerGroup: Int
    let h, w, oh, ow: Int
    let kh, kw, sh, sw, dh, dw, top, left: Int
}

private func planConvTranspose(_ ctx: NodePlanContext) throws -> PlannedOp {
    let x = try ctx.input(0, floatOnly)
    let wt = try ctx.input(1, floatOnly)
    guard x.rank == 3 || x.rank == 4, wt.rank == x.rank else {
        throw ctx.fail(
            "input \(x.shape) and weights \(wt.shape) must both be NCW or NCHW", x.rank >= 5 ? .unsupportedRank(x.rank) : .invalid)
    }
    let weights = try ctx.requireConstant(1, "the weights")
    let group = ctx.int("group", 1)
    let c = x.shape[1]
    guard group > 0, c % group == 0, wt.shape[0] == c else {
        throw ctx.fail("weights \(wt.shape) need \(c) input channels and group \(group) must divide them")
    }
    let cg = c / group, mg = wt.shape[1], m = mg * group
    let spatial = Array(x.shape[2...]), kernel = Array(wt.shape[2...])
    let r = spatial.count
    if let k = ctx.ints("kernel_shape"), k != kernel { throw ctx.fail("kernel_shape \(k) disagrees with the weights \(wt.shape)") }
    let strides = ctx.ints("strides") ?? [Int](repeating: 1, count: r)
    let dilations = ctx.ints("dilations") ?? [Int](repeating: 1, count: r)
    let outPad = ctx.ints("output_padding") ?? [Int](repeating: 0, count: r)
    guard strides.count == r, dilations.count == r, outPad.count == r, strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }),
        outPad.allSatisfy({ $0 >= 0 })
    else { throw ctx.fail("strides \(strides), dilations \(dilations) and output_padding \(outPad) need \(r) valid entries") }
    guard
        (kernel + strides + dilations + outPad + spatial + (ctx.ints("pads") ?? []) + (ctx.ints("output_shape") ?? []))
            .allSatisfy({ (-maxGeometryValue...maxGeometryValue).contains($0) })
    else { throw ctx.fail("sizes, strides, dilations and pads must be at most \(maxGeometryValue)") }
    var begin = [Int](repeating: 0, count: r), end = [Int](repeating: 0, count: r)
    let autoPad = ctx.string("auto_pad", "NOTSET")
    let requested: [Int]? = ctx.ints("output_shape").map { $0.count == r ? $0 : Array($0.suffix(r)) }
    if requested != nil || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
        let target = requested ?? spatial.indices.map { spatial[$0] * strides[$0] }
        for i in 0..<r {
            let full: Int = strides[i] * (spatial[i] - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1
            // Negative total padding (output_shape beyond the full result) pads with the bias;
            // the split floors like ONNX's reference, so the extra rows go at the end.
            let total = full - target[i]
            let half = total >= 0 ? total / 2 : -((-total + 1) / 2)
            begin[i] = autoPad == "SAME_UPPER" ? half : total - half
            end[i] = total - begin[i]
        }
    } else if autoPad == "NOTSET" {
        let pads = ctx.ints("pads") ?? [Int](repeating: 0, count: 2 * r)
        guard pads.count == 2 * r, pads.allSatisfy({ $0 >= 0 }) else { throw ctx.fail("pads \(pads) need \(2 * r) non-negative entries") }
        begin = Array(pads[..<r])
        end = Array(pads[r...])
    } else if autoPad != "VALID" {
        throw ctx.fail("auto_pad '\(autoPad)' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    }
    var outSpatial: [Int] = []
    for i in 0..<r {
        let full: Int = strides[i] * (spatial[i] - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1
        outSpatial.append(full - begin[i] - end[i])
    }
    guard outSpatial.allSatisfy({ $0 > 0 }) else { throw ctx.fail("the output \(outSpatial) is empty") }
    var bias: UnsafeMutablePointer<Float>?
    if ctx.has(2) {
        let b = try ctx.requireConstant(2, "the bias")
        guard let f = b.floats, f.count == m else {
            throw ctx.fail(
                "bias must be float32 with \(m) values", b.elementType == .float32 ? .invalid : .unsupportedElementType(b.elementType))
        }
        bias = ctx.pool.storeFloats(f)
    }
    let two = r == 1
    let geo = ConvTransposeGeometry(
        batch: x.shape[0], channels: c, group: group, mPerGroup: mg, h: two ? 1 : spatial[0], w: spatial[r - 1],
        oh: two ? 1 : outSpatial[0], ow: outSpatial[r - 1], kh: two ? 1 : kernel[0], kw: kernel[r - 1],
        sh: two ? 1 : strides[0], sw: strides[r - 1], dh: two ? 1 : dilations[0], dw: dilations[r - 1],
        top: two ? 0 : begin[0], left: begin[r - 1])
    // A_g = W_gᵀ: (Mg·kh·kw) × Cg, from W[g·Cg + ci, mo, ky, kx].
    let taps = geo.kh * geo.kw
    let rows = mg * taps
    let wf = weights.floats ?? []
    let table = ctx.kernels.table
    var packed: [UnsafeMutablePointer<Float>] = []
    for g in 0..<group {
        var a = [Float](repeating: 0, count: rows * cg)
        for ci in 0..<cg {
            for row in 0..<rows { a[row * cg + ci] = wf[(g * cg + ci) * rows + row] }
        }
        let p = ctx.pool.allocate(bytes: table.pointee.gemm_pack_a_size(rows, cg) * 4).assumingMemoryBound(to: Float.self)
        a.withUnsafeBufferPointer { table.pointee.gemm_pack_a(rows, cg, $0.baseAddress, cg, p) }
        packed.append(p)
    }
    let activation = ctx.node.fusedActivation
    return .kernel(outputs: [ValueType(.float32, [x.shape[0], m] + outSpatial)], workspaceBytes: rows * geo.h * geo.w * 4) { b in
        ConvTransposeKernel(
            geo: geo, packedA: packed, bias: bias, table: KernelTable(table), input: b.input(0), output: b.outputs[0],
            workspace: b.workspace, activation: activation)
    }
}

final class ConvTransposeKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants; pointers into the constant pool.
    let geo: ConvTransposeGeometry
    let packedA: [UnsafeMutablePointer<Float>]
    let bias: UnsafeMutablePointer<Float>?
    let table: KernelTable
    let input, output, workspace: Buffer
    let activation: Activation?

    init(
        geo: ConvTransposeGeometry, packedA: [UnsafeMutablePointer<Float>], bias: UnsafeMutablePointer<Float>?, table: KernelTable,
        input: Buffer, output: Buffer, workspace: Buffer, activation: Activation?
    ) {
        self.geo = geo
        self.packedA = packedA
        self.bias = bias
        self.table = table
        self.input = input
        self.output = output
        self.workspace = workspace
        self.activation = activation
    }

    func execute(_ memory: Memory) throws {
        let g = geo
        let x = memory.floats(input), y = memory.floats(output), cols = memory.floats(workspace)
        let hw = g.h * g.w, ohw = g.oh * g.ow
        let cg = g.channels / g.group, m = g.mPerGroup * g.group
        let rows = g.mPerGroup * g.kh * g.kw
        let t = table.table.pointee
        for n in 0..<g.batch {
            for oc in 0..<m {
                let v = bias?[oc] ?? 0
                let plane = y + (n * m + oc) * ohw
                for i in 0..<ohw { plane[i] = v }
            }
            for grp in 0..<g.group {
                t.gemm_packed_a(rows, hw, cg, packedA[grp], x + (n * g.channels + grp * cg) * hw, hw, nil, cols, hw, -.infinity, .infinity)
                for mo in 0..<g.mPerGroup {
                    let plane = y + (n * m + grp * g.mPerGroup + mo) * ohw
                    for ky in 0..<g.kh {
                        for kx in 0..<g.kw {
                            let col = cols + ((mo * g.kh + ky) * g.kw + kx) * hw
                            for iy in 0..<g.h {
                                let oy = iy * g.sh - g.top + ky * g.dh
                                if oy < 0 || oy >= g.oh { continue }
                                for ix in 0..<g.w {
                                    let ox = ix * g.sw - g.left + kx * g.dw
                                    if ox < 0 || ox >= g.ow { continue }
                                    plane[oy * g.ow + ox] += col[iy * g.w + ix]
                                }
                            }
                        }
                    }
                }
            }
        }
        if let activation { applyActivation(activation, y, g.batch * m * ohw) }
    }
}
