import Foundation
import ModelIR

/// Softmax and LogSoftmax over one axis (the canonical opset-13+ form), numerically stable
/// (the row maximum is subtracted first).
extension OpRegistry {
    mutating func registerSoftmax() {
        register("Softmax") { ctx in try planSoftmax(ctx, log: false) }
        register("LogSoftmax") { ctx in try planSoftmax(ctx, log: true) }
        register("Hardmax") { ctx in try planSoftmax(ctx, log: false, hard: true) }
    }
}

private func planSoftmax(_ ctx: NodePlanContext, log: Bool, hard: Bool = false) throws -> PlannedOp {
    let x = try ctx.input(0, floatOnly)
    guard x.rank > 0 else { throw ctx.fail("input must have rank ≥ 1") }
    let axis = try ctx.axis(ctx.int("axis", -1), rank: x.rank)
    let outer = x.shape[..<axis].reduce(1, *), length = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
    return .kernel(outputs: [x], workspaceBytes: 0) { b in
        SoftmaxKernel(input: b.input(0), output: b.outputs[0], outer: outer, length: length, inner: inner, log: log, hard: hard)
    }
}

final class SoftmaxKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let outer, length, inner: Int
    let log, hard: Bool

    init(input: Buffer, output: Buffer, outer: Int, length: Int, inner: Int, log: Bool, hard: Bool) {
        self.input = input
        self.output = output
        self.outer = outer
        self.length = length
        self.inner = inner
        self.log = log
        self.hard = hard
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.floats(output)
        guard length > 0 else { return }
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var m = -Float.infinity
                var argmax = 0
                for k in 0..<length where x[base + k * inner] > m {
                    m = x[base + k * inner]
                    argmax = k
                }
                if hard {
                    for k in 0..<length { y[base + k * inner] = k == argmax ? 1 : 0 }
                    continue
                }
                var sum: Float = 0
                for k in 0..<length {
                    let e = Foundation.exp(x[base + k * inner] - m)
                    sum += e
                    if !log { y[base + k * inner] = e }
                }
                if log {
                    let l = Foundation.log(sum)
                    for k in 0..<length { y[base + k * inner] = x[base + k * inner] - m - l }
                } else {
                    for k in 0..<length { y[base + k * inner] /= sum }
                }
            }
        }
    }
}
