internal import CKernels
import ModelIR

/// com.microsoft QLinearAdd / QLinearMul (numpy broadcasting), the table activations
/// (com.microsoft QLinearSigmoid / QLinearLeakyRelu and flotilla:QLinearLookup for HardSigmoid,
/// HardSwish, Tanh, Sigmoid, LeakyRelu, Relu and Clip) and flotilla:QLinearRescale.
extension OpRegistry {
    mutating func registerQuantizedElementwise() {
        register("QLinearAdd", domain: "com.microsoft") { ctx in try planQ8Binary(ctx, add: true) }
        register("QLinearMul", domain: "com.microsoft") { ctx in try planQ8Binary(ctx, add: false) }
        register("QLinearSigmoid", domain: "com.microsoft") { ctx in try planLookup(ctx, function: "Sigmoid") }
        register("QLinearLeakyRelu", domain: "com.microsoft") { ctx in try planLookup(ctx, function: "LeakyRelu") }
        register("QLinearLookup", domain: "flotilla") { ctx in try planLookup(ctx, function: ctx.string("function", "")) }
    }
}

private func planQ8Binary(_ ctx: NodePlanContext, add: Bool) throws -> PlannedOp {
    let at = try ctx.input(0, Q8Type.types), bt = try ctx.input(3, Q8Type.types)
    let a = try ctx.q8Param(scale: 1, zeroPoint: 2, type: at.elementType, "input A")
    let b = try ctx.q8Param(scale: 4, zeroPoint: 5, type: bt.elementType, "input B")
    let y = try ctx.q8Param(scale: 6, zeroPoint: 7, type: try ctx.outputQ8Type(zeroPoint: 7, default: .uint8), "output C")
    guard let shape = broadcastShapes([at.shape, bt.shape]) else { throw ctx.fail("shapes \(at.shape) and \(bt.shape) do not broadcast") }
    let (qmin, qmax) = try q8Clamp(ctx, output: y, activation: ctx.node.fusedActivation)
    var p = flotilla_q8_binary_params()
    let status =
        add
        ? flotilla_q8_add_params_init(
            &p, a.cType, a.scale, a.zeroPoint, b.cType, b.scale, b.zeroPoint, y.cType, y.scale, y.zeroPoint, qmin, qmax)
        : flotilla_q8_mul_params_init(
            &p, a.cType, a.scale, a.zeroPoint, b.cType, b.scale, b.zeroPoint, y.cType, y.scale, y.zeroPoint, qmin, qmax)
    try q8Check(ctx, status, add ? "QLinearAdd parameters" : "QLinearMul parameters")
    let count = Shape.checkedProduct(shape) ?? 0
    let table = ctx.kernels.q8
    let params = p
    // Broadcasting runs the kernel over runs of the output with the operands read in place
    // (`Q8BroadcastRuns`); only shapes whose runs would be very short expand the broadcast
    // operands into the workspace first.
    if at.shape != shape || bt.shape != shape, count > 0, let runs = Q8BroadcastRuns(a: at.shape, b: bt.shape, out: shape) {
        return .kernel(outputs: [ValueType(y.type, shape)], workspaceBytes: runs.workspaceBytes) { bufs in
            Q8BroadcastBinaryKernel(
                table: table, add: add, params: params, runs: runs, a: bufs.input(0), b: bufs.input(3), y: bufs.outputs[0],
                workspace: bufs.workspace)
        }
    }
    let expandA = at.shape != shape ? ByteBroadcast(from: at.shape, to: shape) : nil
    let expandB = bt.shape != shape ? ByteBroadcast(from: bt.shape, to: shape) : nil
    let aBytes = expandA == nil ? 0 : (count + 63) / 64 * 64
    return .kernel(outputs: [ValueType(y.type, shape)], workspaceBytes: aBytes + (expandB == nil ? 0 : count)) { bufs in
        Q8BinaryKernel(
            table: table, add: add, params: params, count: count, expandA: expandA, expandB: expandB, aBytes: aBytes,
            a: bufs.input(0), b: bufs.input(3), y: bufs.outputs[0], workspace: bufs.workspace)
    }
}

/// Copies a byte tensor broadcast to a larger shape (plan-time strides, recursive loop: no
/// allocation at run time).
struct ByteBroadcast {
    let shape: [Int]
    let strides: [Int]

    init(from: [Int], to target: [Int]) {
        shape = target
        strides = broadcastStrides(from, to: target)
    }

    func copy(_ src: UnsafeMutablePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>) {
        var out = dst
        walk(0, src, &out)
    }

    private func walk(_ d: Int, _ src: UnsafeMutablePointer<UInt8>, _ out: inout UnsafeMutablePointer<UInt8>) {
        if d == shape.count {
            out.pointee = src.pointee
            out += 1
            return
        }
        for i in 0..<shape[d] { walk(d + 1, src + i * strides[d], &out) }
    }
}

final class Q8BinaryKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the table is a static C struct.
    let table: UnsafePointer<flotilla_q8_kernels>
    let add: Bool
    let params: flotilla_q8_binary_params
    let count: Int
    let expandA, expandB: ByteBroadcast?
    let aBytes: Int
    let a, b, y, workspace: Buffer

    init(
        table: UnsafePointer<flotilla_q8_kernels>, add: Bool, params: flotilla_q8_binary_params, count: Int, expandA: ByteBroadcast?,
        expandB: ByteBroadcast?, aBytes: Int, a: Buffer, b: Buffer, y: Buffer, workspace: Buffer
    ) {
        self.table = table
        self.add = add
        self.params = params
        self.count = count
        self.expandA = expandA
        self.expandB = expandB
        self.aBytes = aBytes
        self.a = a
        self.b = b
        self.y = y
        self.workspace = workspace
    }

    func execute(_ memory: Memory) throws {
        var pa = memory.typed(a, UInt8.self), pb = memory.typed(b, UInt8.self)
        let ws = memory.typed(workspace, UInt8.self)
        if let e = expandA {
            e.copy(pa, ws)
            pa = ws
        }
        if let e = expandB {
            e.copy(pb, ws + aBytes)
            pb = ws + aBytes
        }
        var p = params
        if add { table.pointee.add?(count, pa, pb, memory.raw(y), &p) } else { table.pointee.mul?(count, pa, pb, memory.raw(y), &p) }
    }
}

final class Q8BroadcastBinaryKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the table is a static C struct.
    let table: UnsafePointer<flotilla_q8_kernels>
    let add: Bool
    let params: flotilla_q8_binary_params
    let runs: Q8BroadcastRuns
    let a, b, y, workspace: Buffer

    init(
        table: UnsafePointer<flotilla_q8_kernels>, add: Bool, params: flotilla_q8_binary_params, runs: Q8BroadcastRuns, a: Buffer,
        b: Buffer, y: Buffer, workspace: Buffer
    ) {
        self.table = table
        self.add = add
        self.params = params
        self.runs = runs
        self.a = a
        self.b = b
        self.y = y
        self.workspace = workspace
    }

    func execute(_ memory: Memory) throws {
        var p = params
        let f = add ? table.pointee.add : table.pointee.mul
        guard let f else { return }
        runs.forEachRun(
            a: memory.typed(a, UInt8.self), b: memory.typed(b, UInt8.self), y: memory.typed(y, UInt8.self),
            workspace: memory.typed(workspace, UInt8.self)
        ) { n, pa, pb, py in f(n, pa, pb, py, &p) }
    }
}

/// A 256-entry table activation. The table comes from input 5 when the node carries one
/// (built once by the coordinator, so every device uses the same bytes — libm's exp/tanh may
/// differ in the last bit between machines), else it is built here with `flotilla_q8_lut_build`
/// (Relu and Clip, which need no libm, with the same round-half-to-even quantization).
private func planLookup(_ ctx: NodePlanContext, function: String) throws -> PlannedOp {
    let xt = try ctx.input(0, Q8Type.types)
    let x = try ctx.q8Param(scale: 1, zeroPoint: 2, type: xt.elementType, "input X")
    let y = try ctx.q8Param(scale: 3, zeroPoint: 4, type: try ctx.outputQ8Type(zeroPoint: 4, default: xt.elementType), "output Y")
    var table = [UInt8](repeating: 0, count: 256)
    if ctx.has(5) {
        let t = try ctx.requireConstant(5, "the lookup table")
        guard t.elementType == .uint8, t.elementCount == 256, let v = t.uint8s else {
            throw ctx.fail("the lookup table must be uint8[256] (entry i = output byte for input byte i), got \(t.elementType)\(t.shape)")
        }
        table = v
    } else {
        table = try buildLookupTable(ctx, function: function, x: x, y: y)
    }
    let tp = ctx.pool.allocate(bytes: 256).assumingMemoryBound(to: UInt8.self)
    tp.update(from: table, count: 256)
    guard let lut = ctx.kernels.q8.pointee.lut else { throw ctx.fail("the int8 kernel table has no lookup kernel") }
    return .kernel(outputs: [ValueType(y.type, xt.shape)], workspaceBytes: 0) { b in
        Q8LookupKernel(lut: lut, table: tp, count: xt.elementCount, x: b.input(0), y: b.outputs[0])
    }
}

/// The table of `function` for input x and output y (docs/int8-runtime.md lists the names).
func buildLookupTable(_ ctx: NodePlanContext, function: String, x: Q8Param, y: Q8Param) throws -> [UInt8] {
    var table = [UInt8](repeating: 0, count: 256)
    let alpha = Double(ctx.float("alpha", function == "LeakyRelu" ? 0.01 : 0.2)), beta = Double(ctx.float("beta", 0.5))
    let f: flotilla_q8_lut_function
    switch function {
    case "Sigmoid": f = FLOTILLA_Q8_LUT_SIGMOID
    case "LeakyRelu": f = FLOTILLA_Q8_LUT_LEAKY_RELU
    case "HardSigmoid": f = FLOTILLA_Q8_LUT_HARD_SIGMOID
    case "HardSwish": f = FLOTILLA_Q8_LUT_HARD_SWISH
    case "Tanh": f = FLOTILLA_Q8_LUT_TANH
    case "Relu", "Clip":
        let lo = function == "Relu" ? 0 : Double(ctx.float("min", -.infinity)),
            hi = function == "Relu" ? .infinity : Double(ctx.float("max", .infinity))
        let range = Q8Type.range(y.type)
        for i in 0..<256 {
            let v = x.type == .uint8 ? Int32(i) : Int32(Int8(truncatingIfNeeded: i))
            let r = min(max(x.scale * Double(v - x.zeroPoint), lo), hi)
            let q = (r / y.scale).rounded(.toNearestOrEven) + Double(y.zeroPoint)
            table[i] = UInt8(truncatingIfNeeded: Int32(min(max(q, Double(range.lowerBound)), Double(range.upperBound))))
        }
        return table
    default:
        throw ctx.fail("function '\(function)' is not a lookup activation (Sigmoid, LeakyRelu, HardSigmoid, HardSwish, Tanh, Relu, Clip)")
    }
    let leaky = function == "LeakyRelu" ? alpha : (function == "HardSigmoid" ? alpha : 0)
    let status = table.withUnsafeMutableBufferPointer { tb in
        flotilla_q8_lut_build(f, leaky, beta, x.cType, x.scale, x.zeroPoint, y.cType, y.scale, y.zeroPoint, tb.baseAddress)
    }
    try q8Check(ctx, status, "building the \(function) table")
    return table
}

final class Q8LookupKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the table is in the constant pool.
    let lut: @convention(c) (Int, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?, UnsafeMutablePointer<UInt8>?) -> Void
    let table: UnsafeMutablePointer<UInt8>
    let count: Int
    let x, y: Buffer

    init(
        lut: @escaping @convention(c) (Int, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?, UnsafeMutablePointer<UInt8>?) -> Void,
        table: UnsafeMutablePointer<UInt8>, count: Int, x: Buffer, y: Buffer
    ) {
        self.lut = lut
        self.table = table
        self.count = count
        self.x = x
        self.y = y
    }

    func execute(_ memory: Memory) throws { lut(count, memory.typed(x, UInt8.self), table, memory.typed(y, UInt8.self)) }
}
