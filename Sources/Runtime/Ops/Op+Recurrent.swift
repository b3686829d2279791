internal import CKernels
import Foundation
import ModelIR

/// LSTM and GRU (forward, reverse, bidirectional; initial states; per-batch sequence lengths;
/// clip; custom activations; layout 0 and 1). Per direction, X·Wᵀ (+ both biases) for all time
/// steps is one GEMM with Wᵀ packed at plan time; each step adds H·Rᵀ (R packed too). Weights
/// must be constants; sequence lengths and initial states may be run-time inputs.
extension OpRegistry {
    mutating func registerRecurrent() {
        register("LSTM") { ctx in try planRecurrent(ctx, lstm: true) }
        register("GRU") { ctx in try planRecurrent(ctx, lstm: false) }
    }
}

/// An RNN gate activation by ONNX name, with its alpha/beta.
enum RNNActivation: Sendable {
    case sigmoid, tanh, relu, softsign, softplus
    case hardSigmoid(Float, Float), leakyRelu(Float), affine(Float, Float), scaledTanh(Float, Float), elu(Float), thresholdedRelu(Float)

    @inline(__always) func apply(_ x: Float) -> Float {
        switch self {
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .relu: return Swift.max(x, 0)
        case .softsign: return x / (1 + Swift.abs(x))
        case .softplus: return Foundation.log(1 + Foundation.exp(x))
        case .hardSigmoid(let a, let b): return Swift.max(0, Swift.min(1, a * x + b))
        case .leakyRelu(let a): return x < 0 ? a * x : x
        case .affine(let a, let b): return a * x + b
        case .scaledTanh(let a, let b): return a * Foundation.tanh(b * x)
        case .elu(let a): return x < 0 ? a * (Foundation.exp(x) - 1) : x
        case .thresholdedRelu(let a): return x > a ? x : 0
        }
    }

    /// Parses `activations` with `activation_alpha`/`activation_beta` consumed in order by the
    /// functions that take them (the ONNX convention).
    static func parse(_ ctx: NodePlanContext, count: Int, defaults: [String]) throws -> [RNNActivation] {
        let names =
            ctx.node.attributes["activations"].flatMap { a -> [String]? in
                if case .strings(let s) = a { return s }
                return nil
            } ?? defaults
        guard names.count == count else { throw ctx.fail("activations \(names) must list \(count) functions") }
        var alphas = ctx.node.floats("activation_alpha") ?? [], betas = ctx.node.floats("activation_beta") ?? []
        func next(_ list: inout [Float], _ def: Float) -> Float { list.isEmpty ? def : list.removeFirst() }
        return try names.map { n in
            switch n.lowercased() {
            case "sigmoid": return .sigmoid
            case "tanh": return .tanh
            case "relu": return .relu
            case "softsign": return .softsign
            case "softplus": return .softplus
            case "hardsigmoid": return .hardSigmoid(next(&alphas, 0.2), next(&betas, 0.5))
            case "leakyrelu": return .leakyRelu(next(&alphas, 0.01))
            case "affine": return .affine(next(&alphas, 1), next(&betas, 0))
            case "scaledtanh": return .scaledTanh(next(&alphas, 1), next(&betas, 1))
            case "elu": return .elu(next(&alphas, 1))
            case "thresholdedrelu": return .thresholdedRelu(next(&alphas, 1))
            default: throw ctx.fail("activation '\(n)' is not supported", .unsupportedAttribute("activations"))
            }
        }
    }
}

/// Sizes and flags shared by the LSTM and GRU kernels.
struct RNNGeometry: Sendable {
    let lstm: Bool
    let seq, batch, input, hidden, directions, gates: Int
    let layout1: Bool
    let reverseOnly: Bool
    let clip: Float?
    let linearBeforeReset: Bool

    /// Row of X (and of the X·Wᵀ matrix) for time t and batch b.
    @inline(__always) func row(_ t: Int, _ b: Int) -> Int { layout1 ? b * seq + t : t * batch + b }
    /// Offset of Y[t, d, b, 0] (layout 0: [S, D, B, H]; layout 1: [B, S, D, H]).
    @inline(__always) func y(_ t: Int, _ d: Int, _ b: Int) -> Int {
        layout1 ? ((b * seq + t) * directions + d) * hidden : ((t * directions + d) * batch + b) * hidden
    }
    /// Offset of Y_h[d, b, 0] (layout 1: [B, D, H]).
    @inline(__always) func state(_ d: Int, _ b: Int) -> Int { layout1 ? (b * directions + d) * hidden : (d * batch + b) * hidden }
}

/// One direction's packed weights and folded biases.
struct RNNDirection: @unchecked Sendable {
    // Sendable proof: pointers into the plan's constant pool, read-only after planning.
    let packedW: UnsafeMutablePointer<Float>
    /// LSTM: all 4H gates; GRU: z and r (2H).
    let packedR: UnsafeMutablePointer<Float>
    /// GRU only: the h gate's recurrence (H).
    let packedRh: UnsafeMutablePointer<Float>?
    let inputBias: UnsafeMutablePointer<Float>
    let recurrentBiasH: UnsafeMutablePointer<Float>?
    let peephole: UnsafeMutablePointer<Float>?
    let activations: [RNNActivation]
    let reverse: Bool
}

private func planRecurrent(_ ctx: NodePlanContext, lstm: Bool) throws -> PlannedOp {
    let x = try ctx.input(0, floatOnly)
    guard x.rank == 3 else { throw ctx.fail("X \(x.shape) must be 3-D") }
    let layout1 = ctx.int("layout", 0) != 0
    let (seq, batch, inSize) = layout1 ? (x.shape[1], x.shape[0], x.shape[2]) : (x.shape[0], x.shape[1], x.shape[2])
    let direction = ctx.string("direction", "forward")
    guard ["forward", "reverse", "bidirectional"].contains(direction) else {
        throw ctx.fail("direction '\(direction)' is not forward, reverse or bidirectional")
    }
    let dirs = direction == "bidirectional" ? 2 : 1
    let gates = lstm ? 4 : 3
    let w = try ctx.requireConstant(1, "W"), r = try ctx.requireConstant(2, "R")
    let hidden = ctx.int("hidden_size", r.shape.count == 3 ? r.shape[2] : 0)
    guard let wf = w.floats, let rf = r.floats, w.shape == [dirs, gates * hidden, inSize], r.shape == [dirs, gates * hidden, hidden],
        hidden > 0
    else {
        throw ctx.fail(
            "W \(w.shape) and R \(r.shape) must be float32 [\(dirs), \(gates)·hidden, \(inSize)] and [\(dirs), \(gates)·hidden, hidden]")
    }
    if lstm, ctx.int("input_forget", 0) != 0 { throw ctx.fail("input_forget = 1 is not supported", .unsupportedAttribute("input_forget")) }
    var bias = [Float](repeating: 0, count: dirs * 2 * gates * hidden)
    if ctx.has(3) {
        let b = try ctx.requireConstant(3, "B")
        guard let f = b.floats, b.shape == [dirs, 2 * gates * hidden] else {
            throw ctx.fail("B \(b.shape) must be [\(dirs), \(2 * gates * hidden)]")
        }
        bias = f
    }
    var peep: [Float]?
    if lstm, ctx.has(7) {
        let p = try ctx.requireConstant(7, "P")
        guard let f = p.floats, p.shape == [dirs, 3 * hidden] else { throw ctx.fail("P \(p.shape) must be [\(dirs), \(3 * hidden)]") }
        peep = f
    }
    if ctx.has(4) {
        let s = try ctx.input(4, [.int32])
        guard s.shape == [batch] else { throw ctx.fail("sequence_lens \(s.shape) must be [\(batch)]") }
    }
    let stateShape = layout1 ? [batch, dirs, hidden] : [dirs, batch, hidden]
    for i in lstm ? [5, 6] : [5] where ctx.has(i) {
        let s = try ctx.input(i, floatOnly)
        guard s.shape == stateShape else { throw ctx.fail("initial state \(s.shape) must be \(stateShape)") }
    }
    let clip = ctx.node.float("clip")
    let acts = try RNNActivation.parse(
        ctx, count: (lstm ? 3 : 2) * dirs,
        defaults: (0..<dirs).flatMap { _ in lstm ? ["Sigmoid", "Tanh", "Tanh"] : ["Sigmoid", "Tanh"] })
    let table = ctx.kernels.table
    let pool = ctx.pool
    let gh = gates * hidden
    var directionsPlan: [RNNDirection] = []
    for d in 0..<dirs {
        func packB(_ values: ArraySlice<Float>, n: Int, k: Int) -> UnsafeMutablePointer<Float> {
            let p = pool.allocate(bytes: table.pointee.gemm_pack_b_size(n, k) * 4).assumingMemoryBound(to: Float.self)
            Array(values).withUnsafeBufferPointer { table.pointee.gemm_pack_b(n, k, $0.baseAddress, k, true, p) }
            return p
        }
        let wd = wf[(d * gh * inSize)..<((d + 1) * gh * inSize)]
        let rd = rf[(d * gh * hidden)..<((d + 1) * gh * hidden)]
        let wb = Array(bias[(d * 2 * gh)..<(d * 2 * gh + gh)]), rb = Array(bias[(d * 2 * gh + gh)..<((d + 1) * 2 * gh)])
        let perDir = lstm ? 3 : 2
        if lstm {
            directionsPlan.append(
                RNNDirection(
                    packedW: packB(wd, n: gh, k: inSize), packedR: packB(rd, n: gh, k: hidden), packedRh: nil,
                    inputBias: pool.storeFloats(zip(wb, rb).map { $0 + $1 }), recurrentBiasH: nil,
                    peephole: peep.map { pool.storeFloats(Array($0[(d * 3 * hidden)..<((d + 1) * 3 * hidden)])) },
                    activations: Array(acts[(d * perDir)..<((d + 1) * perDir)]), reverse: direction == "reverse" || d == 1))
        } else {
            // GRU: the input bias carries Wb (all gates) + Rb for z and r; Rbh stays separate
            // because linear_before_reset puts it inside r ⊙ (…).
            var ib = wb
            for i in 0..<(2 * hidden) { ib[i] += rb[i] }
            let zr = rd.prefix(2 * hidden * hidden), h = rd.suffix(hidden * hidden)
            directionsPlan.append(
                RNNDirection(
                    packedW: packB(wd, n: gh, k: inSize), packedR: packB(zr, n: 2 * hidden, k: hidden),
                    packedRh: packB(h, n: hidden, k: hidden),
                    inputBias: pool.storeFloats(ib), recurrentBiasH: pool.storeFloats(Array(rb[(2 * hidden)...])),
                    peephole: nil, activations: Array(acts[(d * perDir)..<((d + 1) * perDir)]), reverse: direction == "reverse" || d == 1))
        }
    }
    let geo = RNNGeometry(
        lstm: lstm, seq: seq, batch: batch, input: inSize, hidden: hidden, directions: dirs, gates: gates,
        layout1: layout1, reverseOnly: direction == "reverse", clip: clip.map { Swift.abs($0) },
        linearBeforeReset: ctx.int("linear_before_reset", 0) != 0)
    let yShape = layout1 ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden]
    var outputs = [ValueType(.float32, yShape), ValueType(.float32, stateShape)]
    if lstm { outputs.append(ValueType(.float32, stateShape)) }
    let wsFloats = seq * batch * gh + batch * gh + 3 * batch * hidden
    let node = ctx.node.name
    return .kernel(outputs: outputs, workspaceBytes: wsFloats * 4) { b in
        RNNKernel(
            geo: geo, directions: directionsPlan, table: KernelTable(table), x: b.input(0), seqLens: b.optionalInput(4),
            initialH: b.optionalInput(5), initialC: lstm ? b.optionalInput(6) : nil,
            y: b.outputs[0], yH: b.outputs[1], yC: lstm ? b.outputs[2] : nil, workspace: b.workspace, node: node)
    }
}

final class RNNKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants; per-run state lives in the arena workspace.
    let geo: RNNGeometry
    let directions: [RNNDirection]
    let table: KernelTable
    let x: Buffer
    let seqLens, initialH, initialC: Buffer?
    let y, yH: Buffer
    let yC: Buffer?
    let workspace: Buffer
    let node: String

    init(
        geo: RNNGeometry, directions: [RNNDirection], table: KernelTable, x: Buffer, seqLens: Buffer?, initialH: Buffer?,
        initialC: Buffer?, y: Buffer, yH: Buffer, yC: Buffer?, workspace: Buffer, node: String
    ) {
        self.geo = geo
        self.directions = directions
        self.table = table
        self.x = x
        self.seqLens = seqLens
        self.initialH = initialH
        self.initialC = initialC
        self.y = y
        self.yH = yH
        self.yC = yC
        self.workspace = workspace
        self.node = node
    }

    func execute(_ memory: Memory) throws {
        let g = geo
        let lens = seqLens.map { memory.typed($0, Int32.self) }
        if let lens {
            for b in 0..<g.batch where lens[b] < 0 || Int(lens[b]) > g.seq {
                throw RuntimeError.executionFailed(
                    node: node, opType: g.lstm ? "LSTM" : "GRU",
                    detail: "sequence_lens[\(b)] = \(lens[b]) is outside 0...\(g.seq)")
            }
        }
        let gh = g.gates * g.hidden, hs = g.hidden
        let ws = memory.floats(workspace)
        let xw = ws, hr = ws + g.seq * g.batch * gh
        let h = hr + g.batch * gh, c = h + g.batch * hs, rh = c + g.batch * hs
        let yp = memory.floats(y), yh = memory.floats(yH), yc = yC.map { memory.floats($0) }
        yp.initialize(repeating: 0, count: g.seq * g.directions * g.batch * hs)
        let t = table.table.pointee
        let clip = g.clip
        @inline(__always) func clipped(_ v: Float) -> Float { clip.map { Swift.min(Swift.max(v, -$0), $0) } ?? v }
        for (d, dir) in directions.enumerated() {
            t.gemm_packed_b(
                g.seq * g.batch, gh, g.input, memory.floats(x), g.input, dir.packedW, dir.inputBias, xw, gh, -.infinity, .infinity)
            for b in 0..<g.batch {
                for j in 0..<hs {
                    h[b * hs + j] = initialH.map { memory.floats($0)[g.state(d, b) + j] } ?? 0
                    c[b * hs + j] = initialC.map { memory.floats($0)[g.state(d, b) + j] } ?? 0
                }
            }
            for step in 0..<g.seq {
                if g.lstm {
                    t.gemm_packed_b(g.batch, gh, hs, h, hs, dir.packedR, nil, hr, gh, -.infinity, .infinity)
                } else {
                    t.gemm_packed_b(g.batch, 2 * hs, hs, h, hs, dir.packedR, nil, hr, gh, -.infinity, .infinity)
                    if g.linearBeforeReset, let rh3 = dir.packedRh {
                        t.gemm_packed_b(g.batch, hs, hs, h, hs, rh3, dir.recurrentBiasH, hr + 2 * hs, gh, -.infinity, .infinity)
                    }
                }
                if !g.lstm && !g.linearBeforeReset {
                    // r ⊙ h first, then its product with Rhᵀ (+ Rbh).
                    for b in 0..<g.batch {
                        let len = lens.map { Int($0[b]) } ?? g.seq
                        let tt = dir.reverse ? len - 1 - step : step
                        let row = xw + g.row(Swift.max(tt, 0), b) * gh
                        for j in 0..<hs {
                            let r = dir.activations[0].apply(clipped(row[hs + j] + hr[b * gh + hs + j]))
                            rh[b * hs + j] = r * h[b * hs + j]
                        }
                    }
                    if let rh3 = dir.packedRh {
                        t.gemm_packed_b(g.batch, hs, hs, rh, hs, rh3, dir.recurrentBiasH, hr + 2 * hs, gh, -.infinity, .infinity)
                    }
                }
                for b in 0..<g.batch {
                    let len = lens.map { Int($0[b]) } ?? g.seq
                    guard step < len else { continue }
                    let tt = dir.reverse ? len - 1 - step : step
                    let row = xw + g.row(tt, b) * gh, rec = hr + b * gh
                    let hb = h + b * hs, cb = c + b * hs
                    if g.lstm {
                        let (f, gAct, hAct) = (dir.activations[0], dir.activations[1], dir.activations[2])
                        for j in 0..<hs {
                            var i = row[j] + rec[j], o = row[hs + j] + rec[hs + j]
                            var fg = row[2 * hs + j] + rec[2 * hs + j]
                            let cc = gAct.apply(clipped(row[3 * hs + j] + rec[3 * hs + j]))
                            if let p = dir.peephole {
                                i += p[j] * cb[j]
                                fg += p[2 * hs + j] * cb[j]
                            }
                            let ig = f.apply(clipped(i)), fgate = f.apply(clipped(fg))
                            let cn = fgate * cb[j] + ig * cc
                            if let p = dir.peephole { o += p[hs + j] * cn }
                            cb[j] = cn
                            hb[j] = f.apply(clipped(o)) * hAct.apply(cn)
                        }
                    } else {
                        let (f, gAct) = (dir.activations[0], dir.activations[1])
                        for j in 0..<hs {
                            let z = f.apply(clipped(row[j] + rec[j]))
                            let r = f.apply(clipped(row[hs + j] + rec[hs + j]))
                            let pre = g.linearBeforeReset ? row[2 * hs + j] + r * rec[2 * hs + j] : row[2 * hs + j] + rec[2 * hs + j]
                            let hh = gAct.apply(clipped(pre))
                            hb[j] = (1 - z) * hh + z * hb[j]
                        }
                    }
                    let out = yp + g.y(tt, d, b)
                    for j in 0..<hs { out[j] = hb[j] }
                }
            }
            for b in 0..<g.batch {
                for j in 0..<hs {
                    yh[g.state(d, b) + j] = h[b * hs + j]
                    if let yc { yc[g.state(d, b) + j] = c[b * hs + j] }
                }
            }
        }
    }
}
