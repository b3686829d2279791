import ModelIR

/// The int8 ops of the runtime, registered after the fp32 families (`OpRegistry.standard`).
extension OpRegistry {
    mutating func registerQuantized() {
        registerQuantizeLinear()
        registerQuantizedConv()
        registerQuantizedMatrix()
        registerQuantizedInteger()
        registerQuantizedElementwise()
        registerQuantizedPooling()
        registerQuantizedConcat()
        for op in ["MaxPool", "GlobalMaxPool"] { extendToInt8(op) }
        // Byte max pools in front of the widened ones, which stay for MaxPool's Indices output.
        registerQuantizedMaxPool()
        registerQuantizedResize()
    }

    /// Lets an fp32 op that only *selects* input values (MaxPool with Indices) run on uint8
    /// and int8 tensors with the same parameters: the bytes are widened to float32 (exact),
    /// the fp32 kernel runs in the step's workspace and the result is narrowed back (exact, the
    /// values are the input's). Other element types go to the fp32 plan unchanged.
    mutating func extendToInt8(_ op: String, check: @escaping @Sendable (NodePlanContext) throws -> Void = { _ in }) {
        guard let fp32 = lookup("", op) else { return }
        register(op) { ctx in
            guard let x = ctx.inputTypes.first ?? nil, Q8Type.types.contains(x.elementType) else { return try fp32(ctx) }
            try check(ctx)
            var types = ctx.inputTypes
            types[0] = ValueType(.float32, x.shape)
            let inner = NodePlanContext(
                node: ctx.node, inputTypes: types, constants: ctx.constants, kernels: ctx.kernels, pool: ctx.pool,
                threads: ctx.threads, subgraphPlanner: ctx.subgraphPlanner)
            guard case .kernel(var outputs, let ws, let make) = try fp32(inner), let first = outputs.first else {
                throw ctx.fail("the \(op) plan for int8 input produced no step")
            }
            outputs[0] = ValueType(x.elementType, first.shape)
            let inBytes = (x.elementCount * 4 + 63) / 64 * 64, outBytes = (first.elementCount * 4 + 63) / 64 * 64
            let signed = x.elementType == .int8
            return .kernel(outputs: outputs, workspaceBytes: inBytes + outBytes + ws) { b in
                let w = b.workspace
                let fin = Buffer.arena(w.arena, offset: w.offset, bytes: x.elementCount * 4)
                let fout = Buffer.arena(w.arena, offset: w.offset + inBytes, bytes: first.elementCount * 4)
                let rest = Buffer.arena(w.arena, offset: w.offset + inBytes + outBytes, bytes: ws)
                let innerKernel = try make(
                    KernelBuffers(
                        resolve: { i in i == 0 ? fin : b.optionalInput(i) },
                        outputs: [fout] + b.outputs.dropFirst(), workspace: rest))
                return WidenedByteKernel(
                    inner: innerKernel, signed: signed, input: b.input(0), output: b.outputs[0], floatIn: fin,
                    floatOut: fout, inCount: x.elementCount, outCount: first.elementCount)
            }
        }
    }
}

final class WidenedByteKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the inner kernel is itself a shared Kernel.
    let inner: any Kernel
    let signed: Bool
    let input, output, floatIn, floatOut: Buffer
    let inCount, outCount: Int

    init(inner: any Kernel, signed: Bool, input: Buffer, output: Buffer, floatIn: Buffer, floatOut: Buffer, inCount: Int, outCount: Int) {
        self.inner = inner
        self.signed = signed
        self.input = input
        self.output = output
        self.floatIn = floatIn
        self.floatOut = floatOut
        self.inCount = inCount
        self.outCount = outCount
    }

    func execute(_ memory: Memory) throws {
        let src = memory.typed(input, UInt8.self), fin = memory.floats(floatIn)
        for i in 0..<inCount { fin[i] = signed ? Float(Int8(bitPattern: src[i])) : Float(src[i]) }
        try inner.execute(memory)
        let fout = memory.floats(floatOut), dst = memory.typed(output, UInt8.self)
        for i in 0..<outCount { dst[i] = signed ? UInt8(bitPattern: Int8(fout[i])) : UInt8(fout[i]) }
    }
}
