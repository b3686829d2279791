internal import CKernels
import ModelIR

/// com.microsoft QLinearConcat (Y_scale, Y_zero_point, then X, X_scale, X_zero_point per input):
/// inputs with the output's parameters are copied, the others requantized into place with the
/// `rescale` kernel (y = requant(x − z_x, s_x / s_y), full type range).
extension OpRegistry {
    mutating func registerQuantizedConcat() {
        register("QLinearConcat", domain: "com.microsoft") { ctx in
            guard ctx.inputCount >= 5, (ctx.inputCount - 2) % 3 == 0 else {
                throw ctx.fail("QLinearConcat takes Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input; got \(ctx.inputCount) inputs")
            }
            let yType = try ctx.outputQ8Type(zeroPoint: 1, default: .uint8)
            let y = try ctx.q8Param(scale: 0, zeroPoint: 1, type: yType, "output Y")
            let first = try ctx.input(2, Q8Type.types)
            let axis = try ctx.axis(ctx.int("axis", 0), rank: first.rank)
            var parts: [Q8ConcatPart] = []
            var total = 0
            for i in stride(from: 2, to: ctx.inputCount, by: 3) {
                let t = try ctx.input(i, Q8Type.types)
                guard t.rank == first.rank, t.shape.indices.allSatisfy({ $0 == axis || t.shape[$0] == first.shape[$0] }) else {
                    throw ctx.fail("input \(i) \(t.shape) does not match \(first.shape) outside axis \(axis)")
                }
                let x = try ctx.q8Param(scale: i + 1, zeroPoint: i + 2, type: t.elementType, "input \(i)")
                var p = flotilla_q8_rescale_params()
                try q8Check(ctx, flotilla_q8_rescale_params_init(&p, x.cType, x.scale, x.zeroPoint, y.cType, y.scale, y.zeroPoint),
                            "requantizing input \(i) to the output")
                let inner = t.shape[axis...].reduce(1, *)
                parts.append(Q8ConcatPart(input: i, inner: inner, offset: total, copy: x == y, params: p))
                total += inner
            }
            var shape = first.shape
            shape[axis] = parts.reduce(0) { $0 + $1.inner } / max(1, first.shape[(axis + 1)...].reduce(1, *))
            let outer = first.shape[..<axis].reduce(1, *)
            let table = ctx.kernels.q8
            return .kernel(outputs: [ValueType(yType, shape)], workspaceBytes: 0) { b in
                Q8ConcatKernel(table: table, parts: parts, inputs: parts.map { b.input($0.input) }, outer: outer, total: total,
                               output: b.outputs[0])
            }
        }
    }
}

struct Q8ConcatPart {
    let input: Int
    /// Bytes of one outer slice of this input, and where they go in the output's slice.
    let inner, offset: Int
    let copy: Bool
    let params: flotilla_q8_rescale_params
}

final class Q8ConcatKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let table: UnsafePointer<flotilla_q8_kernels>
    let parts: [Q8ConcatPart]
    let inputs: [Buffer]
    let outer, total: Int
    let output: Buffer

    init(table: UnsafePointer<flotilla_q8_kernels>, parts: [Q8ConcatPart], inputs: [Buffer], outer: Int, total: Int, output: Buffer) {
        self.table = table
        self.parts = parts
        self.inputs = inputs
        self.outer = outer
        self.total = total
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        let dst = memory.typed(output, UInt8.self)
        for (part, buf) in zip(parts, inputs) {
            let src = memory.typed(buf, UInt8.self)
            var p = part.params
            for o in 0..<outer {
                let from = src + o * part.inner, to = dst + o * total + part.offset
                if part.copy { to.update(from: from, count: part.inner) } else { table.pointee.rescale?(part.inner, from, to, &p) }
            }
        }
    }
}
